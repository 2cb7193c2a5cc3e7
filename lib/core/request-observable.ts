/**
 * The cold Observable of one request, as `Connection.request()` and its shorthands return it.
 * It is an ordinary Observable of {@link ResponseEvent}s; what it adds is that a collecting
 * operator piped straight onto it (`text()`, `json()`, `body()`, see collect.ts) can send the
 * request itself with its collector as the receiver of the events, instead of subscribing to it:
 * one subscription per request instead of two, on every user's request path.
 *
 * It keeps its connection and its init as fields, and subscribes through one function shared by
 * every request: no closure and no context per request (each would stay alive while the
 * request is in flight, and be copied by every scavenge at high concurrency).
 */
import { Observable } from 'rxjs';
import type { Subscriber, Unsubscribable } from 'rxjs';
import type { ResponseEvent } from './events.js';
import type { Lifecycle } from './lifecycle.js';
import type { UpgradeIntent } from './pending-request.js';
import { prepareRequest } from './request-init.js';
import type { RequestInit } from './request-init.js';

/** What receives one request's events: its subscriber, or a fused collector. */
export interface ResponseObserver {
  /** `false` when it drops `inform` events (1xx); absent means it takes them. */
  readonly informs?: boolean;
  next(event: ResponseEvent): void;
  error(error: unknown): void;
  complete(): void;
}

/** Validates one request and hands it to the connection's stream table; returns its teardown (cancel on unsubscribe), if any. */
export function submitRequest(life: Lifecycle, init: RequestInit, observer: ResponseObserver, upgrade?: UpgradeIntent): Unsubscribable | undefined {
  let request;
  try {
    request = prepareRequest(init, life.options.headers);
  } catch (error) {
    observer.error(error);
    return undefined;
  }
  const trace = life.diagnostics?.request(request);
  if (trace) request = trace.request;
  const refusal = life.refusal();
  if (refusal) {
    trace?.settled(false, refusal);
    observer.error(refusal);
    return undefined;
  }
  return life.streams.submit(request, observer, upgrade, trace);
}

/** Every request's subscribe function; RxJS calls it as a method of the Observable. */
function subscribeRequest(this: Observable<ResponseEvent>, subscriber: Subscriber<ResponseEvent>): Unsubscribable | undefined {
  return (this as RequestObservable).send(subscriber);
}

export class RequestObservable extends Observable<ResponseEvent> {
  readonly #life: Lifecycle;
  readonly #init: RequestInit;

  constructor(life: Lifecycle, init: RequestInit) {
    super(subscribeRequest);
    this.#life = life;
    this.#init = init;
  }

  /** Sends the request to `observer`; returns its teardown (cancel on unsubscribe), if any. */
  send(observer: ResponseObserver): Unsubscribable | undefined {
    return submitRequest(this.#life, this.#init, observer);
  }
}
