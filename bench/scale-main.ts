/**
 * `npm run bench -- --memory`: the scale jobs (bench/scale.ts), one fresh process each, then
 * bench/results/memory.{md,json}. Not part of the default run: 10,000 connections take a minute
 * or two per job and need `ulimit -n` above 10,000 (the server side runs in its own process).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { ScaleClient, ScaleJob, ScaleResult, StormResult } from './scale.js';
import { resultsDir, scriptArgs } from './paths.js';

const kib = (bytes: number): string => (Number.isFinite(bytes) ? `${(bytes / 1024).toFixed(1)} KiB` : '–');

function runJob(job: ScaleJob, log: (line: string) => void): Promise<ScaleResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', ...scriptArgs('scale'), JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), job.mode === 'storm' ? 420_000 : 240_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      const result = line ? (JSON.parse(line.slice(7)) as ScaleResult) : { mode: 'error' as const, message: `scale job exited (${code ?? signal}) without a result` };
      if (result.mode === 'error') log(`    n/a: ${result.message}`);
      resolve(result);
    });
  });
}

/** The fd limit this process runs with (`ulimit -n`), from /proc. */
function fdLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    return Number(line?.split(/\s+/)[3]);
  } catch {
    return Number.NaN;
  }
}

/** One idle job's runs (fresh processes): the median run by RSS at the last step, and every run's RSS per connection at each step. */
export type IdleResult = Extract<ScaleResult, { mode: 'idle' }> & { readonly runs?: readonly (readonly number[])[] };

type Point = IdleResult['points'][number];
const rssPer = (p: Point, base: Point): number => (p.rss - base.rss) / p.count;
/** RSS less V8's young generation: that space grows with the allocation rate to ~32 MB per process, whatever the connections. */
const settledPer = (p: Point, base: Point): number => (p.young === undefined || base.young === undefined ? Number.NaN : (p.rss - p.young - (base.rss - base.young)) / p.count);

function idleTable(results: readonly IdleResult[], floorOf: Record<string, string>): string[] {
  const out = [
    '| Client | connections | open time | heap per connection | RSS per connection | RSS × floor | RSS per connection, each run | RSS less young generation, per connection | × floor | marginal RSS per connection (since previous step) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of results) {
    const floor = results.find((f) => f.client === floorOf[r.client]);
    let previous = r.base;
    r.points.forEach((p, step) => {
      const fp = floor?.points.find((q) => q.count === p.count);
      const ratio = (of: (p: Point, base: Point) => number): string => (fp && floor && floor !== r ? `${(of(p, r.base) / of(fp, floor.base)).toFixed(2)}×` : '');
      const marginal = (p.rss - previous.rss) / (p.count - previous.count);
      const runs = r.runs?.map((run) => (run[step] === undefined ? '–' : ((run[step] ?? 0) / 1024).toFixed(1))).join(', ') ?? '';
      out.push(
        `| ${r.client} | ${p.count.toLocaleString('en-US')} | ${(p.openMs / 1000).toFixed(1)} s | ${kib((p.heap - r.base.heap) / p.count)} | ${kib(rssPer(p, r.base))} | ${ratio(rssPer)} | ${runs} | ${kib(settledPer(p, r.base))} | ${ratio(settledPer)} | ${kib(marginal)} |`,
      );
      previous = p;
    });
  }
  return out;
}

/** Runs one idle job `repeats` times, each in a fresh process; keeps the median run (by RSS at the last step). */
async function idleRuns(client: ScaleClient, steps: readonly number[], repeats: number, log: (line: string) => void): Promise<IdleResult | string> {
  const runs: Extract<ScaleResult, { mode: 'idle' }>[] = [];
  for (let i = 0; i < repeats; i++) {
    const result = await runJob({ mode: 'idle', client, steps }, log);
    if (result.mode !== 'idle') return result.mode === 'error' ? result.message : 'unexpected result';
    runs.push(result);
  }
  const last = (r: IdleResult): number => {
    const p = r.points.at(-1);
    return p ? rssPer(p, r.base) : Number.NaN;
  };
  const median = [...runs].sort((a, b) => last(a) - last(b))[Math.floor(runs.length / 2)]!;
  return { ...median, runs: runs.map((r) => r.points.map((p) => rssPer(p, r.base))) };
}

function stormLines(r: StormResult): string[] {
  // Empty 250 ms bins are left out.
  const bars = r.histogram.flatMap((n, i) => (n === 0 ? [] : [`| ${(i * 0.25).toFixed(2)}–${((i + 1) * 0.25).toFixed(2)} s | ${n} | ${'█'.repeat(Math.max(1, Math.round((n / r.count) * 200)))} |`]));
  return [
    `**${r.count.toLocaleString('en-US')} rxconn HTTP/2 connections, server gone for ${r.downMs} ms, retry ${r.retry === 'default' ? 'options by default' : '`{ maxRetries: Infinity }` (else default)'}**: ` +
      `${r.reconnected.toLocaleString('en-US')} reconnected, ${r.failed.toLocaleString('en-US')} gave up (\`failed\`), ${r.pending} still pending after 120 s. ` +
      `Back after the server returned: p50 ${r.p50} ms, p90 ${r.p90} ms, p99 ${r.p99} ms, max ${r.max} ms. ${r.retries.toLocaleString('en-US')} retries in all, at most ${r.maxRetries} for one connection. ` +
      `The successful dial (\`connecting\` → \`connected\`): p50 ${r.dialP50} ms, p99 ${r.dialP99} ms. Client CPU ${(r.clientCpuMs / 1000).toFixed(1)} s from the outage to the end; its longest event-loop stall ${(r.maxLoopDelayMs / 1000).toFixed(1)} s.`,
    '',
    `Accepted by the server per 100 ms after it came back: ${r.accepted.join(' ')}`,
    '',
    '| reconnected, after the server came back (non-empty 250 ms bins) | connections | |',
    '| --- | ---: | --- |',
    ...bars,
    '',
  ];
}

/** Runs the scale jobs; `parts` picks `idle` and/or `storm`. */
export async function memoryRun(log: (line: string) => void, quick: boolean, parts: ReadonlySet<string> = new Set(['idle', 'storm'])): Promise<void> {
  const started = performance.now();
  const load0 = loadavg()[0] ?? Number.NaN;
  const steps = quick ? [500, 1_000] : [1_000, 2_500, 5_000, 10_000];
  const count = steps.at(-1) ?? 0;
  const clients: ScaleClient[] = ['node:http2', 'rxconn http2', 'ws', 'rxconn websocket'];
  const idle: IdleResult[] = [];
  const errors: string[] = [];
  // RSS moves by ±10 % from one process to the next (how V8 sizes and keeps its spaces): 3 runs, the median kept.
  const repeats = quick ? 1 : 3;
  for (const client of parts.has('idle') ? clients : []) {
    log(`  idle ${client}: ${steps.join(', ')} connections, ${repeats} run${repeats > 1 ? 's' : ''}`);
    const result = await idleRuns(client, steps, repeats, log);
    if (typeof result === 'string') errors.push(`${client}: ${result}`);
    else idle.push(result);
  }
  const storms: StormResult[] = [];
  // rxconn's default retry (maxRetries Infinity, a 120 s budget per outage); 1,000 connections, then the full count.
  for (const stormCount of !parts.has('storm') ? [] : quick ? [count] : [1_000, count]) {
    const retry = 'default';
    log(`  storm: ${stormCount} connections, server down 2 s, retry ${retry}`);
    const result = await runJob({ mode: 'storm', count: stormCount, downMs: 2_000, retry }, log);
    if (result.mode === 'storm') storms.push(result);
    else errors.push(`storm ${retry}: ${result.mode === 'error' ? result.message : 'unexpected result'}`);
  }
  writeMemory({ date: new Date().toISOString().slice(0, 16).replace('T', ' '), node: process.version, quick, fdLimit: fdLimit(), load: [load0, loadavg()[0] ?? Number.NaN], durationS: (performance.now() - started) / 1000, idle, storms, errors }, log);
}

/** What `--memory` measured, as written to results/memory.json. */
export interface MemoryReport {
  readonly date: string;
  readonly node: string;
  readonly quick: boolean;
  readonly fdLimit: number;
  readonly load: readonly [number, number];
  readonly durationS: number;
  readonly idle: readonly IdleResult[];
  readonly storms: readonly StormResult[];
  readonly errors: readonly string[];
}

/** Writes results/memory.{md,json} (memory-quick.* for --quick) from a report; `--memory --render` rewrites the markdown from the JSON. */
export function writeMemory(report: MemoryReport, log: (line: string) => void): void {
  const { quick, idle, storms, errors } = report;
  const lines = [
    '# rxconn at scale: idle connections and a reconnect storm',
    '',
    `${report.date} UTC · Node ${report.node} · \`npm run bench -- --memory\`${quick ? ' --quick' : ''} · fd limit ${report.fdLimit} · load average ${report.load[0].toFixed(2)} at start, ${report.load[1].toFixed(2)} at end · ${report.durationS.toFixed(0)} s. ` +
      'Client and server in separate processes (not pinned); every reading after a full GC; per connection = (reading − reading before the first connection) ÷ connections. ' +
      'Each idle job ran in fresh processes (3, or 1 with --quick); the table shows the run with the median RSS at the last step, and every run\'s RSS per connection. ' +
      '"Less young generation" leaves out V8\'s new space, which grows with the allocation rate to ~32 MB per process whatever the connections: it is counted in RSS per connection, and makes that figure fall as connections are added.',
    '',
    '## Idle connections',
    '',
    ...idleTable([...idle], { 'rxconn http2': 'node:http2', 'rxconn websocket': 'ws' }),
    '',
    '## Reconnect storm',
    '',
    ...storms.flatMap(stormLines),
    ...(errors.length ? ['## Not measured', '', ...errors.map((e) => `- ${e}`), ''] : []),
  ];
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  const base = quick ? 'memory-quick' : 'memory';
  writeFileSync(`${dir}/${base}.md`, `${lines.join('\n')}\n`);
  writeFileSync(`${dir}/${base}.json`, `${JSON.stringify(report, null, 1)}\n`);
  process.stdout.write(`${lines.join('\n')}\n`);
  log(`wrote bench/results/${base}.md`);
}
