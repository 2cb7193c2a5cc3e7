/**
 * The SETTINGS acknowledgement deadline of an HTTP/2 session (RFC 9113 §6.5.3): a server that
 * never acknowledges our SETTINGS has not applied them (our header list limit, our windows, push
 * refused), so the session is only half working. Gun closes such a connection after 5 s with
 * GOAWAY(SETTINGS_TIMEOUT); rxconn bounds it by `connectTimeout`, since the SETTINGS exchange is
 * the last step of setting the connection up.
 */
import type { ClientHttp2Session } from 'node:http2';

/**
 * Calls `expired` if `session` still waits for the acknowledgement of its SETTINGS after
 * `timeout` ms. The watch ends by itself on the acknowledgement or the session's close, and then
 * nothing of it stays reachable from the session.
 */
export function watchSettingsAck(session: ClientHttp2Session, timeout: number, expired: () => void): void {
  const stop = (): void => {
    clearTimeout(timer);
    session.off('localSettings', stop);
    session.off('close', stop);
  };
  const timer = setTimeout(() => {
    stop();
    if (session.pendingSettingsAck && !session.destroyed) expired();
  }, timeout);
  session.on('localSettings', stop);
  session.on('close', stop);
}
