/**
 * Reconnect with backoff: the retry half of the dial loop, pure RxJS and free of I/O.
 */
import { asyncScheduler, catchError, defer, of, race, retry, tap, throwError, timer } from 'rxjs';
import type { MonoTypeOperatorFunction, Observable, SchedulerLike } from 'rxjs';
import { InvalidArgumentError, RetriesExhaustedError, RxconnError, toConnectionError } from './errors.js';
import type { RetryPolicy } from './options.js';
import { MAX_TIMER } from './time.js';

/**
 * The backoff delay before retry `attempt` (1-based): `initialDelay × factor^(attempt−1)`, capped
 * at `maxDelay`; with full jitter, a uniform whole number of ms in [0, that ceiling].
 */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  // initialDelay 0 stays 0: 0 × factor^n would be NaN once factor^n overflows to Infinity.
  const ceiling = policy.initialDelay === 0 ? 0 : Math.min(policy.maxDelay, MAX_TIMER, policy.initialDelay * policy.factor ** (attempt - 1));
  return policy.jitter === 'full' ? Math.round(policy.random() * ceiling) : ceiling;
}

/** Called before each wait, with the retry number (1-based), its delay and the failure. */
export type RetryListener = (attempt: number, delay: number, error: RxconnError) => void;

/** How the dial loop steers the retry policy beyond plain failures. */
export interface ReconnectControl {
  /** A planned close of a connection that proved itself: resubscribe at once, without counting it. */
  isRotation(error: unknown): boolean;
  /** Called before the immediate resubscribe of a rotation. */
  onRotation?(): void;
  /**
   * Whether the loop may give up now. While it may not (a draining session still serves streams),
   * a spent budget keeps retrying at the backoff's ceiling instead.
   */
  mayGiveUp(): boolean;
  /** Emits to end a backoff wait early (a browser back online retries at once). Default: never. */
  readonly wake?: Observable<unknown>;
}

const ALWAYS: ReconnectControl = { isRotation: () => false, mayGiveUp: () => true };

class GiveUp extends Error {
  constructor(readonly error: RxconnError) {
    super(error.message);
  }
}

/** The delay of retry `attempt`, by the user's policy or the backoff; `null` gives up. */
function delayFor(policy: RetryPolicy, attempt: number, error: RxconnError): number | null {
  if (!policy.delay) return backoffDelay(policy, attempt);
  const delay = policy.delay(attempt, error);
  if (delay === null) return null;
  // Infinity is refused too: a timer cannot wait that long (it would fire at once).
  if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0) {
    throw new InvalidArgumentError(`options.retry.delay must return a finite number ≥ 0 or null (got ${String(delay)})`);
  }
  return Math.min(delay, MAX_TIMER);
}

/**
 * Resubscribes to the source after each failure, waiting a backoff delay between attempts. An
 * outage's budget is `maxRetries` retries and `maxElapsed` ms from its first failure, whichever
 * ends first; it resets each time the source emits (the connection proved itself). A failure
 * whose `retryable` is false ends it at once with that failure; a spent budget ends it with
 * {@link RetriesExhaustedError} whose `cause` is the last failure — but only once
 * `control.mayGiveUp()`; a rotation (see {@link ReconnectControl}) resubscribes at once.
 */
export function reconnect<T>(policy: RetryPolicy, onRetry: RetryListener, scheduler?: SchedulerLike, control: ReconnectControl = ALWAYS): MonoTypeOperatorFunction<T> {
  const clock = scheduler ?? asyncScheduler;
  return (source: Observable<T>) =>
    defer(() => {
      let failures = 0;
      let outageStart: number | undefined;
      return source.pipe(
        tap({ next: () => ((failures = 0), (outageStart = undefined)) }),
        retry({
          delay: (raw: unknown) => {
            if (control.isRotation(raw)) {
              // The connection was working: a rotation starts no outage and ends any budget spent.
              failures = 0;
              outageStart = undefined;
              control.onRotation?.();
              return of(0);
            }
            const error = toConnectionError(raw);
            if (!error.retryable) throw new GiveUp(error);
            failures++;
            outageStart ??= clock.now();
            const spent = failures > policy.maxRetries || clock.now() - outageStart >= policy.maxElapsed;
            if (spent && control.mayGiveUp()) throw new RetriesExhaustedError(failures, error);
            const delay = spent ? backoffDelay({ ...policy, jitter: 'none' }, failures) : delayFor(policy, failures, error);
            if (delay === null) throw new RetriesExhaustedError(failures, error);
            onRetry(failures, delay, error);
            return control.wake ? race(timer(delay, scheduler), control.wake) : timer(delay, scheduler);
          },
        }),
        catchError((raw: unknown) => {
          if (raw instanceof GiveUp) return throwError(() => raw.error);
          if (raw instanceof RetriesExhaustedError) return throwError(() => raw);
          const error = toConnectionError(raw);
          if (!error.retryable) return throwError(() => error);
          return throwError(() => new RetriesExhaustedError(failures, error));
        }),
      );
    });
}
