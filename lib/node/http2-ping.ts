/**
 * Our HTTP/2 PINGs (keepalive and `ping()`). Each carries a fresh random payload that its ACK
 * must echo: node pairs ACKs with PINGs in order without looking at the payload, so a server's
 * ACK for a PING we never sent would otherwise pass for an answer.
 */
import { randomBytes } from 'node:crypto';
import type { ClientHttp2Session } from 'node:http2';
import { ProtocolError } from '../core/errors.js';

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
