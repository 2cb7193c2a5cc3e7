/**
 * Fault matrix: a reconnect storm. 200 connections to one server that crashes and comes straight
 * back. With full jitter (the default) their reconnects spread over the backoff window instead
 * of arriving in lock-step; `jitter: 'none'` is the control that shows what lock-step looks like.
 * Measured on each client: how long after scheduling its first retry it redials.
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
 * and returns each one's first backoff wait: from its `retrying` event of attempt 1 to its
 * `connecting` event of attempt 1.
 */
async function storm(jitter: 'full' | 'none'): Promise<number[]> {
  const server = await startFaultServer('http1', (_req, res) => res.end('ok'));
  const conns: Connection[] = Array.from({ length: CLIENTS }, () =>
    open(server.origin, { retry: { initialDelay: WINDOW, factor: 2, maxDelay: 4 * WINDOW, maxRetries: Infinity, jitter } }),
  );
  await Promise.all(conns.map(conn => firstValueFrom(conn.state$.pipe(filter(s => s === 'connected')))));
  // Each client's first backoff wait, from the moment it scheduled it (its `retrying` event) to its
  // redial: what jitter spreads. (Measured from the crash instead, a loaded machine's event-loop lag
  // in noticing 200 closed sockets would blur it.)
  const waits = conns.map(conn => {
    let scheduledAt = 0;
    return firstValueFrom(
      conn.pipe(
        filter(e => (e.type === 'retrying' && e.attempt === 1 && (scheduledAt = performance.now()) > 0 && false) || (e.type === 'connecting' && e.attempt === 1)),
        map(() => performance.now() - scheduledAt),
      ),
    );
  });
  const reconnected = Promise.all(conns.map(conn => firstValueFrom(conn.pipe(filter(e => e.type === 'connected')))));
  await server.kill();
  await server.restart();
  await reconnected;
  const times = await Promise.all(waits);
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
    // ...whereas without jitter none comes before the full window: they arrive together.
    // (Their spread is the loaded event loop's lateness, not the policy's: compare where they start.)
    expect(quantile(jittered, 0.25)).toBeLessThan(0.5 * WINDOW);
    expect(quantile(lockstep, 0.1)).toBeGreaterThanOrEqual(WINDOW - 5);
    await leaks.check();
  });
});
