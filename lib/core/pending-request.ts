/**
 * One subscribed request as the core sees it: queued (waiting for a connection or a free
 * stream), active on a session, or settled. It settles exactly once; a stream the server never
 * processed may go back to the queue before that (see {@link PendingRequest.unprocessed}).
 */
import type { Subscription, Unsubscribable } from 'rxjs';
import type { RequestTrace } from './diagnostics.js';
import type { ResponseEvent } from './events.js';
import type { PreparedRequest } from './request-init.js';
import type { ResponseObserver } from './request-observable.js';
import { UnsupportedError } from './errors.js';
import type { RxconnError } from './errors.js';
import type { Session, StreamFlow, StreamHandle, Switched, UpgradeSink } from './session.js';

/** Set for a protocol upgrade instead of a plain request. */
export interface UpgradeIntent {
  readonly protocol: string;
  /** The socket was handed over (the request is settled by then). */
  readonly onSwitched: (switched: Switched) => void;
}

/** What a request tells its table. */
export interface PendingHooks {
  /** Called once, when it settles; `completed` when its response ended normally (or it switched protocols). */
  onSettled(request: PendingRequest, completed: boolean): void;
  /** Its session handed it back unprocessed: the table re-queues it or errors it. */
  onUnprocessed(request: PendingRequest, error: RxconnError, certain: boolean): void;
}

export class PendingRequest implements UpgradeSink, Unsubscribable {
  /** The session it runs on, once started. */
  session: Session | undefined;
  /** How many times a session handed it back unprocessed. */
  handedBack = 0;
  /** Hand-backs counted against `MAX_FRUITLESS_RESENDS` (see `stream-table.ts`). */
  fruitless = 0;
  /** Its session's completed responses when it started there: more by its hand-back is progress. */
  startMark = 0;
  /** The `request.timeout` timer, if any. */
  deadline: Subscription | undefined;
  /** Its neighbours in its table's list of active streams (see stream-table.ts). */
  older: PendingRequest | undefined;
  newer: PendingRequest | undefined;
  /** The stream on the wire, while it is in flight. */
  #stream: StreamHandle | undefined;
  /** Unbinds `request.flow` from the current stream. */
  #unbind: (() => void) | undefined;
  #settled = false;
  /** A response head reached the subscriber: it can no longer be sent again. */
  #responded = false;

  constructor(
    readonly request: PreparedRequest,
    readonly subscriber: ResponseObserver,
    readonly hooks: PendingHooks,
    readonly upgrade?: UpgradeIntent,
    /** Set when someone listens to the request diagnostics channels. */
    readonly trace?: RequestTrace,
  ) {}

  get settled(): boolean {
    return this.#settled;
  }

  /** Whether its subscriber hears informational responses (the diagnostics channels publish none). */
  get informs(): boolean {
    return this.subscriber.informs !== false;
  }

  /** Whether anything of the response reached the subscriber. */
  get responded(): boolean {
    return this.#responded;
  }

  /** Starts it on `session`. */
  start(session: Session): void {
    this.session = session;
    this.trace?.sent(session.protocol, session.socket);
    let stream: StreamHandle;
    if (!this.upgrade) {
      stream = session.start(this.request, this);
    } else if (session.upgrade) {
      stream = session.upgrade(this.request, this.upgrade.protocol, this);
    } else {
      this.error(new UnsupportedError(`a protocol upgrade needs HTTP/1.1; this connection speaks ${session.protocol === 'http2' ? 'HTTP/2' : session.protocol}`));
      return;
    }
    // A session may settle (or hand back) the stream synchronously, e.g. an immediate write failure.
    if (this.#settled || this.session !== session) stream.cancel();
    else this.#stream = stream;
  }

  flow(control: StreamFlow): void {
    this.#unbind?.();
    this.#unbind = this.request.flow?.bind(control);
  }

  next(event: ResponseEvent): void {
    if (this.#settled) return;
    this.#responded = true;
    this.trace?.event(event);
    this.subscriber.next(event);
  }

  error(error: Error): void {
    if (this.#settle(false, error)) this.subscriber.error(error);
    this.#stream = undefined;
  }

  complete(): void {
    if (this.#settle(true)) this.subscriber.complete();
    this.#stream = undefined;
  }

  unprocessed(error: RxconnError, certain: boolean): void {
    if (this.#settled) return;
    this.hooks.onUnprocessed(this, error, certain);
  }

  /** Back to the queued state, to be started again on another (or the same) session. */
  requeue(): void {
    this.session = undefined;
    this.#stream = undefined;
    this.#unbind?.();
    this.#unbind = undefined;
    this.handedBack++;
  }

  switched(switched: Switched): void {
    this.#stream = undefined;
    if (this.#settle(true)) this.upgrade?.onSwitched(switched);
    else switched.socket.destroy();
  }

  /**
   * Ends it from our side, then errors it: `cancel` (a timeout) also stops it on the wire; a
   * connection loss or close does not, the session being gone.
   */
  fail(error: Error, cancel: boolean): void {
    if (!this.#settle(false, error)) return;
    if (cancel) this.#stream?.cancel();
    this.subscriber.error(error);
  }

  /** The subscriber unsubscribed (or it settled): stop its timer, and cancel it on the wire if it is in flight. */
  unsubscribe(): void {
    this.deadline?.unsubscribe();
    if (this.#settle(false)) this.#stream?.cancel();
  }

  #settle(completed: boolean, error?: Error): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#unbind?.();
    this.#unbind = undefined;
    this.trace?.settled(completed, error);
    this.hooks.onSettled(this, completed);
    return true;
  }
}
