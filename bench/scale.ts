/**
 * The scale jobs of `npm run bench -- --memory`, one per `node --expose-gc` process (started by
 * scale-main.ts with a JSON job as its argument; prints one `RESULT <json>` line). Each job starts
 * its own scale-server.ts process.
 *
 * - idle: N connections held open at once, N stepping up to 10,000; heap, RSS and external
 *   memory after a full GC at each step, so that the cost per connection and its slope show.
 *   Clients: raw `node:http2` sessions and rxconn over HTTP/2; raw `ws` WebSockets and rxconn's
 *   WebSocket channel (one HTTP/1.1 connection upgraded per channel).
 * - storm: N rxconn HTTP/2 connections, then the server destroys them all and refuses
 *   connections for `downMs` before it listens again; records when each connection came back.
 */
import { fork } from 'node:child_process';
import { connect as h2connect } from 'node:http2';
import type { ClientHttp2Session } from 'node:http2';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { WebSocket } from 'ws';
import { reportResult, withTimeout } from './common.js';
import { loadOpen, openConnected } from './clients/rxconn.js';
import type { ConnectionLike } from './clients/rxconn.js';
import { scriptArgs } from './paths.js';
import type { FromScaleServer, ToScaleServer } from './scale-server.js';

export type ScaleClient = 'node:http2' | 'rxconn http2' | 'ws' | 'rxconn websocket';

export type ScaleJob =
  | { readonly mode: 'idle'; readonly client: ScaleClient; readonly steps: readonly number[] }
  | { readonly mode: 'storm'; readonly count: number; readonly downMs: number; readonly retry: 'default' | 'unbounded' };

/** Memory after a full GC, in bytes. */
export interface ScalePoint {
  readonly count: number;
  readonly rss: number;
  readonly heap: number;
  readonly external: number;
  /** The young generation's committed memory (V8's new space): sized by the allocation rate, not by connections. */
  readonly young?: number;
  /** All of V8's heap spaces, committed and resident (`total_physical_size`). */
  readonly heapPhysical?: number;
  /** Wall time to open this step's new connections, in ms. */
  readonly openMs: number;
}

export interface StormResult {
  readonly mode: 'storm';
  readonly count: number;
  readonly downMs: number;
  readonly retry: 'default' | 'unbounded';
  /** Connections connected again at the end / that gave up (`failed`) / neither after the wait. */
  readonly reconnected: number;
  readonly failed: number;
  readonly pending: number;
  /** Reconnect times, ms after the server came back: percentiles, and a histogram per 250 ms. */
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly histogram: readonly number[];
  /** Connection attempts (retries) during and after the outage, in total and per connection (max). */
  readonly retries: number;
  readonly maxRetries: number;
  /** Connections the server accepted after it came back, per 100 ms (the first 3 s). */
  readonly accepted: readonly number[];
  /** The successful attempt of each connection: from its `connecting` event to `connected`, p50 and p99 (ms). */
  readonly dialP50: number;
  readonly dialP99: number;
  /** Client process CPU from the outage to the end (ms), and the longest event-loop stall (ms). */
  readonly clientCpuMs: number;
  readonly maxLoopDelayMs: number;
}

export type ScaleResult =
  | { readonly mode: 'idle'; readonly client: ScaleClient; readonly base: ScalePoint; readonly points: readonly ScalePoint[] }
  | StormResult
  | { readonly mode: 'error'; readonly message: string };

const gcFn = (globalThis as { gc?: () => void }).gc;

async function settle(count: number, openMs: number): Promise<ScalePoint> {
  if (!gcFn) throw new Error('run with --expose-gc');
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gcFn();
  }
  const usage = process.memoryUsage();
  const young = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.physical_space_size ?? 0;
  return { count, rss: usage.rss, heap: usage.heapUsed, external: usage.external, young, heapPhysical: getHeapStatistics().total_physical_size, openMs };
}

interface Server {
  readonly h2c: number;
  readonly ws: number;
  command(message: ToScaleServer): void;
  next<T extends FromScaleServer['type']>(type: T): Promise<Extract<FromScaleServer, { type: T }>>;
  stop(): void;
}

function startServer(): Promise<Server> {
  const child = fork(scriptArgs('scale-server').at(-1) ?? '', [], { execArgv: scriptArgs('scale-server').slice(0, -1), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  // Messages nobody waits for yet are kept: a busy client may read `down` and `up` in one go.
  const waiting: [string, (message: FromScaleServer) => void][] = [];
  const unclaimed: FromScaleServer[] = [];
  child.on('message', (message: FromScaleServer) => {
    const i = waiting.findIndex(([type]) => type === message.type);
    if (i >= 0) waiting.splice(i, 1)[0]?.[1](message);
    else unclaimed.push(message);
  });
  const next = <T extends FromScaleServer['type']>(type: T): Promise<Extract<FromScaleServer, { type: T }>> =>
    new Promise((resolve) => {
      const i = unclaimed.findIndex((message) => message.type === type);
      if (i >= 0) resolve(unclaimed.splice(i, 1)[0] as Extract<FromScaleServer, { type: T }>);
      else waiting.push([type, resolve as (message: FromScaleServer) => void]);
    });
  process.on('exit', () => child.kill('SIGKILL'));
  return withTimeout(next('ready'), 15_000, 'scale server start').then((ready) => ({
    h2c: ready.h2c,
    ws: ready.ws,
    command: (message) => void child.send(message),
    next,
    stop: () => void child.kill('SIGKILL'),
  }));
}

/** Opens `count` connections, `parallel` at a time; returns their closers. */
async function openMany(count: number, open: () => Promise<() => void>, parallel = 200): Promise<(() => void)[]> {
  const closers: (() => void)[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      closers.push(await open());
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return closers;
}

function rawSession(origin: string): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const session: ClientHttp2Session = h2connect(origin);
    session.once('error', reject);
    session.once('connect', () => {
      session.on('error', () => undefined);
      resolve(() => session.destroy());
    });
  });
}

function rawWebSocket(url: string): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('error', reject);
    ws.once('open', () => {
      ws.on('error', () => undefined);
      resolve(() => ws.terminate());
    });
  });
}

async function rxconnWebSocket(origin: string): Promise<() => void> {
  const conn = await openConnected(origin, { protocols: ['http1'] });
  const channel = conn.websocket('/');
  const subscription = channel.subscribe({ error: () => undefined });
  await withTimeout(
    new Promise<void>((resolve) => {
      const events = channel.events.subscribe((event) => {
        if (event.type === 'open') {
          resolve();
          queueMicrotask(() => events.unsubscribe());
        }
      });
    }),
    10_000,
    'WebSocket open',
  );
  return () => {
    subscription.unsubscribe();
    conn.close();
  };
}

async function idle(job: Extract<ScaleJob, { mode: 'idle' }>, server: Server): Promise<ScaleResult> {
  const h2c = `http://127.0.0.1:${server.h2c}`;
  const ws = `http://127.0.0.1:${server.ws}`;
  const open: Record<ScaleClient, () => Promise<() => void>> = {
    'node:http2': () => rawSession(h2c),
    'rxconn http2': async () => {
      const conn = await openConnected(h2c, { protocols: ['http2'] });
      return () => conn.close();
    },
    ws: () => rawWebSocket(ws.replace('http', 'ws')),
    'rxconn websocket': () => rxconnWebSocket(ws),
  };
  const opener = open[job.client];
  // Load the code and warm the path before the baseline.
  for (const close of await openMany(20, opener)) close();
  const base = await settle(0, 0);
  const closers: (() => void)[] = [];
  const points: ScalePoint[] = [];
  for (const step of job.steps) {
    const t0 = performance.now();
    closers.push(...(await openMany(step - closers.length, opener)));
    const openMs = performance.now() - t0;
    // Idle means up for a while: past the 1 s after which rxconn's reconnect loop ends for a connection that proved itself.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    points.push(await settle(closers.length, openMs));
  }
  for (const close of closers) close();
  return { mode: 'idle', client: job.client, base, points };
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;

async function storm(job: Extract<ScaleJob, { mode: 'storm' }>, server: Server): Promise<ScaleResult> {
  const origin = `http://127.0.0.1:${server.h2c}`;
  await loadOpen();
  const options = { protocols: ['http2' as const], ...(job.retry === 'unbounded' && { retry: { maxRetries: Infinity } }) };
  const conns: ConnectionLike[] = [];
  const t0 = Date.now();
  const note = (what: string): void => void process.stderr.write(`    storm ${job.retry}: ${what} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  await openMany(job.count, async () => {
    const conn = await openConnected(origin, options);
    conns.push(conn);
    return () => conn.close();
  });
  // Each connection: when it came back (wall clock), how many retries it took, whether it gave up.
  const back = new Array<number>(conns.length).fill(0);
  const dialing = new Array<number>(conns.length).fill(0);
  const dials: number[] = [];
  const retries = new Array<number>(conns.length).fill(0);
  let failed = 0;
  let down = false;
  conns.forEach((conn, i) => {
    conn.subscribe({
      next: (event) => {
        if (event.type === 'retrying') retries[i] = (retries[i] ?? 0) + 1;
        else if (event.type === 'connecting') dialing[i] = Date.now();
        else if (event.type === 'connected' && down) {
          back[i] = Date.now();
          dials.push(back[i] - (dialing[i] ?? 0));
        }
      },
      error: () => failed++,
    });
  });
  note(`${conns.length} connected`);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  server.command({ type: 'down', ms: job.downMs });
  await server.next('down');
  down = true;
  note('server down');
  const { at: upAt } = await server.next('up');
  note('server up');
  // Wait until every connection is back or gave up, at most 120 s after the server came back (the default retry budget per outage).
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline && back.filter((t) => t > 0).length + failed < conns.length) await new Promise((resolve) => setTimeout(resolve, 100));
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  note(`${back.filter((t) => t > 0).length} back, ${failed} failed`);
  server.command({ type: 'stats' });
  const stats = await server.next('stats');
  const times = back.filter((t) => t > 0).map((t) => t - upAt).sort((a, b) => a - b);
  const histogram: number[] = [];
  for (const t of times) {
    const slot = Math.max(0, Math.floor(t / 250));
    for (let i = histogram.length; i <= slot; i++) histogram.push(0);
    histogram[slot] = (histogram[slot] ?? 0) + 1;
  }
  for (const conn of conns) conn.close();
  return {
    mode: 'storm',
    count: conns.length,
    downMs: job.downMs,
    retry: job.retry,
    reconnected: times.length,
    failed,
    pending: conns.length - times.length - failed,
    p50: percentile(times, 50),
    p90: percentile(times, 90),
    p99: percentile(times, 99),
    max: times.at(-1) ?? Number.NaN,
    histogram,
    retries: retries.reduce((a, b) => a + b, 0),
    maxRetries: Math.max(0, ...retries),
    accepted: stats.accepted.slice(0, 30),
    dialP50: percentile(dials.sort((a, b) => a - b), 50),
    dialP99: percentile(dials, 99),
    clientCpuMs: Math.round((cpu.user + cpu.system) / 1000),
    maxLoopDelayMs: Math.round(loop.max / 1e6),
  };
}

async function main(): Promise<ScaleResult> {
  const job = JSON.parse(process.argv[2] ?? '{}') as ScaleJob;
  const server = await startServer();
  try {
    return job.mode === 'idle' ? await idle(job, server) : await storm(job, server);
  } finally {
    server.stop();
  }
}

reportResult(main());
