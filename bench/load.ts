/**
 * The closed-loop load generator: a fixed number of requests, `concurrency` in flight, bounded
 * in time; records every latency. It stops at the first failure: a benchmark of a broken client
 * is not a figure.
 */
import { performance } from 'node:perf_hooks';
import type { Done } from './common.js';
import { percentile } from './stats.js';

/** One measurement. */
export interface Sample {
  /** Requests (or messages) per second over the whole measurement. */
  readonly rate: number;
  /** Latency percentiles in ms (NaN where not measured). */
  readonly p50: number;
  readonly p99: number;
  /** Client process CPU over wall time, 0..1 per core. */
  readonly clientCpu: number;
  /** Client process CPU per request (or message), in µs: the cost that noise from other processes barely moves. */
  readonly cpuPerOp: number;
  readonly elapsedMs: number;
}

export interface LoadOptions {
  /** Requests to complete. */
  readonly count: number;
  /** Requests in flight at once. */
  readonly concurrency: number;
  /** Give up (and fail the measurement) after this long. */
  readonly timeoutMs: number;
  /** The body length every response must have. */
  readonly expectBytes: number;
}

/** Starts one operation; calls `done` once when it ends. */
export type Operation = (done: Done) => void;

/** Runs `count` operations with `concurrency` in flight; rejects on the first error, a wrong body length, or the time bound. */
export function runLoad(operation: Operation, options: LoadOptions): Promise<Sample> {
  const { count, concurrency, timeoutMs, expectBytes } = options;
  return new Promise<Sample>((resolve, reject) => {
    const latencies = new Float64Array(count);
    let issued = 0;
    let completed = 0;
    let finished = false;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const timer = setTimeout(() => fail(new Error(`timed out after ${timeoutMs} ms (${completed}/${count} done)`)), timeoutMs);

    function fail(error: Error): void {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      reject(error);
    }

    function issue(): void {
      if (finished) return;
      const index = issued++;
      const start = performance.now();
      let called = false;
      let sync = true;
      const onDone: Done = (error, bytes) => {
        if (finished || called) return;
        called = true;
        latencies[index] = performance.now() - start;
        if (error) return fail(error);
        if (bytes !== expectBytes) return fail(new Error(`got ${bytes} body bytes, expected ${expectBytes}`));
        completed++;
        if (issued < count) {
          // Never recurse on a synchronous completion: start the next one from a fresh stack.
          if (sync) queueMicrotask(issue);
          else issue();
        } else if (completed === count) {
          finished = true;
          clearTimeout(timer);
          const elapsedMs = performance.now() - t0;
          const cpu = process.cpuUsage(cpu0);
          resolve({
            rate: (count / elapsedMs) * 1000,
            p50: percentile(latencies, 50),
            p99: percentile(latencies, 99),
            clientCpu: (cpu.user + cpu.system) / 1000 / elapsedMs,
            cpuPerOp: (cpu.user + cpu.system) / count,
            elapsedMs,
          });
        }
      };
      try {
        operation(onDone);
      } catch (error) {
        fail(error instanceof Error ? error : new Error(String(error)));
      }
      sync = false;
    }

    for (let i = 0; i < Math.min(concurrency, count) && !finished; i++) issue();
  });
}
