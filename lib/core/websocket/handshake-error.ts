/**
 * The error of a WebSocket opening handshake that did not succeed: the server refused the
 * upgrade (any status but 101), or its 101 broke the protocol (bad `sec-websocket-accept`, a
 * subprotocol or extension that was not offered).
 */
import { ProtocolError } from '../errors.js';
import type { Headers } from '../events.js';
import { decodeUtf8 } from '../utf8.js';

/**
 * The WebSocket opening handshake failed; `status`, `headers` and `body` are the server's answer
 * (`body` is the start of a refusal's body, at most 64 KiB; empty for a 101).
 * Its code is `RXCONN_PROTOCOL`; it is not retried by the reconnecting `webSocket()`.
 *
 * @example
 * chat.subscribe({ error: e => e instanceof WebSocketHandshakeError && console.log(e.status, e.text) });
 */
export class WebSocketHandshakeError extends ProtocolError {
  override readonly retryable = false;
  constructor(
    message: string,
    /** The response status (101 when the server switched but broke the handshake). */
    readonly status: number,
    /** The response headers. */
    readonly headers: Headers,
    /** The response body (its first 64 KiB). */
    readonly body: Uint8Array = new Uint8Array(0),
  ) {
    super(message);
  }

  /** The body decoded as UTF-8. */
  get text(): string {
    return decodeUtf8(this.body);
  }
}

/** Most bytes of a refusal's body kept on the error. */
export const MAX_REFUSAL_BODY = 64 * 1024;
