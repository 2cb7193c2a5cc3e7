/**
 * `npm run bench [-- --quick] [-- --only=h2c,tls,h1,user,ws,mem] [-- --clients=...] [-- --gc]`: starts
 * the server process, measures every client side by side, prints the markdown report and writes it to bench/results/
 * (latest.md + ratios.svg + latest.json; a --quick run writes quick.* instead). `--render`
 * rewrites the report from the last JSON without measuring; `--memory` runs only the scale jobs
 * (10,000 idle connections, a reconnect storm) and writes results/memory.md.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { HttpDriver } from './common.js';
import { gotHttp2 } from './clients/got.js';
import { http2Wrapper } from './clients/http2-wrapper.js';
import { nodeHttp } from './clients/node-http.js';
import { nodeHttp2, nodeHttp2BigWindow } from './clients/node-http2.js';
import { rxconnHttp, rxconnWs } from './clients/rxconn.js';
import { undiciHttp1, undiciHttp2 } from './clients/undici.js';
import type { Decode } from './clients/promise.js';
import { decodePath, gotPromise, nodeFetch, nodeHttp2Promise, nodeHttpPromise, rxconnLastEvent, rxconnPromise, undiciRequest } from './clients/promise.js';
import { rawWs } from './clients/ws.js';
import { tlsFixtures, WS, withTimeout } from './common.js';
import type { MemoryClient, MemoryJob, MemoryResult } from './memory.js';
import type { MemoryRow, Report } from './report.js';
import { toMarkdown } from './report.js';
import type { Row, RunSettings, WsMode } from './scenarios.js';
import { httpScenario, wsScenario } from './scenarios.js';
import type { BenchServer } from './server-control.js';
import { hasTaskset, pinSelf, startServer } from './server-control.js';
import { bundled, resultsDir, scriptArgs } from './paths.js';
import { ratiosSvg } from './svg.js';

const started = performance.now();
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const only = new Set(onlyArg ? onlyArg.split(',') : ['h2c', 'tls', 'h1', 'user', 'ws', 'mem']);
const clientsArg = args.find((a) => a.startsWith('--clients='))?.slice('--clients='.length);
/** `--clients=node:http2,rxconn`: keep only these clients (the floor of each section always runs). */
const keep = <T extends { readonly name: string }>(drivers: T[]): T[] =>
  clientsArg ? drivers.filter((d, i) => i === 0 || clientsArg.split(',').includes(d.name)) : drivers;
const log = (line: string): void => void process.stderr.write(`${((performance.now() - started) / 1000).toFixed(1).padStart(5)}s ${line}\n`);
/** --quick measures 64-byte bodies only; the full run adds 64 KiB. */
const sizes = quick ? [64] : [64, 65_536];

/**
 * `--long=K`: K times the requests per measurement, and 7 rounds. The default counts keep the full
 * run near 3 minutes, but a c=64 measurement then lasts ~0.15 s, and one major GC landing in one
 * client's window moves a ratio by 10–30 %; longer measurements average that out.
 */
const longArg = Number(args.find((a) => a.startsWith('--long='))?.slice('--long='.length));
const long = longArg > 1 ? longArg : 1;
/** Fixed request counts per measurement; --quick divides them, --long multiplies them. */
const scale = quick ? 0.25 : long;
/** A scaled count, a multiple of 16 (the WebSocket ack interval), at least 64. */
const n = (count: number): number => Math.max(64, Math.round((count * scale) / 16) * 16);
/** The first scenario of each section warms every client up for at least this long (cold JIT). */
const WARMUP_FIRST_MS = quick ? 150 : 500;
/** Warm-up before the first round: a tenth of a measurement (already scaled). */
const warm = (count: number): number => Math.max(64, Math.round(count / 10 / 16) * 16);
// Sized for ~0.3 s per floor measurement on a 2-core loopback box, so that the whole run stays under 3 minutes.
const HTTP_COUNTS: Record<string, number> = { '64:1': 800, '64:64': 2_800, '65536:1': 400, '65536:64': 800 };
const H1_COUNTS: Record<string, number> = { '64:1': 608, '64:64': 1_008, '65536:1': 304, '65536:64': 304 };
const WS_COUNTS: Record<string, number> = { 'round trip:64': 800, 'round trip:65536': 256, 'send:64': 16_000, 'send:65536': 400, 'receive:64': 32_000, 'receive:65536': 800 };
const MEMORY = quick ? { total: 10_000, idle: 50, churn: 100 } : { total: 100_000, idle: 200, churn: 1_000 };

/** Run time budget, from the start: throughput scenarios start only before `throughput`, memory jobs only before `memory`. */
const budgetArg = Number(args.find((a) => a.startsWith('--budget='))?.slice('--budget='.length));
/** `--budget=<s>` moves the throughput deadline (memory jobs get 60 s more): for a heavily loaded machine, where the default skips scenarios. */
const BUDGET_MS = budgetArg > 0 ? { throughput: budgetArg * 1000, memory: budgetArg * 1000 + 60_000 } : quick ? { throughput: 30_000, memory: 40_000 } : { throughput: 220_000, memory: 280_000 };
const settings: RunSettings = {
  rounds: quick ? 3 : long > 1 ? 7 : 5,
  // A loaded machine (--budget) also gets more time per measurement.
  timeoutMs: budgetArg > 0 ? 60_000 : quick ? 8_000 : 15_000,
  noisyCpu: 0.25,
  retries: { left: quick ? 2 : 10 },
  quietWait: { left: quick ? 0 : 5_000 },
  deadline: started + BUDGET_MS.throughput,
  gcBetween: args.includes('--gc'),
  log,
};

async function httpSections(server: BenchServer): Promise<Row[]> {
  const { ca } = tlsFixtures();
  const sections: { key: string; section: string; origin: string; drivers: HttpDriver[]; counts: Record<string, number> }[] = [
    { key: 'h2c', section: 'HTTP/2 h2c', origin: `http://127.0.0.1:${server.ports.h2c}`, drivers: [nodeHttp2, http2Wrapper, rxconnHttp('http2')], counts: HTTP_COUNTS },
    { key: 'tls', section: 'HTTP/2 TLS', origin: `https://127.0.0.1:${server.ports.h2tls}`, drivers: [nodeHttp2, http2Wrapper, gotHttp2, undiciHttp2, rxconnHttp('http2')], counts: HTTP_COUNTS },
    { key: 'h1', section: 'HTTP/1.1', origin: `http://127.0.0.1:${server.ports.http1}`, drivers: [nodeHttp, undiciHttp1(1), undiciHttp1(10), rxconnHttp('http1')], counts: H1_COUNTS },
  ];
  const rows: Row[] = [];
  for (const s of sections) {
    if (!only.has(s.key)) continue;
    for (const size of sizes) {
      for (const concurrency of [1, 64]) {
        const count = n(s.counts[`${size}:${concurrency}`] ?? 1_000);
        const first = size === sizes[0] && concurrency === 1;
        // 64 KiB over HTTP/2 is bound by flow control: show the raw session with big windows too.
        const drivers = size > 65_535 && s.key !== 'h1' ? [...s.drivers, nodeHttp2BigWindow] : s.drivers;
        rows.push(...(await httpScenario(server, settings, { section: s.section, target: { origin: s.origin, ca }, drivers: keep(drivers), size, concurrency, count, warmup: warm(count), warmupMs: first ? WARMUP_FIRST_MS : 0 })));
      }
    }
  }
  return rows;
}

/**
 * User-shaped scenarios: a Promise per request, the body collected as text or JSON (64 B), at
 * c=1 and c=64, against the raw floor wrapped the same way (see clients/promise.ts).
 */
async function userSections(server: BenchServer): Promise<Row[]> {
  if (!only.has('user')) return [];
  const { ca } = tlsFixtures();
  const sections: { section: string; origin: string; drivers: (decode: Decode) => HttpDriver[] }[] = [
    { section: 'HTTP/2 h2c, Promise per request', origin: `http://127.0.0.1:${server.ports.h2c}`, drivers: (d) => [nodeHttp2Promise(d), rxconnPromise('http2', d), ...(d === 'text' ? [rxconnLastEvent('http2')] : [])] },
    { section: 'HTTP/2 TLS, Promise per request', origin: `https://127.0.0.1:${server.ports.h2tls}`, drivers: (d) => [nodeHttp2Promise(d), rxconnPromise('http2', d), ...(d === 'text' ? [rxconnLastEvent('http2')] : []), nodeFetch(d), undiciRequest(d), gotPromise(d)] },
    { section: 'HTTP/1.1, Promise per request', origin: `http://127.0.0.1:${server.ports.http1}`, drivers: (d) => [nodeHttpPromise(d), rxconnPromise('http1', d), ...(d === 'text' ? [rxconnLastEvent('http1')] : []), nodeFetch(d), undiciRequest(d)] },
  ];
  const rows: Row[] = [];
  for (const [i, s] of sections.entries()) {
    const counts = i === 2 ? H1_COUNTS : HTTP_COUNTS;
    for (const decode of ['text', 'json'] as Decode[]) {
      for (const concurrency of [1, 64]) {
        const count = n(counts[`64:${concurrency}`] ?? 1_000);
        const first = decode === 'text' && concurrency === 1;
        rows.push(...(await httpScenario(server, settings, { section: s.section, target: { origin: s.origin, ca }, drivers: keep(s.drivers(decode)), size: 64, concurrency, count, warmup: warm(count), warmupMs: first ? WARMUP_FIRST_MS : 0, label: `${decode}()`, path: decodePath(decode, 64) })));
      }
    }
  }
  return rows;
}

async function wsSection(server: BenchServer): Promise<Row[]> {
  if (!only.has('ws')) return [];
  const rows: Row[] = [];
  for (const mode of ['send', 'receive', 'round trip'] as WsMode[]) {
    for (const size of sizes) {
      const count = n(WS_COUNTS[`${mode}:${size}`] ?? 1_000);
      const first = mode === 'send' && size === sizes[0];
      rows.push(...(await wsScenario(server, settings, { url: `ws://127.0.0.1:${server.ports.ws}${WS.path}`, drivers: keep([rawWs, rxconnWs]), mode, size, count, warmup: warm(count), warmupMs: first ? WARMUP_FIRST_MS : 0 })));
    }
  }
  return rows;
}

/** Runs one memory job in its own `node --expose-gc` process. */
function memoryJob(job: MemoryJob): Promise<MemoryResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', ...scriptArgs('memory'), JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), quick ? 20_000 : 45_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      resolve(line ? (JSON.parse(line.slice(7)) as MemoryResult) : { mode: 'error', message: `memory job exited (${code ?? signal}) without a result` });
    });
  });
}

async function memorySection(server: BenchServer): Promise<MemoryRow[]> {
  if (!only.has('mem')) return [];
  const h2c = `http://127.0.0.1:${server.ports.h2c}`;
  const h1 = `http://127.0.0.1:${server.ports.http1}`;
  const rows: MemoryRow[] = [];
  // rxconn first; the floors' growth (the reference for RSS noise) last, skipped if the run is out of time.
  const plan: [MemoryRow['test'], MemoryClient, string][] = [
    ['growth', 'rxconn http2', h2c],
    ['growth', 'rxconn http1', h1],
    ['idle', 'node:http2', h2c],
    ['idle', 'rxconn http2', h2c],
    ['idle', 'net', h1],
    ['idle', 'rxconn http1', h1],
    ['churn', 'node:http2', h2c],
    ['churn', 'rxconn http2', h2c],
    ['churn', 'net', h1],
    ['churn', 'rxconn http1', h1],
    ['growth', 'node:http2', h2c],
    ['growth', 'node:http agent', h1],
  ];
  // Rough upper estimates of one job on this kind of machine, so that a job starts only if it ends within budget.
  // (4k req/s on HTTP/1.1, 8k on HTTP/2, ~3 ms per connection, plus the process start.)
  const estimateMs = (test: MemoryRow['test'], origin: string): number =>
    800 + (test === 'growth' ? (MEMORY.total / (origin === h1 ? 4_000 : 8_000)) * 1000 : test === 'idle' ? MEMORY.idle * 5 : MEMORY.churn * 3);
  for (const [test, client, origin] of plan) {
    if (performance.now() - started + estimateMs(test, origin) > BUDGET_MS.memory) {
      log(`  memory ${test} ${client}: skipped (run time budget spent)`);
      rows.push({ test, client, result: { mode: 'error', message: 'skipped: run time budget spent' } });
      continue;
    }
    log(`  memory ${test} ${client}`);
    const job: MemoryJob = test === 'growth' ? { mode: test, client, origin, total: MEMORY.total, concurrency: 64 } : { mode: test, client, origin, count: test === 'idle' ? MEMORY.idle : MEMORY.churn };
    const result = await memoryJob(job);
    if (result.mode === 'error') log(`    ${client}: n/a: ${result.message}`);
    rows.push({ test, client, result });
  }
  return rows;
}

async function main(): Promise<void> {
  const t0 = started;
  const loadBefore = loadavg()[0] ?? Number.NaN;
  const pinned = hasTaskset() && pinSelf(0);
  log(`rxconn bench${quick ? ' --quick' : ''}: ${pinned ? 'client on core 0, server on core 1' : 'no taskset: processes not pinned'}`);
  const server = await startServer(pinned ? 1 : null);
  let report: Report;
  try {
    const rows = [...(await httpSections(server)), ...(await userSections(server)), ...(await wsSection(server))];
    const memory = await memorySection(server);
    report = {
      date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
      node: process.version,
      cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
      cores: cpus().length,
      pinned,
      quick,
      bundled: bundled(),
      rounds: settings.rounds,
      durationS: (performance.now() - t0) / 1000,
      load: [loadBefore, loadavg()[0] ?? Number.NaN],
      counts: quick
        ? '64-byte bodies only, request counts ÷4 (--quick), memory 10k requests'
        : `fixed counts per measurement (HTTP/2 64 B: ${n(800)} at c=1, ${n(2_800)} at c=64${long > 1 ? `: --long=${long}` : ''}; warm-up a tenth), memory 100k requests`,
      rows,
      memory,
    };
  } finally {
    await withTimeout(server.stop(), 5_000, 'server stop').catch(() => undefined);
  }
  write(report);
}

/** The results' file names: `latest` (and ratios.svg), or `quick`/`long` for those runs. */
const BASE = quick ? 'quick' : long > 1 ? 'long' : 'latest';
const CHART = BASE === 'latest' ? 'ratios.svg' : `${BASE}.svg`;

/** Prints the report and writes results/<latest|quick|long>.{md,json} and the chart. */
function write(report: Report): void {
  const markdown = toMarkdown(report);
  process.stdout.write(`${markdown}\n`);
  const dir = `${resultsDir()}/`;
  mkdirSync(dir, { recursive: true });
  const base = BASE;
  writeFileSync(`${dir}${base}.md`, `${markdown.replace('(ratios.svg)', `(${CHART})`)}\n`);
  writeFileSync(`${dir}${CHART}`, ratiosSvg(report.rows, `rxconn bench: throughput relative to the floor (${report.date}, Node ${report.node})`));
  writeFileSync(`${dir}${base}.json`, `${JSON.stringify(report, null, 1)}\n`);
  log(`wrote bench/results/${base}.md (${report.durationS.toFixed(0)} s)`);
}

/** `--memory`: only the scale jobs (10,000 idle connections, reconnect storm; `--only=idle` or `--only=storm`); see scale-main.ts. */
const memoryOnly = async (): Promise<void> => {
  const { memoryRun, writeMemory } = await import('./scale-main.js');
  if (args.includes('--render')) writeMemory(JSON.parse(readFileSync(`${resultsDir()}/${quick ? 'memory-quick' : 'memory'}.json`, 'utf8')) as import('./scale-main.js').MemoryReport, log);
  else await memoryRun(log, quick, new Set(onlyArg ? onlyArg.split(',') : ['idle', 'storm']));
};

/** `--render`: rewrites the report and the chart from results/<latest|quick|long>.json, without measuring. */
const run = args.includes('--memory') ? memoryOnly : args.includes('--render') ? async () => write(JSON.parse(readFileSync(`${resultsDir()}/${BASE}.json`, 'utf8')) as Report) : main;
run().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('bench failed:', error);
    process.exit(1);
  },
);
