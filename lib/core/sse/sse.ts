/**
 * `conn.sse(path)`: one Server-Sent Events request, cold.
 */
import { Observable, defer } from 'rxjs';
import type { ConnectionState, ResponseEvent } from '../events.js';
import type { RequestInit } from '../request-init.js';
import type { SseEvent } from './event.js';
import { eventStreamRequest, resolveEventSourceOptions } from './options.js';
import type { SseInit } from './options.js';
import { readEventStream } from './read.js';

/** What the SSE functions need of a connection. */
export interface SseConnection {
  request(init: RequestInit): Observable<ResponseEvent>;
  readonly state$: Observable<ConnectionState>;
}

/**
 * One Server-Sent Events request (`GET path` with `accept: text/event-stream` by default; any
 * method, headers and body of `init`): a **cold** Observable of {@link SseEvent}s. Each subscribe
 * sends the request; it completes when the response ends (an unfinished last event is
 * discarded), or at once on a 204; unsubscribing cancels the stream. It never reconnects: see
 * `eventSource()` for that. Errors as a request does, plus {@link SseResponseError} (a status
 * other than 200 or 204, or a content-type other than `text/event-stream`), and
 * `RXCONN_INVALID_BODY` when a line or event exceeds `maxEventSize`.
 *
 * @example
 * conn.sse('/prices', { lastEventId: saved }).subscribe(event => console.log(event.type, event.data, event.id));
 */
export function sse(conn: SseConnection, path: string, init?: SseInit): Observable<SseEvent> {
  return defer(() => {
    const options = resolveEventSourceOptions(path, init, false);
    const cursor = { lastEventId: options.lastEventId, retry: undefined };
    return readEventStream(conn.request(eventStreamRequest(options, cursor.lastEventId)), cursor, options.maxEventSize);
  });
}
