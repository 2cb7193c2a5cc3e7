/**
 * Fault matrix: a reconnect storm. 200 connections to one server that crashes and comes straight
 * back. With full jitter (the default) their reconnects spread over the backoff window instead
 * of arriving in lock-step; `jitter: 'none'` is the control that shows what lock-step looks like.
 * Measured on each client: the delay its policy chose for its first retry, and that it waited it.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { filter, firstValueFrom, map } from 'rxjs';
import { open } from '../../lib/index.js';
import type { Connection, RetryingEvent } from '../../lib/index.js';
import { leakCheck } from '../helpers/lifecycle.js';
import { startFaultServer } from './helpers/servers.js';

const CLIENTS = 200;
const WINDOW = 300;
const BINS = 10;

/** One client's first backoff: the delay its policy chose, and how long it really waited. */
interface FirstWait {
  readonly chosen: number;
  readonly waited: number;
}

/**
 * Connects `CLIENTS` connections, crashes and restarts the server, waits for all to reconnect, and
 * returns each one's first backoff: the delay of its `retrying` event of attempt 1, and the real
 * time from that event to its `connecting` event of attempt 1.
 */
async function storm(jitter: 'full' | 'none'): Promise<FirstWait[]> {
  const server = await startFaultServer('http1', (_req, res) => res.end('ok'));
  const conns: Connection[] = Array.from({ length: CLIENTS }, () =>
    open(server.origin, { retry: { initialDelay: WINDOW, factor: 2, maxDelay: 4 * WINDOW, maxRetries: Infinity, jitter } }),
  );
  await Promise.all(conns.map(conn => firstValueFrom(conn.state$.pipe(filter(s => s === 'connected')))));
  const waits = conns.map(async conn => {
    const scheduled = firstValueFrom(conn.pipe(filter((e): e is RetryingEvent => e.type === 'retrying' && e.attempt === 1), map(e => ({ delay: e.delay, at: performance.now() }))));
    const redial = firstValueFrom(conn.pipe(filter(e => e.type === 'connecting' && e.attempt === 1), map(() => performance.now())));
    const [{ delay, at }, redialAt] = await Promise.all([scheduled, redial]);
    return { chosen: delay, waited: redialAt - at };
  });
  const reconnected = Promise.all(conns.map(conn => firstValueFrom(conn.pipe(filter(e => e.type === 'connected')))));
  await server.kill();
  await server.restart();
  await reconnected;
  const firsts = await Promise.all(waits);
  for (const conn of conns) conn.close();
  await Promise.all(conns.map(conn => conn.whenClosed()));
  await server.close();
  return firsts;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

describe('reconnect storm: 200 connections, one server that restarts', () => {
  it('with full jitter, reconnects spread over the backoff window; without jitter they come in lock-step', async () => {
    const leaks = leakCheck();
    const full = await storm('full');
    const none = await storm('none');
    expect(full).toHaveLength(CLIENTS);
    expect(none).toHaveLength(CLIENTS);
    // Timers never fire early: each client waited at least the delay its policy chose. (How much
    // later is the machine's load, which is why the spread is judged on the chosen delays.)
    for (const { chosen, waited } of [...full, ...none]) expect(waited).toBeGreaterThanOrEqual(chosen - 2);
    const jittered = full.map(f => f.chosen).sort((a, b) => a - b);
    const lockstep = none.map(f => f.chosen).sort((a, b) => a - b);

    const spread = (times: number[]): number => quantile(times, 0.9) - quantile(times, 0.1);
    // Uniform over [0, WINDOW]: the middle 80 % span ~0.8 × WINDOW.
    expect(spread(jittered)).toBeGreaterThan(0.4 * WINDOW);
    // No 30 ms slice of the window takes more than a third of the reconnects, and most slices get some...
    const bins = new Array<number>(BINS).fill(0);
    for (const t of jittered) bins[Math.min(BINS - 1, Math.floor((t / WINDOW) * BINS))]++;
    expect(Math.max(...bins)).toBeLessThan(CLIENTS / 3);
    expect(bins.filter(n => n > 0).length).toBeGreaterThanOrEqual(BINS - 2);
    // ...whereas without jitter every client waits the whole window: lock-step.
    expect(lockstep[0]).toBe(WINDOW);
    expect(lockstep[CLIENTS - 1]).toBe(WINDOW);
    await leaks.check();
  });
});
