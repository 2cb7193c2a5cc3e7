/**
 * The rest of a cancelled HTTP/1.1 response, read and dropped to keep the socket. Once a request
 * is fully written, cancelling it leaves its response on the wire: reading that to its end, up to
 * {@link DRAIN_LIMIT} bytes and {@link DRAIN_TIMEOUT} ms, keeps the socket for the next request;
 * a larger or slower remainder closes the socket instead, and the connection reconnects. A
 * remainder known to be too large (by its content-length, or because the connection closes after
 * it) and an event stream (which does not end by itself) close the socket at once, without
 * reading: the requests queued behind it need not wait for the bounds.
 */
import { ConnectionDownError } from '../core/errors.js';
import type { Headers } from '../core/events.js';
import type { StreamSink } from '../core/session.js';
import { isEventStream } from '../core/sse/read.js';
import type { Exchange, ExchangeSession } from './http1-exchange.js';
import type { ResponseHandler } from './http1-parser.js';

/** Most bytes read and discarded to keep the socket after a cancel. */
export const DRAIN_LIMIT = 64 * 1024;
/** Longest wait for the rest of a cancelled response before closing the socket instead, in ms. */
export const DRAIN_TIMEOUT = 2_000;

/** The sink of a cancelled exchange: nobody waits for its events any more. */
export const DISCARD: StreamSink = { next: () => {}, error: () => {}, complete: () => {}, unprocessed: () => {} };

/**
 * Why the rest of a cancelled response cannot be drained within the bounds, judged from what is
 * known of it so far (the parser's `bodyLeft`, the response head if it came); `undefined` when it
 * may be. The session decides how the socket goes (see `Http1Session.weighDrain`).
 */
export function undrainable(bodyLeft: number | undefined, headers: Headers | undefined): ConnectionDownError | undefined {
  if (bodyLeft === Infinity) return new ConnectionDownError('a cancelled response ends only with its connection: the socket was closed');
  if (bodyLeft !== undefined && bodyLeft > DRAIN_LIMIT) {
    return new ConnectionDownError(`a cancelled response has ${bodyLeft} bytes left, more than the ${DRAIN_LIMIT} read to keep the socket: the socket was closed`);
  }
  if (headers && isEventStream(headers['content-type'])) return new ConnectionDownError('a cancelled event stream does not end by itself: the socket was closed');
  return undefined;
}

/** Receives the rest of a cancelled response and drops it, within {@link DRAIN_LIMIT} and {@link DRAIN_TIMEOUT}. */
export class DiscardHandler implements ResponseHandler {
  #discarded = 0;
  readonly #timer: NodeJS.Timeout;
  constructor(
    readonly exchange: Exchange,
    readonly session: ExchangeSession,
  ) {
    this.#timer = setTimeout(drainTimedOut, DRAIN_TIMEOUT, session);
  }
  /** The response ended, or the session closed: the time bound no longer applies. */
  stop(): void {
    clearTimeout(this.#timer);
  }
  onInform(): void {}
  onHead(status: number, headers: Headers): void {
    // A cancelled upgrade that the server accepted: what follows is not HTTP, the socket cannot be kept.
    if (status === 101) {
      this.session.destroy(new ConnectionDownError('the server accepted a cancelled upgrade (101): the socket was closed'));
      return;
    }
    this.session.weighDrain(headers);
  }
  onData(chunk: Buffer): void {
    this.#discarded += chunk.length;
    if (this.#discarded > DRAIN_LIMIT) {
      this.session.destroy(new ConnectionDownError(`a cancelled response exceeded ${DRAIN_LIMIT} bytes: the socket was closed`));
    }
  }
  onTrailers(): void {}
  onEnd(reusable: boolean): void {
    this.session.responseEnded(this.exchange, reusable);
  }
}

function drainTimedOut(session: ExchangeSession): void {
  session.destroy(new ConnectionDownError(`a cancelled response did not end within ${DRAIN_TIMEOUT} ms: the socket was closed`));
}
