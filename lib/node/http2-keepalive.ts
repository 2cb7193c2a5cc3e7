/**
 * HTTP/2 keepalive: a PING every `interval`, and a deadline of `timeout` for its ACK. Each PING
 * of ours carries a fresh random payload that its ACK must echo: node pairs ACKs with PINGs in
 * order without looking at the payload, so a server's ACK for a PING we never sent would
 * otherwise pass for an answer.
 */
import { randomBytes } from 'node:crypto';
import type { ClientHttp2Session } from 'node:http2';
import { KeepaliveTimeoutError, ProtocolError } from '../core/errors.js';
import type { RxconnError } from '../core/errors.js';

/** Why a session ends when a PING ACK does not echo our payload. */
export function foreignAckError(): ProtocolError {
  return new ProtocolError('the server acknowledged a PING we did not send (its payload is not ours)');
}

/**
 * Sends one PING of ours. `done` gets node's error (the PING was cancelled or failed), or the
 * round-trip time and whether the ACK echoed something else (`foreign`: not an answer).
 * Throws when the session is already destroyed.
 */
export function sendPing(session: ClientHttp2Session, done: (error: Error | null, duration: number, foreign: boolean) => void): void {
  const payload = randomBytes(8);
  session.ping(payload, (error, duration, echoed) => done(error, duration, !error && !payload.equals(echoed)));
}

/**
 * Starts pinging `session`: the first PING goes out `interval` ms from now, the next one
 * `interval` ms after each ACK, so at most one PING is outstanding. A PING without an ACK
 * within `timeout` ms calls `onDead` once with a {@link KeepaliveTimeoutError}, at most
 * `interval + timeout` ms after the peer stopped answering; an ACK that is not ours calls it
 * with a {@link ProtocolError}. Returns the stop function, which clears every timer (none
 * outlives the session). A PING cancelled because the session is going away stops the
 * keepalive quietly: the session reports its own close.
 */
export function startKeepalive(
  session: ClientHttp2Session,
  interval: number,
  timeout: number,
  onDead: (error: RxconnError) => void,
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
    onDead(new KeepaliveTimeoutError(timeout));
  };

  const onAck = (error: Error | null, _duration: number, foreign: boolean): void => {
    if (stopped) return;
    if (timer !== undefined) clearTimeout(timer);
    if (error) {
      // ERR_HTTP2_PING_CANCEL: the session is being destroyed and will report why.
      stop();
      return;
    }
    if (foreign) {
      stop();
      onDead(foreignAckError());
      return;
    }
    timer = setTimeout(pingNow, interval);
  };

  function pingNow(): void {
    timer = undefined;
    if (stopped) return;
    timer = setTimeout(onDeadline, timeout);
    try {
      sendPing(session, onAck);
    } catch {
      // The session is already destroyed: its close event reports the reason.
      stop();
    }
  }

  timer = setTimeout(pingNow, interval);
  return stop;
}
