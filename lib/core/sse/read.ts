/**
 * One response as an event stream: checks the status and content-type, then parses the body.
 * Shared by the cold `sse()` and the reconnecting `eventSource()`.
 */
import { Observable } from 'rxjs';
import { ProtocolError } from '../errors.js';
import type { Headers, ResponseEvent } from '../events.js';
import { EventStreamDecoder } from './decoder.js';
import type { SseCursor } from './decoder.js';
import type { SseEvent } from './event.js';
import { MAX_REFUSED_BODY, SseResponseError } from './response-error.js';

/** How one event-stream response ended (when it completed rather than errored). */
export type StreamEnd = 'ended' | 'no-content';

/** Whether a content-type header names `text/event-stream` (parameters allowed, case-insensitive). */
export function isEventStream(contentType: Headers[string] | undefined): boolean {
  if (typeof contentType !== 'string') return false;
  const semicolon = contentType.indexOf(';');
  const essence = (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return essence === 'text/event-stream';
}

/**
 * The events of one response. A 200 with `text/event-stream` is parsed (the cursor's last event
 * ID and retry are read and updated); a 204 completes with no event; anything else errors with
 * {@link SseResponseError} once its body ended or its first 64 KiB arrived. `onEnd` learns how
 * a completed response ended, just before completion.
 */
export function readEventStream(response$: Observable<ResponseEvent>, cursor: SseCursor, maxEventSize: number, onEnd?: (end: StreamEnd) => void): Observable<SseEvent> {
  return new Observable<SseEvent>(subscriber => {
    let decoder: EventStreamDecoder | undefined;
    let refused: { status: number; headers: Headers; reason: string; chunks: Uint8Array[]; size: number } | undefined;
    let noContent = false;
    let head = false;
    const refuse = (): void => {
      if (!refused) return;
      const body = new Uint8Array(Math.min(refused.size, MAX_REFUSED_BODY));
      let offset = 0;
      for (const chunk of refused.chunks) {
        const part = chunk.subarray(0, body.byteLength - offset);
        body.set(part, offset);
        offset += part.byteLength;
      }
      subscriber.error(new SseResponseError(`the server did not answer with an event stream: ${refused.reason}`, refused.status, refused.headers, body));
    };
    const subscription = response$.subscribe({
      next: event => {
        try {
          switch (event.type) {
            case 'response': {
              head = true;
              const contentType = event.headers['content-type'];
              if (event.status === 204) noContent = true;
              else if (event.status !== 200) refused = { status: event.status, headers: event.headers, reason: `status ${event.status}`, chunks: [], size: 0 };
              else if (!isEventStream(contentType)) {
                const reason = contentType === undefined ? 'no content-type' : `content-type ${JSON.stringify(String(contentType))}`;
                refused = { status: 200, headers: event.headers, reason: `${reason}, not text/event-stream`, chunks: [], size: 0 };
              } else decoder = new EventStreamDecoder(cursor, maxEventSize, sse => subscriber.next(sse));
              break;
            }
            case 'data':
              if (decoder) decoder.push(event.data);
              else if (refused) {
                refused.chunks.push(event.data);
                refused.size += event.data.byteLength;
                if (refused.size >= MAX_REFUSED_BODY) refuse();
              }
              break;
            // 1xx and trailers carry nothing for an event stream.
          }
        } catch (error) {
          subscriber.error(error);
        }
      },
      error: error => subscriber.error(error),
      complete: () => {
        if (refused) return refuse();
        if (!head) return subscriber.error(new ProtocolError('the response ended without a status'));
        try {
          decoder?.end();
        } catch (error) {
          return subscriber.error(error);
        }
        onEnd?.(noContent ? 'no-content' : 'ended');
        subscriber.complete();
      },
    });
    return subscription;
  });
}
