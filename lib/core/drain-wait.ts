/**
 * Graceful shutdown's wait: a `finalize` that runs once the active-stream count has reached zero,
 * or once the shutdown's bound has passed. Pure RxJS, free of I/O; the lifecycle builds it only
 * when a shutdown starts, and ticks `progress` whenever a stream, session or dial may have ended.
 */
import { EMPTY, filter, finalize, startWith, take, timeout } from 'rxjs';
import type { Observable, SchedulerLike, Subscription } from 'rxjs';

export interface DrainWait {
  /** Ticks whenever the count may have changed. */
  readonly progress: Observable<void>;
  /** Whether nothing is left (streams, sessions, a dial in progress). */
  readonly drained: () => boolean;
  /** The bound, in ms (`Infinity`: none). */
  readonly limit: number;
  readonly scheduler: SchedulerLike;
  /** The bound passed first: called before `done`. */
  readonly timedOut: () => void;
  /** The `finalize`: called once, when drained, when the bound passed, or when the wait is unsubscribed. */
  readonly done: () => void;
}

export function waitForDrain({ progress, drained, limit, scheduler, timedOut, done }: DrainWait): Subscription {
  const zero = progress.pipe(startWith(undefined), filter(drained), take(1));
  const bounded = limit === Infinity ? zero : zero.pipe(timeout({ first: limit, scheduler, with: () => (timedOut(), EMPTY) }));
  return bounded.pipe(finalize(done)).subscribe();
}
