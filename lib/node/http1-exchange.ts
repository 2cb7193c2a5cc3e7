/**
 * One HTTP/1.1 request/response on the socket, as the session tracks it: where the response's
 * events go (the parser's {@link ResponseHandler}), and the state of the request body being sent.
 */
import type { Subscription } from 'rxjs';
import type { RxconnError } from '../core/errors.js';
import type { Headers } from '../core/events.js';
import type { StreamHandle, StreamSink, UpgradeSink } from '../core/session.js';
import type { ResponseHandler } from './http1-parser.js';
import { retireAfter } from './http1-keep-alive.js';
import type { SendStallWatch } from './send-stall.js';

/** What an exchange, its request writer and a discarded response report to their session. */
export interface ExchangeSession {
  /** A 101 arrived for `exchange`. */
  switching(exchange: Exchange, headers: Headers): void;
  /** The current response ended (delivered or discarded). */
  responseEnded(exchange: Exchange, reusable: boolean): void;
  /** `exchange`'s request body stopped being taken for `sendTimeout` ms. */
  bodyStalled(exchange: Exchange): void;
  /** `exchange`'s request body failed (its Observable errored) after part of the request was written. */
  bodyFailed(exchange: Exchange, error: Error): void;
  /** The core gave up on `exchange` while it was in flight. */
  cancel(exchange: Exchange): void;
  /** Closes the socket now when the rest of a cancelled response cannot be drained within bounds; returns whether it did. */
  weighDrain(headers: Headers | undefined): boolean;
  destroy(error: RxconnError): void;
}

/** One request/response on the socket; it is also the request's {@link StreamHandle}. */
export class Exchange implements ResponseHandler, StreamHandle {
  body: Subscription | undefined;
  bodyDone = false;
  /** The bound on a request body the peer stopped taking (`sendTimeout`). */
  stall: SendStallWatch | undefined;
  /** A byte arrived while this exchange was current. */
  answered = false;
  /** The idle time after which the server said it closes the socket (keep-alive hint), in ms. */
  retireAfter: number | undefined;
  /** The response head, once it came (a cancel looks at its content-type). */
  headers: Headers | undefined;
  constructor(
    readonly session: ExchangeSession,
    public sink: StreamSink,
    /** Written onto a socket that had carried a response before. */
    readonly reused: boolean,
    /** Set for an upgrade request: where the socket goes on a 101. */
    readonly upgrade?: UpgradeSink,
  ) {}
  cancel(): void {
    this.session.cancel(this);
  }
  onInform(status: number, headers: Headers): void {
    this.sink.next({ type: 'inform', status, headers });
  }
  onHead(status: number, headers: Headers): void {
    if (status === 101) {
      this.session.switching(this, headers);
      return;
    }
    this.retireAfter = retireAfter(headers['keep-alive']);
    this.headers = headers;
    this.sink.next({ type: 'response', status, headers });
  }
  onData(chunk: Buffer): void {
    this.sink.next({ type: 'data', data: chunk });
  }
  onTrailers(headers: Headers): void {
    this.sink.next({ type: 'trailers', headers });
  }
  onEnd(reusable: boolean): void {
    this.sink.complete();
    this.session.responseEnded(this, reusable);
  }
}
