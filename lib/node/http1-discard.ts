/**
 * The rest of a cancelled HTTP/1.1 response, read and dropped to keep the socket. Once a request
 * is fully written, cancelling it leaves its response on the wire: reading that to its end, up to
 * {@link DRAIN_LIMIT} bytes and {@link DRAIN_TIMEOUT} ms, keeps the socket for the next request;
 * a larger or slower remainder closes the socket instead, and the connection reconnects.
 */
import { ConnectionDownError } from '../core/errors.js';
import type { StreamSink } from '../core/session.js';
import type { Exchange, ExchangeSession } from './http1-exchange.js';
import type { ResponseHandler } from './http1-parser.js';

/** Most bytes read and discarded to keep the socket after a cancel. */
export const DRAIN_LIMIT = 64 * 1024;
/** Longest wait for the rest of a cancelled response before closing the socket instead, in ms. */
export const DRAIN_TIMEOUT = 2_000;

/** The sink of a cancelled exchange: nobody waits for its events any more. */
export const DISCARD: StreamSink = { next: () => {}, error: () => {}, complete: () => {}, unprocessed: () => {} };

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
  onHead(status: number): void {
    // A cancelled upgrade that the server accepted: what follows is not HTTP, the socket cannot be kept.
    if (status === 101) this.session.destroy(new ConnectionDownError('the server accepted a cancelled upgrade (101): the socket was closed'));
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
