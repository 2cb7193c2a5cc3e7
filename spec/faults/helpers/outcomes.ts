/**
 * Watching requests under faults: every request must end as a completed response or a typed
 * error, so each one is recorded as an {@link Outcome} and never left dangling.
 */
import type { Observable } from 'rxjs';
import { RxconnError } from '../../../lib/index.js';
import type { ResponseEvent } from '../../../lib/index.js';

/** How one request ended. */
export interface Outcome {
  readonly events: ResponseEvent[];
  readonly status?: number;
  /** The body bytes received, whether or not the response completed. */
  readonly body: Buffer;
  /** Set when it errored. */
  readonly error?: unknown;
  /** The error's rxconn code, or `'NOT_RXCONN'` for any other thrown value. */
  readonly code?: string;
}

/** A subscribed request: its outcome, and promises for its first response bytes. */
export interface Watched {
  readonly done: Promise<Outcome>;
  /** Resolves at the first `data` event. */
  readonly firstData: Promise<void>;
  /** Resolves at the `response` event. */
  readonly head: Promise<void>;
  readonly settled: () => boolean;
  unsubscribe(): void;
}

/** The rxconn code of `error`, or `'NOT_RXCONN'`. */
export function codeOf(error: unknown): string {
  return error instanceof RxconnError ? error.code : 'NOT_RXCONN';
}

/** Subscribes to `request$` now and records how it ends. */
export function watch(request$: Observable<ResponseEvent>): Watched {
  const events: ResponseEvent[] = [];
  let settled = false;
  let resolveDone!: (outcome: Outcome) => void;
  let resolveData!: () => void;
  let resolveHead!: () => void;
  const done = new Promise<Outcome>(resolve => (resolveDone = resolve));
  const firstData = new Promise<void>(resolve => (resolveData = resolve));
  const head = new Promise<void>(resolve => (resolveHead = resolve));
  const finish = (error?: unknown): void => {
    settled = true;
    const response = events.find(e => e.type === 'response');
    const body = Buffer.concat(events.flatMap(e => (e.type === 'data' ? [e.data] : [])));
    resolveDone({
      events,
      status: response?.type === 'response' ? response.status : undefined,
      body,
      ...(error !== undefined && { error, code: codeOf(error) }),
    });
  };
  const subscription = request$.subscribe({
    next: event => {
      events.push(event);
      if (event.type === 'data') resolveData();
      if (event.type === 'response') resolveHead();
    },
    error: (error: unknown) => finish(error),
    complete: () => finish(),
  });
  return { done, firstData, head, settled: () => settled, unsubscribe: () => subscription.unsubscribe() };
}

/** Resolves with the outcome of `request$` (subscribed now). */
export function outcome(request$: Observable<ResponseEvent>): Promise<Outcome> {
  return watch(request$).done;
}

/**
 * Collects uncaught exceptions and unhandled rejections while a scenario runs; `stop()` removes
 * the listeners and returns what was seen.
 */
export function trapUncaught(): { stop: () => unknown[] } {
  const seen: unknown[] = [];
  const onError = (error: unknown): void => {
    seen.push(error);
  };
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return {
    stop: () => {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
      return seen;
    },
  };
}

/** Resolves after the event loop has turned `turns` times (lets sockets flush and close). */
export async function turns(count = 3): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise<void>(resolve => setImmediate(resolve));
}
