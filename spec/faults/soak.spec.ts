/**
 * Soak: 50,000 small requests on one connection with a server crash and restart every 10,000.
 * Every request is accounted for (a response, or RXCONN_CONNECTION_DOWN / RXCONN_STREAM_REFUSED /
 * RXCONN_NO_RESPONSE for those cut by a crash), and heap and RSS stay flat: measured after a GC at 25k and at 50k.
 * `SOAK_REQUESTS` scales it (e.g. `SOAK_REQUESTS=500000 npx vitest run spec/faults/soak.spec.ts`).
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { open } from '../../lib/index.js';
import type { Protocol } from '../../lib/index.js';
import { leakCheck } from '../helpers/lifecycle.js';
import { outcome } from './helpers/outcomes.js';
import { startFaultServer } from './helpers/servers.js';

const TOTAL = Number(process.env.SOAK_REQUESTS ?? 50_000);
const RESTART_EVERY = 10_000;
const CONCURRENCY: Record<Protocol, number> = { http1: 16, http2: 64 };

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function memory(): { heap: number; rss: number } {
  gc();
  gc();
  const { heapUsed, rss } = process.memoryUsage();
  return { heap: heapUsed, rss };
}

const MiB = 1024 * 1024;

describe.each([['http2', TOTAL], ['http1', TOTAL]] as const)('soak over %s', (protocol, total) => {
  it(`${total} requests with a server restart every ${RESTART_EVERY}: all accounted for, heap and RSS flat`, async () => {
    const leaks = leakCheck();
    const server = await startFaultServer(protocol === 'http2' ? 'h2c' : 'http1', (_req, res) => res.end('ok'));
    const conn = open(server.origin, { protocols: [protocol], retry: { initialDelay: 1, maxDelay: 5, maxRetries: Infinity } });
    const codes = new Map<string, number>();
    let issued = 0;
    let settled = 0;
    let restarting: Promise<void> | undefined;
    const samples: Record<string, { heap: number; rss: number }> = {};
    const worker = async (): Promise<void> => {
      while (issued < total) {
        const n = ++issued;
        const result = await outcome(conn.get('/soak'));
        const code = result.code ?? (result.status === 200 && result.body.toString() === 'ok' ? 'ok' : `unexpected ${result.status}`);
        codes.set(code, (codes.get(code) ?? 0) + 1);
        settled++;
        if (n % RESTART_EVERY === 0 && n < total) {
          restarting = (async () => {
            await server.kill();
            await server.restart();
          })();
        }
        await restarting;
        if (n === total / 2) samples.half = memory();
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY[protocol] }, () => worker()));
    samples.end = memory();
    expect(settled).toBe(total);
    const failures = [...codes.entries()].filter(([code]) => code !== 'ok');
    // RXCONN_NO_RESPONSE: written onto a reused HTTP/1.1 socket the crash closed before any response byte.
    for (const [code] of failures) expect(['RXCONN_CONNECTION_DOWN', 'RXCONN_STREAM_REFUSED', 'RXCONN_NO_RESPONSE']).toContain(code);
    // Only requests in flight at a crash may fail.
    expect(total - (codes.get('ok') ?? 0)).toBeLessThanOrEqual((total / RESTART_EVERY) * CONCURRENCY[protocol]);
    expect(conn.info()).toMatchObject({ activeStreams: 0, queuedRequests: 0 });
    // Flat: a leak of even 200 bytes per request would add > 4 MiB over the second half.
    expect((samples.end.heap - samples.half.heap) / MiB, `heap ${JSON.stringify(samples)}`).toBeLessThan(4);
    expect((samples.end.rss - samples.half.rss) / MiB, `rss ${JSON.stringify(samples)}`).toBeLessThan(32);
    conn.close();
    await conn.whenClosed();
    await server.close();
    await leaks.check();
  }, 60_000);
});
