/**
 * The cold Observable of one request, as `Connection.request()` and its shorthands return it.
 * It is an ordinary Observable of {@link ResponseEvent}s; what it adds is that a collecting
 * operator piped straight onto it (`text()`, `json()`, `body()`, see collect.ts) can send the
 * request itself with its collector as the receiver of the events, instead of subscribing to it:
 * one subscription per request instead of two, on every user's request path.
 */
import { Observable } from 'rxjs';
import type { Unsubscribable } from 'rxjs';
import type { ResponseEvent } from './events.js';

/** What receives one request's events: its subscriber, or a fused collector. */
export interface ResponseObserver {
  next(event: ResponseEvent): void;
  error(error: unknown): void;
  complete(): void;
}

/** Sends the request to `observer`; returns its teardown (cancel on unsubscribe), if any. */
export type SendRequest = (observer: ResponseObserver) => Unsubscribable | undefined;

export class RequestObservable extends Observable<ResponseEvent> {
  constructor(readonly send: SendRequest) {
    super(send);
  }
}
