/**
 * The error of a response that is not an event stream: a status other than 200 (204 is the
 * server's "stop", not an error) or a content-type other than `text/event-stream`.
 */
import { ProtocolError } from '../errors.js';
import type { Headers } from '../events.js';

/**
 * The server answered an SSE request with something other than an event stream. `status`,
 * `headers` and `body` (its first 64 KiB) are the server's answer. Its code is
 * `RXCONN_PROTOCOL`; the reconnecting `eventSource()` does not retry it (as a browser's
 * `EventSource` fails the connection for good).
 *
 * @example
 * conn.sse('/feed').subscribe({ error: e => e instanceof SseResponseError && console.log(e.status, e.text) });
 */
export class SseResponseError extends ProtocolError {
  override readonly retryable = false;
  constructor(
    message: string,
    /** The response status. */
    readonly status: number,
    /** The response headers. */
    readonly headers: Headers,
    /** The start of the response body (at most 64 KiB). */
    readonly body: Uint8Array,
  ) {
    super(message);
  }

  /** The body decoded as UTF-8. */
  get text(): string {
    return new TextDecoder().decode(this.body);
  }
}

/** Most bytes of a refused response's body kept on the error. */
export const MAX_REFUSED_BODY = 64 * 1024;
