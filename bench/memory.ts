/**
 * Memory measurements, one client per process (`node --expose-gc`), so that nothing else lives
 * in the heap being measured. Started by bench/run.ts with a JSON job as its argument; prints one
 * `RESULT <json>` line.
 *
 * - growth: RSS and heap (after a full GC) after 0, N/2 and N requests on one connection.
 * - idle: heap and RSS per open idle connection (N connections open at once).
 * - churn: time, heap and RSS to open and close N connections, one after the other; memory
 *   is also read halfway, so that what each connection leaves behind shows as a slope.
 */
import { connect as netConnect } from 'node:net';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { HttpTarget } from './common.js';
import { reportResult } from './common.js';
import { runLoad } from './load.js';
import { closeSession, connectSession, nodeHttp2 } from './clients/node-http2.js';
import { nodeHttp } from './clients/node-http.js';
import { openConnected, rxconnHttp, shutdown } from './clients/rxconn.js';

/** Clients of the memory jobs. `net` is a bare TCP socket: the floor of any HTTP/1.1 connection. */
export type MemoryClient = 'node:http2' | 'rxconn http2' | 'node:http agent' | 'rxconn http1' | 'net';

export type MemoryJob =
  | { readonly mode: 'growth'; readonly client: MemoryClient; readonly origin: string; readonly total: number; readonly concurrency: number }
  | { readonly mode: 'idle' | 'churn'; readonly client: MemoryClient; readonly origin: string; readonly count: number };

/** RSS, heap used and external memory (Buffers and other off-heap memory), in bytes, after a full GC. */
export interface MemoryPoint {
  readonly rss: number;
  readonly heap: number;
  readonly external: number;
}

export type MemoryResult =
  | { readonly mode: 'growth'; readonly points: readonly MemoryPoint[]; readonly rate: number }
  | { readonly mode: 'idle'; readonly before: MemoryPoint; readonly after: MemoryPoint; readonly count: number }
  | { readonly mode: 'churn'; readonly points: readonly MemoryPoint[]; readonly count: number; readonly elapsedMs: number }
  | { readonly mode: 'error'; readonly message: string };

const gcFn = (globalThis as { gc?: () => void }).gc;

async function settle(): Promise<MemoryPoint> {
  if (!gcFn) throw new Error('run with --expose-gc');
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gcFn();
  }
  const usage = process.memoryUsage();
  return { rss: usage.rss, heap: usage.heapUsed, external: usage.external };
}

/** Opens one connection, ready to use; returns its closer. */
async function openOne(client: MemoryClient, target: HttpTarget): Promise<() => Promise<void>> {
  switch (client) {
    case 'node:http2': {
      const session = await connectSession(target);
      return () => closeSession(session);
    }
    case 'rxconn http2':
    case 'rxconn http1': {
      const conn = await openConnected(target.origin, { protocols: [client === 'rxconn http2' ? 'http2' : 'http1'] });
      return () => shutdown(conn);
    }
    case 'net': {
      const { hostname, port } = new URL(target.origin);
      const socket: Socket = await new Promise((resolve, reject) => {
        const s = netConnect({ host: hostname, port: Number(port) }, () => resolve(s));
        s.once('error', reject);
      });
      return () =>
        new Promise<void>((resolve) => {
          socket.once('close', () => resolve());
          socket.end();
        });
    }
    case 'node:http agent':
      throw new Error('node:http agent is measured in growth only');
  }
}

async function growth(job: Extract<MemoryJob, { mode: 'growth' }>, target: HttpTarget): Promise<MemoryResult> {
  const drivers = { 'node:http2': nodeHttp2, 'rxconn http2': rxconnHttp('http2'), 'node:http agent': nodeHttp, 'rxconn http1': rxconnHttp('http1') } as const;
  if (job.client === 'net') throw new Error('net has no requests');
  const client = await drivers[job.client].setup(target);
  const half = Math.floor(job.total / 2);
  let loadMs = 0;
  const load = async (count: number): Promise<void> => {
    const sample = await runLoad((done) => client.request('/64', done), { count, concurrency: job.concurrency, timeoutMs: 60_000, expectBytes: 64 });
    loadMs += sample.elapsedMs;
  };
  await load(1_000); // warm-up: JIT and pools in place before the first point
  loadMs = 0;
  const points = [await settle()];
  await load(half);
  points.push(await settle());
  await load(job.total - half);
  points.push(await settle());
  await client.close();
  return { mode: 'growth', points, rate: (job.total / loadMs) * 1000 };
}

async function main(): Promise<MemoryResult> {
  const job = JSON.parse(process.argv[2] ?? '{}') as MemoryJob;
  const target: HttpTarget = { origin: job.origin, ca: Buffer.alloc(0) };
  if (job.mode === 'growth') return growth(job, target);
  // Load the client code (and rxconn's module graph) before the baseline.
  await (await openOne(job.client, target))();
  const before = await settle();
  if (job.mode === 'idle') {
    const closers: (() => Promise<void>)[] = [];
    for (let i = 0; i < job.count; i++) closers.push(await openOne(job.client, target));
    // Idle means up for a while: past the 1 s after which rxconn's reconnect loop ends for a connection that proved itself.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const after = await settle();
    for (const close of closers) await close();
    return { mode: 'idle', before, after, count: job.count };
  }
  const half = Math.floor(job.count / 2);
  let elapsedMs = 0;
  const churn = async (count: number): Promise<MemoryPoint> => {
    const t0 = performance.now();
    for (let i = 0; i < count; i++) await (await openOne(job.client, target))();
    elapsedMs += performance.now() - t0;
    return settle();
  };
  const points = [before, await churn(half), await churn(job.count - half)];
  return { mode: 'churn', points, count: job.count, elapsedMs };
}

reportResult(main());
