/**
 * Reconnect with backoff: the retry half of the dial loop, pure RxJS and free of I/O.
 */
import { catchError, defer, race, retry, tap, throwError, timer } from 'rxjs';
import type { MonoTypeOperatorFunction, Observable, SchedulerLike } from 'rxjs';
import { InvalidArgumentError, RetriesExhaustedError, RxconnError, toConnectionError } from './errors.js';
import type { RetryPolicy } from './options.js';

/** Node's timers fire at once past 2^31−1 ms: longer delays are capped there (~24.8 days). */
const MAX_TIMER = 2 ** 31 - 1;

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
  // Infinity is refused too: a timer cannot wait that long (Node clamps it to 1 ms).
  if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0) {
    throw new InvalidArgumentError(`options.retry.delay must return a finite number ≥ 0 or null (got ${String(delay)})`);
  }
  return Math.min(delay, MAX_TIMER);
}

/**
 * Resubscribes to the source after each failure, waiting a backoff delay between attempts. The
 * budget (`maxRetries`) resets each time the source emits (a successful connect). A failure whose
 * `retryable` is false ends it at once with that failure; running out of retries ends it with
 * {@link RetriesExhaustedError} whose `cause` is the last failure. An emission of `wake` ends the
 * current wait early (a browser coming back online retries at once).
 */
export function reconnect<T>(policy: RetryPolicy, onRetry: RetryListener, scheduler?: SchedulerLike, wake?: Observable<unknown>): MonoTypeOperatorFunction<T> {
  return (source: Observable<T>) =>
    defer(() => {
      let failures = 0;
      return source.pipe(
        tap({ next: () => (failures = 0), error: () => failures++ }),
        retry({
          count: policy.maxRetries,
          resetOnSuccess: true,
          delay: (raw: unknown, attempt: number) => {
            const error = toConnectionError(raw);
            if (!error.retryable) throw new GiveUp(error);
            const delay = delayFor(policy, attempt, error);
            if (delay === null) throw new RetriesExhaustedError(failures, error);
            onRetry(attempt, delay, error);
            return wake ? race(timer(delay, scheduler), wake) : timer(delay, scheduler);
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
