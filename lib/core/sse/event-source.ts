/**
 * `conn.eventSource(path)`: a shared Server-Sent Events stream that re-requests after the
 * response ends or the stream is lost, sending `Last-Event-ID` and honouring the server's
 * `retry:` within bounds — what a browser's `EventSource` does, with headers, any method, and
 * control of the delays.
 */
import { EMPTY, Observable, defer, filter, repeat, retry, share, takeUntil, tap, throwError, timer } from 'rxjs';
import type { SchedulerLike } from 'rxjs';
import {
  ConnectTimeoutError,
  ConnectionDownError,
  KeepaliveTimeoutError,
  NoResponseError,
  ProtocolError,
  StreamRefusedError,
  StreamResetError,
  TimeoutError,
} from '../errors.js';
import type { SseCursor } from './decoder.js';
import type { SseEvent } from './event.js';
import { eventStreamRequest, resolveEventSourceOptions } from './options.js';
import type { EventSourceOptions, ResolvedEventSourceOptions } from './options.js';
import { readEventStream } from './read.js';
import { SseResponseError } from './response-error.js';
import type { SseConnection } from './sse.js';

/** Failures a new request may fix: the stream or the connection was lost, or the request timed out. */
function isTransient(error: unknown): boolean {
  if (error instanceof SseResponseError) return false;
  return (
    error instanceof ConnectionDownError ||
    error instanceof StreamResetError ||
    error instanceof StreamRefusedError ||
    error instanceof NoResponseError ||
    error instanceof TimeoutError ||
    error instanceof ConnectTimeoutError ||
    error instanceof KeepaliveTimeoutError ||
    error instanceof ProtocolError
  );
}

/**
 * A reconnecting Server-Sent Events source on a connection (see `conn.eventSource()`): a
 * **shared, lazy** Observable of {@link SseEvent}s. The first subscriber sends the request, later
 * ones share it, and the last unsubscribe cancels it (the last event ID is kept: a new subscriber
 * resumes from it).
 *
 * When the response ends, or the stream or the connection is lost (`RXCONN_CONNECTION_DOWN`,
 * `RXCONN_STREAM_RESET`, `RXCONN_STREAM_REFUSED`, `RXCONN_TIMEOUT`, ...), it waits the
 * reconnection time and requests again with `Last-Event-ID`; a request made while the connection
 * reconnects waits for it. The reconnection time is the server's `retry:` (else
 * `reconnectDelay`), within [`minReconnectDelay`, `maxReconnectDelay`], doubled for each attempt
 * in a row that delivered no event (up to `maxReconnectDelay`).
 *
 * It **completes** on a 204 (for good: a later subscriber completes at once) and when the
 * connection shuts down or is closed (`conn.shutdown()`, `conn.close()`). It **errors**, without
 * reconnecting, with {@link SseResponseError} (another status, or not `text/event-stream`),
 * `RXCONN_INVALID_BODY` (`maxEventSize`), or the connection's failure.
 */
export class ReconnectingEventSource extends Observable<SseEvent> {
  readonly #options: ResolvedEventSourceOptions;
  readonly #cursor: SseCursor;
  readonly #shared: Observable<SseEvent>;
  /** Attempts in a row that delivered no event. */
  #quiet = 0;
  #stopped = false;

  /** @internal Use `conn.eventSource()`. */
  constructor(conn: SseConnection, path: string, options: EventSourceOptions | undefined, scheduler: SchedulerLike | undefined) {
    const resolved = resolveEventSourceOptions(path, options, true);
    super(subscriber => {
      if (this.#stopped) {
        subscriber.complete();
        return undefined;
      }
      return this.#shared.subscribe(subscriber);
    });
    this.#options = resolved;
    this.#cursor = { lastEventId: resolved.lastEventId, retry: undefined };
    const wait = (): Observable<number> => timer(this.#nextDelay(), scheduler);
    const attempt = defer(() =>
      readEventStream(conn.request(eventStreamRequest(resolved, this.#cursor.lastEventId)), this.#cursor, resolved.maxEventSize, end => {
        if (end === 'no-content') this.#stopped = true;
      }),
    ).pipe(tap(() => (this.#quiet = 0)));
    this.#shared = attempt.pipe(
      repeat({ delay: () => (this.#stopped ? EMPTY : wait()) }),
      retry({ delay: (error: unknown) => (isTransient(error) ? wait() : throwError(() => error)) }),
      // A graceful shutdown of the connection ends the stream (it would never end by itself).
      takeUntil(conn.state$.pipe(filter(state => state === 'closing' || state === 'closed'))),
      share(),
    );
  }

  /** The last event ID: what the next request sends as `Last-Event-ID` (`''`: none). */
  get lastEventId(): string {
    return this.#cursor.lastEventId;
  }

  /** The reconnection time before backoff: the server's `retry:` or `reconnectDelay`, within the bounds, in ms. */
  get reconnectDelay(): number {
    const { reconnectDelay, minReconnectDelay, maxReconnectDelay } = this.#options;
    return Math.min(maxReconnectDelay, Math.max(minReconnectDelay, this.#cursor.retry ?? reconnectDelay));
  }

  #nextDelay(): number {
    const delay = Math.min(this.#options.maxReconnectDelay, this.reconnectDelay * 2 ** this.#quiet);
    this.#quiet++;
    return delay;
  }
}
