/**
 * Pure validation predicates of the WebSocket layer (close codes, close reasons, subprotocols,
 * messages), tested without sockets. The `check*` functions throw {@link InvalidArgumentError}
 * with a message naming the value at fault.
 */
import { InvalidArgumentError } from '../errors.js';
import { isToken } from '../http-syntax.js';
import { utf8Length } from '../utf8.js';

/** Headers the handshake sets; a user may not set them. (`connection`/`upgrade` are the core's.) */
export const HANDSHAKE_HEADERS: ReadonlySet<string> = new Set([
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
]);

/** Longest close reason, in UTF-8 bytes: a close frame's payload is at most 125 bytes, 2 of them the code. */
export const MAX_REASON_BYTES = 123;

/**
 * Whether `code` may be sent in a close frame (RFC 6455 §7.4): 1000–1003, 1007–1014 and
 * 3000–4999. 1004, 1005, 1006 and 1015 are reserved and never sent; 1016–2999 are reserved for
 * future versions of the protocol. The same rule as ws's `isValidStatusCode`.
 */
export function isValidCloseCode(code: unknown): code is number {
  return (
    typeof code === 'number' &&
    Number.isInteger(code) &&
    ((code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999))
  );
}

/** Whether `reason` fits in a close frame: a string of at most 123 bytes in UTF-8. */
export function isValidCloseReason(reason: unknown): reason is string {
  return typeof reason === 'string' && utf8Length(reason) <= MAX_REASON_BYTES;
}

/** Whether `name` is a valid subprotocol: an HTTP token (RFC 6455 §4.1, `Sec-WebSocket-Protocol`). */
export function isSubprotocol(name: unknown): name is string {
  return typeof name === 'string' && isToken(name);
}

/** Whether `data` can be sent as one message: text (`string`) or binary (`Uint8Array`, `Buffer`). */
export function isMessage(data: unknown): data is string | Uint8Array {
  return typeof data === 'string' || data instanceof Uint8Array;
}

/** Throws unless `code` and `reason` make a valid close frame. */
export function checkClose(code: unknown, reason: unknown): void {
  if (!isValidCloseCode(code)) {
    throw new InvalidArgumentError(`close code ${String(code)} is not allowed: use 1000–1003, 1007–1014 or 3000–4999`);
  }
  if (typeof reason !== 'string') throw new InvalidArgumentError(`close reason must be a string (got ${typeof reason})`);
  if (!isValidCloseReason(reason)) {
    throw new InvalidArgumentError(`close reason is ${utf8Length(reason)} bytes in UTF-8: at most ${MAX_REASON_BYTES} are allowed`);
  }
}

/** Throws unless `protocols` is a list of distinct subprotocol tokens; returns it as an array. */
export function checkSubprotocols(protocols: unknown): readonly string[] {
  const list = typeof protocols === 'string' ? [protocols] : protocols;
  if (!Array.isArray(list)) throw new InvalidArgumentError('websocket options.protocols must be a string or an array of strings');
  const seen = new Set<string>();
  for (const name of list) {
    if (!isSubprotocol(name)) throw new InvalidArgumentError(`websocket subprotocol ${JSON.stringify(name)} is not a valid token`);
    if (seen.has(name)) throw new InvalidArgumentError(`websocket subprotocol ${JSON.stringify(name)} is listed twice`);
    seen.add(name);
  }
  return [...list] as string[];
}
