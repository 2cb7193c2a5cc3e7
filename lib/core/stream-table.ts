/**
 * The requests of one connection: those queued for a stream (waiting for a connection, or for a
 * free slot on its session) and those active on a session. It starts queued ones in order as
 * slots free up, bounds the queue, runs request timeouts, fails streams in bulk, and sends again
 * the streams a server never processed.
 */
import { timer } from 'rxjs';
import type { SchedulerLike, Unsubscribable } from 'rxjs';
import { fixedLength } from './body-source.js';
import { QueueFullError, TimeoutError } from './errors.js';
import type { RxconnError } from './errors.js';
import type { ResponseObserver } from './request-observable.js';
import type { RequestTrace } from './diagnostics.js';
import { PendingRequest } from './pending-request.js';
import type { PendingHooks, UpgradeIntent } from './pending-request.js';
import type { PreparedRequest } from './request-init.js';
import type { Session } from './session.js';

/** What the table asks of, and tells, its connection. */
export interface StreamTableHooks {
  /** The session new streams may start on, if any. */
  currentSession(): Session | undefined;
  /** How many responses `session` completed. */
  completions(session: Session): number;
  /** An active request settled; `completed` when its response ended normally. */
  onSettled(session: Session | undefined, completed: boolean): void;
}

/**
 * How many times one request may be handed back without progress before it errors: a hand-back
 * by a session that completed no response since the request started on it (a server refusing
 * everything). One with progress (a rotation: GOAWAY after n streams served) is not counted…
 */
export const MAX_FRUITLESS_RESENDS = 5;
/** …but no request is sent more than this many times in all. */
export const MAX_RESENDS = 25;

/** RFC 9110 §9.2.2: methods whose repetition has the same effect as one request. */
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

const NONE: ReadonlySet<PendingRequest> = new Set();

export class StreamTable implements PendingHooks {
  /** Made on first use and let go when empty: an idle connection (hours, by the thousand) holds no queue. */
  #queue: Set<PendingRequest> | undefined;
  /** Requests handed back unprocessed: they go out again before the queue, in the order they first went out. */
  #resend: PendingRequest[] = [];
  /*
   * The active streams, oldest first: a list linked through the requests themselves (`older`,
   * `newer`), so that starting and settling one allocates nothing, and an idle connection holds
   * nothing but two empty fields.
   */
  #oldest: PendingRequest | undefined;
  #newest: PendingRequest | undefined;
  #activeCount = 0;
  readonly #maxQueued: number;
  readonly #scheduler: SchedulerLike | undefined;
  readonly #hooks: StreamTableHooks;
  #pumping = false;
  #pumpScheduled = false;

  constructor(maxQueued: number, scheduler: SchedulerLike | undefined, hooks: StreamTableHooks) {
    this.#maxQueued = maxQueued;
    this.#scheduler = scheduler;
    this.#hooks = hooks;
  }

  /** Streams in flight. */
  get active(): number {
    return this.#activeCount;
  }

  /** Requests waiting for a stream. */
  get queued(): number {
    return (this.#queue?.size ?? 0) + this.#resend.length;
  }

  /** Whether `session` served streams: a complete response, or streams still active on it. */
  served(session: Session): boolean {
    return this.#hooks.completions(session) > 0 || this.activeOn(session) > 0;
  }

  /** Streams in flight on `session`. */
  activeOn(session: Session): number {
    let n = 0;
    for (let request = this.#oldest; request; request = request.newer) if (request.session === session) n++;
    return n;
  }

  /**
   * Takes one validated request: starts it at once when the current session has a free stream
   * and nothing waits ahead of it, else queues it (or errors it with `RXCONN_QUEUE_FULL`).
   * Returns its teardown (the request itself): cancel on unsubscribe.
   */
  submit(request: PreparedRequest, subscriber: ResponseObserver, upgrade?: UpgradeIntent, trace?: RequestTrace): Unsubscribable | undefined {
    if (this.queued >= this.#maxQueued) {
      const error = new QueueFullError(`too many requests waiting (options.maxQueued = ${this.#maxQueued})`);
      trace?.settled(false, error);
      subscriber.error(error);
      return undefined;
    }
    const pending = new PendingRequest(request, subscriber, this, upgrade, trace);
    const deadline = request.timeout;
    if (deadline !== undefined && deadline !== Infinity) {
      pending.deadline = timer(deadline, this.#scheduler).subscribe(() => pending.fail(new TimeoutError(deadline), true));
    }
    const session = this.#hooks.currentSession();
    if (this.queued === 0 && !this.#pumping && session?.canStart()) {
      // The hot path: a free stream now, nothing queued ahead.
      this.#start(pending, session);
    } else {
      (this.#queue ??= new Set()).add(pending);
      this.pump();
    }
    return pending;
  }

  /** Starts queued requests, in order, while the current session has room. */
  pump(): void {
    if (this.#pumping || this.queued === 0) return;
    this.#pumping = true;
    try {
      while (this.#resend.length > 0) {
        const session = this.#hooks.currentSession();
        if (!session || !session.canStart()) return;
        this.#start(this.#resend.shift()!, session);
      }
      // Requests queued by a start during the loop join this same Set, and the loop reaches them.
      for (const request of this.#queue ?? NONE) {
        const session = this.#hooks.currentSession();
        if (!session || !session.canStart()) break;
        this.#queue!.delete(request);
        this.#start(request, session);
      }
    } finally {
      this.#pumping = false;
      if (this.#queue?.size === 0) this.#queue = undefined;
    }
  }

  #start(request: PendingRequest, session: Session): void {
    const newest = this.#newest;
    request.older = newest;
    if (newest) newest.newer = request;
    else this.#oldest = request;
    this.#newest = request;
    this.#activeCount++;
    request.startMark = this.#hooks.completions(session);
    request.start(session);
  }

  /** Errors every queued request (nothing of them was sent), or those `which` picks. */
  rejectQueued(error: RxconnError, which?: (request: PendingRequest) => boolean): void {
    for (const request of [...this.#resend, ...(this.#queue ?? NONE)]) if (!which || which(request)) request.fail(error, false);
  }

  /**
   * Errors the active streams of `session` (all of them when omitted) with `errorFor()`, without
   * touching the wire: their session is gone. Returns how many it killed.
   */
  failActive(errorFor: () => RxconnError, session?: Session): number {
    const doomed: PendingRequest[] = [];
    for (let request = this.#oldest; request; request = request.newer) if (!session || request.session === session) doomed.push(request);
    for (const request of doomed) request.fail(errorFor(), false);
    return doomed.length;
  }

  /** Takes `request` out of the queue; the Set goes once empty (not while a pump walks it). */
  #dequeue(request: PendingRequest): boolean {
    const queue = this.#queue;
    if (!queue?.delete(request)) return false;
    if (queue.size === 0 && !this.#pumping) this.#queue = undefined;
    return true;
  }

  /** Takes `request` out of the active streams, if it is there (listed: it has an older one, or is the oldest). */
  #deactivate(request: PendingRequest): boolean {
    const { older, newer } = request;
    if (older === undefined && this.#oldest !== request) return false;
    if (older) older.newer = newer;
    else this.#oldest = newer;
    if (newer) newer.older = older;
    else this.#newest = older;
    request.older = request.newer = undefined;
    this.#activeCount--;
    return true;
  }

  onSettled(request: PendingRequest, completed: boolean): void {
    if (this.#dequeue(request)) return;
    const at = this.#resend.indexOf(request);
    if (at >= 0) {
      this.#resend.splice(at, 1);
      return;
    }
    if (!this.#deactivate(request)) return;
    this.#hooks.onSettled(request.session, completed);
  }

  /**
   * A session handed `request` back unprocessed: it goes out again (before anything queued) when
   * nothing of its response was seen, its body can be sent again (none, text or bytes; not an
   * Observable), the method is idempotent unless the session is `certain` it was not processed,
   * and it is within its re-send bounds; otherwise it errors with `error`.
   */
  onUnprocessed(request: PendingRequest, error: RxconnError, certain: boolean): void {
    const session = request.session;
    const { method, body } = request.request;
    const progress = session !== undefined && this.#hooks.completions(session) > request.startMark;
    const count = request.fruitless + (progress ? 0 : 1);
    const resend =
      !request.responded &&
      !request.upgrade &&
      fixedLength(body) !== undefined &&
      request.handedBack < MAX_RESENDS &&
      (certain ? count <= MAX_FRUITLESS_RESENDS : IDEMPOTENT.has(method) && request.handedBack === 0);
    if (!resend || !this.#deactivate(request)) {
      request.error(error);
      return;
    }
    request.fruitless = count;
    request.requeue();
    this.#resend.push(request);
    this.#hooks.onSettled(session, false);
    // Not now: the session is inside a call of its own (its GOAWAY handler, or start()).
    if (!this.#pumpScheduled) {
      this.#pumpScheduled = true;
      queueMicrotask(() => {
        this.#pumpScheduled = false;
        this.pump();
      });
    }
  }
}
