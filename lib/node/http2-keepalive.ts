/**
 * HTTP/2 keepalive: a PING every `interval`, and a deadline of `timeout` for its ACK.
 */
import type { ClientHttp2Session } from 'node:http2';

/**
 * Starts pinging `session`: the first PING goes out `interval` ms from now, the next one
 * `interval` ms after each ACK, so at most one PING is outstanding. A PING without an ACK
 * within `timeout` ms calls `onTimeout` once, which therefore fires at most
 * `interval + timeout` ms after the peer stopped answering. Returns the stop function, which
 * clears every timer (none outlives the session). A PING cancelled because the session is
 * going away stops the keepalive quietly: the session reports its own close.
 */
export function startKeepalive(
  session: ClientHttp2Session,
  interval: number,
  timeout: number,
  onTimeout: () => void,
): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const stop = (): void => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };

  const onDeadline = (): void => {
    timer = undefined;
    if (stopped) return;
    stop();
    onTimeout();
  };

  const onAck = (error: Error | null): void => {
    if (stopped) return;
    if (timer !== undefined) clearTimeout(timer);
    if (error) {
      // ERR_HTTP2_PING_CANCEL: the session is being destroyed and will report why.
      stop();
      return;
    }
    timer = setTimeout(sendPing, interval);
  };

  function sendPing(): void {
    timer = undefined;
    if (stopped) return;
    timer = setTimeout(onDeadline, timeout);
    try {
      session.ping(onAck);
    } catch {
      // The session is already destroyed: its close event reports the reason.
      stop();
    }
  }

  timer = setTimeout(sendPing, interval);
  return stop;
}
