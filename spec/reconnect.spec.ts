/**
 * The reconnect operator on RxJS virtual time: backoff, jitter, the retry budget and giving up.
 * One marble frame is 1 ms of virtual time.
 */
import { NEVER, catchError, concat, defer, map, of, throwError } from 'rxjs';
import type { Observable } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import {
  ConnectionDownError,
  InvalidArgumentError,
  RetriesExhaustedError,
  RxconnError,
  TlsError,
} from '../lib/core/errors.js';
import { resolveNodeOptions as resolveOptions } from '../lib/node/open.js';
import type { RetryOptions, RetryPolicy } from '../lib/core/options.js';
import { backoffDelay, reconnect } from '../lib/core/reconnect.js';

function policy(retry: RetryOptions | false): RetryPolicy {
  return resolveOptions('http://x', { retry }).retry;
}

function testScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** A deterministic PRNG in [0, 1) (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The calls of the retry listener, with the virtual time of each call. */
interface RetryCall {
  readonly attempt: number;
  readonly delay: number;
  readonly error: RxconnError;
  readonly at: number;
}

function listener(scheduler: TestScheduler): { calls: RetryCall[]; onRetry: (attempt: number, delay: number, error: RxconnError) => void } {
  const calls: RetryCall[] = [];
  return { calls, onRetry: (attempt, delay, error) => calls.push({ attempt, delay, error, at: scheduler.now() }) };
}

/** Turns the terminal error into a value, so marbles can compare it as plain data. */
function settle<T>(source: Observable<T>): Observable<T | { readonly failed: unknown }> {
  return source.pipe(catchError((error: unknown) => of({ failed: error })));
}

/** A source whose n-th subscription (0-based) is `attempts[n]`; it fails for good past the end. */
function scripted<T>(attempts: ReadonlyArray<Observable<T>>): { source: Observable<T>; subscriptions: () => number } {
  let n = 0;
  return {
    source: defer(() => attempts[n++] ?? throwError(() => new Error('no more attempts scripted'))),
    subscriptions: () => n,
  };
}

const down = new ConnectionDownError('connection failed: ECONNREFUSED');

describe('backoffDelay', () => {
  it('grows from initialDelay by factor, capped at maxDelay, with jitter none', () => {
    const p = policy({ initialDelay: 100, factor: 2, maxDelay: 1_000, jitter: 'none' });
    expect([1, 2, 3, 4, 5, 6, 7].map(n => backoffDelay(p, n))).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
  });

  it('uses the defaults 100 ms × 2 up to 10 s', () => {
    const p = policy({ jitter: 'none' });
    expect([1, 2, 3, 9, 10, 20].map(n => backoffDelay(p, n))).toEqual([100, 200, 400, 10_000, 10_000, 10_000]);
  });

  it('supports other factors, and a constant delay with factor 1', () => {
    const p3 = policy({ initialDelay: 10, factor: 3, maxDelay: 1_000, jitter: 'none' });
    expect([1, 2, 3, 4, 5].map(n => backoffDelay(p3, n))).toEqual([10, 30, 90, 270, 810]);
    const p1 = policy({ initialDelay: 250, factor: 1, jitter: 'none' });
    expect([1, 2, 50].map(n => backoffDelay(p1, n))).toEqual([250, 250, 250]);
  });

  it('full jitter scales the ceiling by the injected random, rounded to whole ms', () => {
    const draws = [0.5, 0.25, 0.999, 0, 0.0049, 0.7];
    let i = 0;
    const p = policy({ initialDelay: 100, factor: 2, maxDelay: 1_000, jitter: 'full', random: () => draws[i++] });
    expect([1, 2, 3, 4, 5, 6].map(n => backoffDelay(p, n))).toEqual([50, 50, 400, 0, 5, 700]);
  });

  it('full jitter is the default', () => {
    const p = policy({ random: () => 0.5 });
    expect(p.jitter).toBe('full');
    expect(backoffDelay(p, 1)).toBe(50);
  });

  it('full jitter stays a whole number in [0, ceiling] over many seeded draws, and spans the range', () => {
    const p = policy({ initialDelay: 100, factor: 2, maxDelay: 30_000, random: seeded(42) });
    for (let attempt = 1; attempt <= 12; attempt++) {
      const ceiling = Math.min(30_000, 100 * 2 ** (attempt - 1));
      let min = Infinity;
      let max = -Infinity;
      let sum = 0;
      const draws = 2_000;
      const outside: number[] = [];
      for (let k = 0; k < draws; k++) {
        const d = backoffDelay(p, attempt);
        if (!Number.isInteger(d) || d < 0 || d > ceiling) outside.push(d);
        min = Math.min(min, d);
        max = Math.max(max, d);
        sum += d;
      }
      expect(outside).toEqual([]);
      // Uniform: the draws reach both ends and average about half the ceiling.
      expect(min).toBeLessThanOrEqual(ceiling * 0.01);
      expect(max).toBeGreaterThanOrEqual(ceiling * 0.99);
      expect(Math.abs(sum / draws / ceiling - 0.5)).toBeLessThan(0.05);
    }
  });

  it('stays within [0, maxDelay] for huge attempt numbers (maxRetries: Infinity)', () => {
    const none = policy({ initialDelay: 100, maxDelay: 5_000, jitter: 'none' });
    expect(backoffDelay(none, 2_000)).toBe(5_000);
    const full = policy({ initialDelay: 100, maxDelay: 5_000, random: () => 0.5 });
    expect(backoffDelay(full, 2_000)).toBe(2_500);
  });

  it('initialDelay 0 gives 0 for every attempt, even when factor^attempt overflows to Infinity', () => {
    const p = policy({ initialDelay: 0, maxDelay: 1_000, jitter: 'none' });
    expect([1, 2, 1_024, 1_025, 5_000].map(n => backoffDelay(p, n))).toEqual([0, 0, 0, 0, 0]);
    const full = policy({ initialDelay: 0, maxDelay: 1_000, random: () => 0.9 });
    expect(backoffDelay(full, 5_000)).toBe(0);
  });
});

describe('reconnect', () => {
  it('waits 100, 200, 400 ms between attempts (jitter none), then gives up after maxRetries + 1 subscriptions', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<string>('-#', undefined, down);
      const { calls, onRetry } = listener(scheduler);
      const result = settle(source.pipe(reconnect(policy({ maxRetries: 3, jitter: 'none' }), onRetry, scheduler)));
      // Failures at 1, 102, 303, 704; resubscribed 100, 200, 400 ms after each of the first three.
      expectObservable(result).toBe('704ms (e|)', {
        e: { failed: new RetriesExhaustedError(4, down) },
      });
      expectSubscriptions(source.subscriptions).toBe(['^!', '101ms ^!', '302ms ^!', '703ms ^!']);
      scheduler.flush();
      expect(calls.map(({ attempt, delay, at }) => [attempt, delay, at])).toEqual([
        [1, 100, 1],
        [2, 200, 102],
        [3, 400, 303],
      ]);
      expect(calls.every(c => c.error === down)).toBe(true);
    });
  });

  it('uses the default async scheduler when none is given (virtual inside run())', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<string>('-#', undefined, down);
      const result = settle(source.pipe(reconnect(policy({ maxRetries: 2, jitter: 'none', initialDelay: 10 }), () => {})));
      expectObservable(result).toBe('33ms (e|)', { e: { failed: new RetriesExhaustedError(3, down) } });
      expectSubscriptions(source.subscriptions).toBe(['^!', '11ms ^!', '32ms ^!']);
    });
  });

  it('caps the waits at maxDelay', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectSubscriptions }) => {
      const source = cold<string>('#', undefined, down);
      const { calls, onRetry } = listener(scheduler);
      settle(source.pipe(reconnect(policy({ maxRetries: 6, jitter: 'none', maxDelay: 500 }), onRetry, scheduler))).subscribe();
      expectSubscriptions(source.subscriptions).toBe(['(^!)', '100ms (^!)', '300ms (^!)', '700ms (^!)', '1200ms (^!)', '1700ms (^!)', '2200ms (^!)']);
      scheduler.flush();
      expect(calls.map(c => c.delay)).toEqual([100, 200, 400, 500, 500, 500]);
    });
  });

  it('waits the jittered delays drawn from the injected random', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectSubscriptions }) => {
      const draws = [0.5, 0.1, 0.75];
      let i = 0;
      const source = cold<string>('#', undefined, down);
      const { calls, onRetry } = listener(scheduler);
      settle(source.pipe(reconnect(policy({ maxRetries: 3, random: () => draws[i++] }), onRetry, scheduler))).subscribe();
      // 0.5 × 100, 0.1 × 200, 0.75 × 400
      expectSubscriptions(source.subscriptions).toBe(['(^!)', '50ms (^!)', '70ms (^!)', '370ms (^!)']);
      scheduler.flush();
      expect(calls.map(c => [c.attempt, c.delay])).toEqual([[1, 50], [2, 20], [3, 300]]);
    });
  });

  it('passes emissions through and completes when the source completes', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const { source } = scripted([cold<string>('-#', undefined, down), cold('-a-b|')]);
      const result = source.pipe(reconnect(policy({ jitter: 'none' }), () => {}, scheduler));
      expectObservable(result).toBe('102ms a-b|');
    });
  });

  it('calls the listener before each wait with (attempt, delay, error)', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold }) => {
      const first = new ConnectionDownError('first');
      const second = new ConnectionDownError('second');
      const { source } = scripted([cold<string>('--#', undefined, first), cold<string>('--#', undefined, second), cold('a')]);
      const events: string[] = [];
      const { calls, onRetry } = listener(scheduler);
      source
        .pipe(reconnect(policy({ jitter: 'none' }), (...args) => {
          events.push(`retrying ${args[0]}`);
          onRetry(...args);
        }, scheduler))
        .subscribe(value => events.push(`${value} at ${scheduler.now()}`));
      scheduler.flush();
      expect(calls).toEqual([
        { attempt: 1, delay: 100, error: first, at: 2 },
        { attempt: 2, delay: 200, error: second, at: 104 },
      ]);
      expect(calls[0].error).toBe(first);
      expect(calls[1].error).toBe(second);
      expect(events).toEqual(['retrying 1', 'retrying 2', 'a at 304']);
    });
  });

  it('maps foreign errors to rxconn errors for the listener and the give-up', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
      const source = cold<string>('#', undefined, refused);
      const { calls, onRetry } = listener(scheduler);
      const result = source.pipe(reconnect(policy({ maxRetries: 1, jitter: 'none' }), onRetry, scheduler), map(() => 'x'));
      expectObservable(settle(result).pipe(map(v => (typeof v === 'string' ? v : describeFailure(v.failed))))).toBe('100ms (e|)', {
        e: {
          name: 'RetriesExhaustedError',
          code: 'RXCONN_RETRIES_EXHAUSTED',
          message: 'connection gave up after 2 attempts: connection failed: connect ECONNREFUSED 127.0.0.1:1',
          attempts: 2,
          cause: { name: 'ConnectionDownError', code: 'RXCONN_CONNECTION_DOWN', rawCause: refused },
        },
      });
      scheduler.flush();
      expect(calls).toHaveLength(1);
      expect(calls[0].error).toBeInstanceOf(ConnectionDownError);
      expect(calls[0].error.cause).toBe(refused);
    });
  });

  it('resets the budget after a successful emission (resetOnSuccess)', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      // maxRetries 2: without the reset, the loss after "a" would be the third failure and the end.
      const { source, subscriptions } = scripted([
        cold<string>('-#', undefined, down),
        cold<string>('-#', undefined, down),
        cold<string>('-a-#', undefined, down),
        cold<string>('-#', undefined, down),
        cold<string>('-b'),
      ]);
      const { calls, onRetry } = listener(scheduler);
      const result = source.pipe(reconnect(policy({ maxRetries: 2, jitter: 'none' }), onRetry, scheduler));
      // 1 fail, 101 sub, 102 fail, 302 sub, 303 a, 305 lost, 405 sub, 406 fail, 606 sub, 607 b
      expectObservable(result).toBe('303ms a 303ms b');
      scheduler.flush();
      expect(calls.map(c => [c.attempt, c.delay, c.at])).toEqual([
        [1, 100, 1],
        [2, 200, 102],
        [1, 100, 305],
        [2, 200, 406],
      ]);
      expect(subscriptions()).toBe(5);
    });
  });

  it('counts the attempts of the current outage only in RetriesExhaustedError', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const { source } = scripted([
        cold<string>('#', undefined, down),
        cold<string>('a#', undefined, down),
        cold<string>('#', undefined, down),
        cold<string>('#', undefined, down),
      ]);
      const result = settle(source.pipe(reconnect(policy({ maxRetries: 2, jitter: 'none' }), () => {}, scheduler)));
      // a at 100, lost at 101, retries at 201 and 401: three attempts in this outage.
      expectObservable(result).toBe('100ms a 300ms (e|)', { a: 'a', e: { failed: new RetriesExhaustedError(3, down) } });
    });
  });

  it('gives up with RetriesExhaustedError: code, cause = the last error, attempts and message', () => {
    const scheduler = testScheduler();
    scheduler.run(() => {
      let n = 0;
      const source = defer(() => throwError(() => new ConnectionDownError(`down ${++n}`)));
      let failure: unknown;
      source.pipe(reconnect(policy({ maxRetries: 3, jitter: 'none' }), () => {}, scheduler)).subscribe({ error: e => (failure = e) });
      scheduler.flush();
      expect(n).toBe(4);
      expect(failure).toBeInstanceOf(RetriesExhaustedError);
      const error = failure as RetriesExhaustedError;
      expect(error.code).toBe('RXCONN_RETRIES_EXHAUSTED');
      expect(error.attempts).toBe(4);
      expect(error.cause).toBeInstanceOf(ConnectionDownError);
      expect((error.cause as Error).message).toBe('down 4');
      expect(error.message).toBe('connection gave up after 4 attempts: down 4');
      expect(error.name).toBe('RetriesExhaustedError');
    });
  });

  it.each([
    ['TlsError', () => new TlsError('TLS handshake failed: CERT_HAS_EXPIRED')],
    ['InvalidArgumentError', () => new InvalidArgumentError('bad')],
  ])('ends at once on a non-retryable %s, without retrying', (_name, make) => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const error = make();
      const source = cold<string>('--#', undefined, error);
      const { calls, onRetry } = listener(scheduler);
      const result = settle(source.pipe(reconnect(policy({ maxRetries: 5 }), onRetry, scheduler)));
      expectObservable(result).toBe('--(e|)', { e: { failed: error } });
      expectSubscriptions(source.subscriptions).toBe('^-!');
      scheduler.flush();
      expect(calls).toEqual([]);
    });
  });

  it('ends at once with the non-retryable error itself, also after retryable failures', () => {
    const scheduler = testScheduler();
    scheduler.run(() => {
      const tls = new TlsError('TLS handshake failed');
      const { source, subscriptions } = scripted([throwError(() => down), throwError(() => down), throwError(() => tls), of('never reached')]);
      let failure: unknown;
      source.pipe(reconnect(policy({ maxRetries: 5, jitter: 'none' }), () => {}, scheduler)).subscribe({ error: e => (failure = e) });
      scheduler.flush();
      expect(failure).toBe(tls);
      expect(subscriptions()).toBe(3);
      expect(scheduler.now()).toBe(300);
    });
  });

  it('treats a foreign TLS error (ERR_TLS_*, CERT_*) as non-retryable TlsError', () => {
    const scheduler = testScheduler();
    scheduler.run(() => {
      const raw = Object.assign(new Error('Hostname/IP does not match certificate'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
      let subscriptions = 0;
      const source = defer(() => {
        subscriptions++;
        return throwError(() => raw);
      });
      let failure: unknown;
      source.pipe(reconnect(policy({ maxRetries: 5 }), () => {}, scheduler)).subscribe({ error: e => (failure = e) });
      scheduler.flush();
      expect(subscriptions).toBe(1);
      expect(failure).toBeInstanceOf(TlsError);
      expect((failure as TlsError).code).toBe('RXCONN_TLS');
      expect((failure as TlsError).cause).toBe(raw);
      expect((failure as TlsError).message).toBe('TLS handshake failed: ERR_TLS_CERT_ALTNAME_INVALID: Hostname/IP does not match certificate');
    });
  });

  it('retry: false subscribes once and gives up with RetriesExhaustedError (1 attempt)', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const p = policy(false);
      expect(p.maxRetries).toBe(0);
      const source = cold<string>('---#', undefined, down);
      const { calls, onRetry } = listener(scheduler);
      const result = settle(source.pipe(reconnect(p, onRetry, scheduler)));
      expectObservable(result).toBe('---(e|)', { e: { failed: new RetriesExhaustedError(1, down) } });
      expectSubscriptions(source.subscriptions).toBe('^--!');
      scheduler.flush();
      expect(calls).toEqual([]);
    });
    expect(new RetriesExhaustedError(1, down).message).toBe('connection gave up after 1 attempt: connection failed: ECONNREFUSED');
  });

  it('retry: false still reports a TLS failure as TlsError, as with retries on', () => {
    for (const retry of [false, { maxRetries: 0 }, { maxRetries: 3 }] as const) {
      const scheduler = testScheduler();
      scheduler.run(() => {
        const raw = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
        let failure: unknown;
        throwError(() => raw).pipe(reconnect(policy(retry), () => {}, scheduler)).subscribe({ error: e => (failure = e) });
        scheduler.flush();
        expect(failure).toBeInstanceOf(TlsError);
        expect((failure as TlsError).cause).toBe(raw);
      });
    }
  });

  it('retry: false passes a non-retryable rxconn error through as it is', () => {
    const scheduler = testScheduler();
    scheduler.run(() => {
      const tls = new TlsError('TLS handshake failed');
      let failure: unknown;
      throwError(() => tls).pipe(reconnect(policy(false), () => {}, scheduler)).subscribe({ error: e => (failure = e) });
      scheduler.flush();
      expect(failure).toBe(tls);
    });
  });

  it('maxRetries: Infinity keeps retrying (200 failures, then success), the waits capped at maxDelay', () => {
    const scheduler = testScheduler();
    scheduler.run(() => {
      let n = 0;
      const source = defer(() => (++n <= 200 ? throwError(() => down) : of('up')));
      const { calls, onRetry } = listener(scheduler);
      const values: string[] = [];
      let failure: unknown;
      source.pipe(reconnect(policy({ maxRetries: Infinity, jitter: 'none', initialDelay: 1, maxDelay: 8 }), onRetry, scheduler)).subscribe({
        next: v => values.push(v),
        error: e => (failure = e),
      });
      scheduler.flush();
      expect(failure).toBeUndefined();
      expect(values).toEqual(['up']);
      expect(n).toBe(201);
      expect(calls).toHaveLength(200);
      expect(calls.slice(0, 5).map(c => c.delay)).toEqual([1, 2, 4, 8, 8]);
      expect(calls[199]).toMatchObject({ attempt: 200, delay: 8 });
      expect(scheduler.now()).toBe(1 + 2 + 4 + 8 * 197);
    });
  });

  it('maxRetries: Infinity with initialDelay 0 retries at once, never with a NaN delay', () => {
    const scheduler = testScheduler();
    scheduler.run(() => {
      let n = 0;
      const source = defer(() => (++n <= 1_100 ? throwError(() => down) : of('up')));
      const { calls, onRetry } = listener(scheduler);
      const values: string[] = [];
      source.pipe(reconnect(policy({ maxRetries: Infinity, initialDelay: 0 }), onRetry, scheduler)).subscribe(v => values.push(v));
      scheduler.flush();
      expect(values).toEqual(['up']);
      expect(calls.every(c => c.delay === 0)).toBe(true);
    });
  });

  it('a custom delay policy replaces the backoff and gets (attempt, error); maxRetries still bounds it', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const seen: Array<[number, RxconnError]> = [];
      const source = cold<string>('#', undefined, down);
      const { calls, onRetry } = listener(scheduler);
      const p = policy({ maxRetries: 3, delay: (attempt, error) => {
        seen.push([attempt, error]);
        return attempt * 7;
      } });
      const result = settle(source.pipe(reconnect(p, onRetry, scheduler)));
      expectObservable(result).toBe('42ms (e|)', { e: { failed: new RetriesExhaustedError(4, down) } });
      expectSubscriptions(source.subscriptions).toBe(['(^!)', '7ms (^!)', '21ms (^!)', '42ms (^!)']);
      scheduler.flush();
      expect(seen).toEqual([[1, down], [2, down], [3, down]]);
      expect(calls.map(c => c.delay)).toEqual([7, 14, 21]);
    });
  });

  it('a custom delay of 0 resubscribes at once', () => {
    const scheduler = testScheduler();
    scheduler.run(() => {
      const { source, subscriptions } = scripted([throwError(() => down), throwError(() => down), of('up')]);
      const values: string[] = [];
      source.pipe(reconnect(policy({ delay: () => 0 }), () => {}, scheduler)).subscribe(v => values.push(`${v} at ${scheduler.now()}`));
      scheduler.flush();
      expect(values).toEqual(['up at 0']);
      expect(subscriptions()).toBe(3);
    });
  });

  it('a custom delay returning null gives up with RetriesExhaustedError (cause = that failure)', () => {
    const scheduler = testScheduler();
    scheduler.run(() => {
      const last = new ConnectionDownError('second');
      const { source, subscriptions } = scripted([throwError(() => down), throwError(() => last), of('never')]);
      const { calls, onRetry } = listener(scheduler);
      let failure: unknown;
      const p = policy({ maxRetries: 10, delay: attempt => (attempt < 2 ? 50 : null) });
      source.pipe(reconnect(p, onRetry, scheduler)).subscribe({ error: e => (failure = e) });
      scheduler.flush();
      expect(subscriptions()).toBe(2);
      expect(calls.map(c => [c.attempt, c.delay])).toEqual([[1, 50]]);
      expect(failure).toBeInstanceOf(RetriesExhaustedError);
      expect((failure as RetriesExhaustedError).attempts).toBe(2);
      expect((failure as RetriesExhaustedError).cause).toBe(last);
      expect(scheduler.now()).toBe(50);
    });
  });

  it.each([
    [-1, '-1'],
    [Number.NaN, 'NaN'],
    [Infinity, 'Infinity'],
    ['5', '5'],
    [undefined, 'undefined'],
    [{}, '[object Object]'],
  ])('a custom delay returning %s errors with InvalidArgumentError and does not retry', (value, shown) => {
    const scheduler = testScheduler();
    scheduler.run(() => {
      let subscriptions = 0;
      const source = defer(() => {
        subscriptions++;
        return throwError(() => down);
      });
      const { calls, onRetry } = listener(scheduler);
      let failure: unknown;
      const p = policy({ delay: () => value as number });
      source.pipe(reconnect(p, onRetry, scheduler)).subscribe({ error: e => (failure = e) });
      scheduler.flush();
      expect(subscriptions).toBe(1);
      expect(calls).toEqual([]);
      expect(failure).toBeInstanceOf(InvalidArgumentError);
      expect((failure as InvalidArgumentError).code).toBe('RXCONN_INVALID_ARGUMENT');
      expect((failure as InvalidArgumentError).message).toBe(`options.retry.delay must return a finite number ≥ 0 or null (got ${shown})`);
    });
  });

  it('unsubscribing during a wait cancels the timer: no resubscription', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<string>('-#', undefined, down);
      const { calls, onRetry } = listener(scheduler);
      const result = source.pipe(reconnect(policy({ jitter: 'none' }), onRetry, scheduler));
      expectObservable(result, '^ 49ms !').toBe('');
      expectSubscriptions(source.subscriptions).toBe('^!');
      scheduler.flush();
      expect(calls).toHaveLength(1);
    });
  });

  it('each subscription to the operator has its own budget', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold<string>('#', undefined, down);
      const result = settle(source.pipe(reconnect(policy({ maxRetries: 1, jitter: 'none' }), () => {}, scheduler)));
      expectObservable(result).toBe('100ms (e|)', { e: { failed: new RetriesExhaustedError(2, down) } });
      expectObservable(result).toBe('100ms (e|)', { e: { failed: new RetriesExhaustedError(2, down) } });
    });
  });
});

/** The comparable shape of a give-up error. */
function describeFailure(error: unknown): Record<string, unknown> {
  const e = error as RetriesExhaustedError;
  const cause = e.cause as RxconnError;
  return {
    name: e.name,
    code: e.code,
    message: e.message,
    attempts: e.attempts,
    cause: { name: cause.name, code: cause.code, rawCause: cause.cause },
  };
}

describe('reconnect: the default budget, rotations and draining sessions', () => {
  /** A source failing each attempt until `upAt` ms (virtual), then emitting once and staying up. */
  function outage(scheduler: TestScheduler, upAt: number): { source: Observable<string>; attempts: () => number } {
    let attempts = 0;
    return {
      source: defer(() => {
        attempts++;
        return scheduler.now() >= upAt ? concat(of('a'), NEVER) : throwError(() => down);
      }),
      attempts: () => attempts,
    };
  }

  it('rides out a 30 s outage with the default policy (worst case: every jittered wait at its ceiling)', () => {
    const scheduler = testScheduler();
    scheduler.run(({ expectObservable }) => {
      const { source } = outage(scheduler, 30_000);
      const result = settle(source.pipe(reconnect(policy({ random: () => 1 }), () => {}, scheduler)));
      // Ceilings 100, 200, … 6 400, then 10 000 each: the first attempt at or after 30 s is at 32 700 ms.
      expectObservable(result, '^ 40s !').toBe('32700ms a');
    });
  });

  it('gives up an endless outage between 120 s and 140 s after its first failure, whatever the jitter', () => {
    for (const random of [() => 0.01, () => 0.5, () => 0.999]) {
      const scheduler = testScheduler();
      scheduler.run(() => {
        const { source } = outage(scheduler, Infinity);
        let failedAt = -1;
        source.pipe(reconnect(policy({ random }), () => {}, scheduler)).subscribe({ error: (e: unknown) => ((failedAt = scheduler.now()), expect(e).toBeInstanceOf(RetriesExhaustedError)) });
        scheduler.flush();
        expect(failedAt).toBeGreaterThanOrEqual(120_000);
        expect(failedAt).toBeLessThanOrEqual(140_000);
      });
    }
  });

  it('a rotation resubscribes at once, is not counted, and resets the budget', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const rotation = new ConnectionDownError('rotation');
      const { source } = scripted([cold<string>('-#', undefined, down), cold<string>('-#', undefined, rotation), cold<string>('-#', undefined, down), cold<string>('-a')]);
      const { calls, onRetry } = listener(scheduler);
      const result = source.pipe(reconnect(policy({ maxRetries: 1, jitter: 'none', initialDelay: 10 }), onRetry, scheduler, { isRotation: e => e === rotation, mayGiveUp: () => true }));
      // down at 1 → wait 10 → rotation at 12 → at once → down at 13 (budget reset: retry 1 again) → wait 10 → a at 24.
      expectObservable(result).toBe('24ms a');
      scheduler.flush();
      expect(calls.map(c => [c.attempt, c.at])).toEqual([[1, 1], [1, 13]]);
    });
  });

  it('a spent budget keeps retrying at the ceiling while a draining session may not be given up', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const source = cold<string>('-#', undefined, down);
      let draining = true;
      scheduler.schedule(() => (draining = false), 50);
      const result = settle(source.pipe(reconnect(policy({ maxRetries: 1, jitter: 'none', initialDelay: 10, maxDelay: 10 }), () => {}, scheduler, { isRotation: () => false, mayGiveUp: () => !draining })));
      // Failures at 1, 12, 23, 34, 45 (held), 56: the first failure after the session is gone gives up.
      expectObservable(result).toBe('56ms (e|)', { e: { failed: new RetriesExhaustedError(6, down) } });
    });
  });
});
