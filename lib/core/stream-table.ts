/**
 * The requests of one connection: those queued for a stream (waiting for a connection, or for a
 * free slot on its session) and those active on a session. It starts queued ones in order as
 * slots free up, bounds the queue, runs request timeouts and fails streams in bulk.
 */
import { timer } from 'rxjs';
import type { SchedulerLike, Subscriber } from 'rxjs';
import { QueueFullError, TimeoutError } from './errors.js';
import type { RxconnError } from './errors.js';
import type { ResponseEvent } from './events.js';
import type { RequestTrace } from './diagnostics.js';
import { PendingRequest } from './pending-request.js';
import type { UpgradeIntent } from './pending-request.js';
import type { PreparedRequest } from './request-init.js';
import type { Session } from './session.js';

/** What the table asks of, and tells, its connection. */
export interface StreamTableHooks {
  /** The session new streams may start on, if any. */
  currentSession(): Session | undefined;
  /** An active request settled; `completed` when its response ended normally. */
  onSettled(session: Session | undefined, completed: boolean): void;
}

export class StreamTable {
  readonly #queue = new Set<PendingRequest>();
  readonly #active = new Set<PendingRequest>();
  readonly #maxQueued: number;
  readonly #scheduler: SchedulerLike | undefined;
  readonly #hooks: StreamTableHooks;
  #pumping = false;

  constructor(maxQueued: number, scheduler: SchedulerLike | undefined, hooks: StreamTableHooks) {
    this.#maxQueued = maxQueued;
    this.#scheduler = scheduler;
    this.#hooks = hooks;
  }

  /** Streams in flight. */
  get active(): number {
    return this.#active.size;
  }

  /** Requests waiting for a stream. */
  get queued(): number {
    return this.#queue.size;
  }

  /** Streams in flight on `session`. */
  activeOn(session: Session): number {
    let n = 0;
    for (const request of this.#active) if (request.session === session) n++;
    return n;
  }

  /**
   * Takes one validated request: starts it at once when the current session has a free stream
   * and nothing waits ahead of it, else queues it (or errors it with `RXCONN_QUEUE_FULL`).
   * Returns its teardown: cancel on unsubscribe.
   */
  submit(request: PreparedRequest, subscriber: Subscriber<ResponseEvent>, upgrade?: UpgradeIntent, trace?: RequestTrace): (() => void) | undefined {
    if (this.#queue.size >= this.#maxQueued) {
      const error = new QueueFullError(`too many requests waiting (options.maxQueued = ${this.#maxQueued})`);
      trace?.settled(false, error);
      subscriber.error(error);
      return undefined;
    }
    const pending = new PendingRequest(request, subscriber, this.#onSettled, upgrade, trace);
    const deadline = request.timeout;
    const deadline$ =
      deadline === undefined ? undefined : timer(deadline, this.#scheduler).subscribe(() => pending.fail(new TimeoutError(deadline), true));
    const session = this.#hooks.currentSession();
    if (this.#queue.size === 0 && !this.#pumping && session?.canStart()) {
      // The hot path: a free stream now, nothing queued ahead.
      this.#active.add(pending);
      pending.start(session);
    } else {
      this.#queue.add(pending);
      this.pump();
    }
    return () => {
      deadline$?.unsubscribe();
      pending.abort();
    };
  }

  /** Starts queued requests, in order, while the current session has room. */
  pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      for (const request of this.#queue) {
        const session = this.#hooks.currentSession();
        if (!session || !session.canStart()) break;
        this.#queue.delete(request);
        this.#active.add(request);
        request.start(session);
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** Errors every queued request (nothing of them was sent). */
  rejectQueued(error: RxconnError): void {
    for (const request of [...this.#queue]) request.fail(error, false);
  }

  /**
   * Errors the active streams of `session` (all of them when omitted) with `errorFor()`, without
   * touching the wire: their session is gone. Returns how many it killed.
   */
  failActive(errorFor: () => RxconnError, session?: Session): number {
    let killed = 0;
    for (const request of [...this.#active]) {
      if (session && request.session !== session) continue;
      killed++;
      request.fail(errorFor(), false);
    }
    return killed;
  }

  readonly #onSettled = (request: PendingRequest, completed: boolean): void => {
    if (this.#queue.delete(request)) return;
    if (this.#active.delete(request)) this.#hooks.onSettled(request.session, completed);
  };
}
