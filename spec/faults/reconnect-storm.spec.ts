/**
 * Fault matrix: a reconnect storm. 200 connections to one server that crashes and comes straight
 * back. With full jitter (the default) their reconnects spread over the backoff window instead
 * of arriving in lock-step; `jitter: 'none'` is the control that shows what lock-step looks like.
 * Measured on each client: when its first redial begins.
 */
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { filter, firstValueFrom, map } from 'rxjs';
import { open } from '../../lib/index.js';
import type { Connection } from '../../lib/index.js';
import { leakCheck } from '../helpers/lifecycle.js';
import { startFaultServer } from './helpers/servers.js';

const CLIENTS = 200;
const WINDOW = 300;
const BINS = 10;

/**
 * Connects `CLIENTS` connections, crashes and restarts the server, waits for all to reconnect,
 * and returns, relative to the crash, when each one began its first redial (its `connecting`
 * event of attempt 1).
 */
async function storm(jitter: 'full' | 'none'): Promise<number[]> {
  const server = await startFaultServer('http1', (_req, res) => res.end('ok'));
  const conns: Connection[] = Array.from({ length: CLIENTS }, () =>
    open(server.origin, { retry: { initialDelay: WINDOW, factor: 2, maxDelay: 4 * WINDOW, maxRetries: Infinity, jitter } }),
  );
  await Promise.all(conns.map(conn => firstValueFrom(conn.state$.pipe(filter(s => s === 'connected')))));
  const redials = conns.map(conn => firstValueFrom(conn.pipe(filter(e => e.type === 'connecting' && e.attempt === 1), map(() => performance.now()))));
  const reconnected = Promise.all(conns.map(conn => firstValueFrom(conn.pipe(filter(e => e.type === 'connected')))));
  const crash = performance.now();
  await server.kill();
  await server.restart();
  await reconnected;
  const times = (await Promise.all(redials)).map(t => t - crash);
  for (const conn of conns) conn.close();
  await Promise.all(conns.map(conn => conn.whenClosed()));
  await server.close();
  return times;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

describe('reconnect storm: 200 connections, one server that restarts', () => {
  it('with full jitter, reconnects spread over the backoff window; without jitter they come in lock-step', async () => {
    const leaks = leakCheck();
    const jittered = (await storm('full')).sort((a, b) => a - b);
    const lockstep = (await storm('none')).sort((a, b) => a - b);
    expect(jittered).toHaveLength(CLIENTS);
    expect(lockstep).toHaveLength(CLIENTS);

    const spread = (times: number[]): number => quantile(times, 0.9) - quantile(times, 0.1);
    // Uniform over [0, WINDOW]: the middle 80 % span ~0.8 × WINDOW.
    expect(spread(jittered)).toBeGreaterThan(0.4 * WINDOW);
    // No 30 ms slice of the window takes more than a third of the reconnects...
    const bins = new Array<number>(BINS).fill(0);
    for (const t of jittered) if (t <= WINDOW) bins[Math.min(BINS - 1, Math.floor((t / WINDOW) * BINS))]++;
    expect(Math.max(...bins)).toBeLessThan(CLIENTS / 3);
    // Lock-step fills one bin; on a loaded 2-core machine timers fire in clumps, so ask for half of them.
    expect(bins.filter(n => n > 0).length).toBeGreaterThanOrEqual(BINS / 2);
    // ...whereas without jitter they all arrive together, a full window after the crash.
    expect(spread(lockstep)).toBeLessThan(0.25 * WINDOW);
    expect(quantile(lockstep, 0.1)).toBeGreaterThanOrEqual(WINDOW - 5);
    await leaks.check();
  });
});
