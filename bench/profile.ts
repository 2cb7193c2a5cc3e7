/**
 * CPU profile of one client under load, summarised: `npx tsx bench/profile.ts --client=rxconn
 * --section=h2c --size=64 --concurrency=64 --count=60000`. Starts the bench server (core 1),
 * runs the client in a child process under `node --cpu-prof` (core 0), from the esbuild bundle
 * (as shipped, see bundle.ts), and prints the functions
 * and files with the most self time. `--interval=<µs>` samples more often than node's 1000 µs
 * (100 resolves functions of a fraction of a µs per request; the profiler then costs more). The raw .cpuprofile stays in bench/results/profiles/ for
 * Chrome DevTools or speedscope.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { arg, tlsFixtures } from './common.js';
import { decodePath } from './clients/promise.js';
import { drivers } from './drivers.js';
import type { Section } from './drivers.js';
import { runLoad } from './load.js';
import { hasTaskset, pinSelf, startServer } from './server-control.js';
import { bundle } from './bundle.js';
import { bundled, compiled, repoRoot, resultsDir, scriptArgs } from './paths.js';

interface Job {
  readonly client: string;
  readonly section: Section;
  readonly origin: string;
  readonly size: number;
  readonly concurrency: number;
  readonly count: number;
}

async function child(job: Job): Promise<void> {
  const driver = drivers(job.section)[job.client];
  if (!driver) throw new Error(`unknown client ${job.client}; one of ${Object.keys(drivers(job.section)).join(', ')}`);
  const client = await driver.setup({ origin: job.origin, ca: tlsFixtures().ca });
  const path = job.client.endsWith('-json') ? decodePath('json', job.size) : `/${job.size}`;
  const load = (count: number): ReturnType<typeof runLoad> =>
    runLoad((done) => client.request(path, done), { count, concurrency: job.concurrency, timeoutMs: 120_000, expectBytes: job.size });
  await load(Math.min(5_000, job.count));
  const sample = await load(job.count);
  await client.close();
  process.stdout.write(`${Math.round(sample.rate)} req/s, p50 ${sample.p50.toFixed(3)} ms, p99 ${sample.p99.toFixed(3)} ms, client CPU ${Math.round(sample.clientCpu * 100)}%, ${sample.cpuPerOp.toFixed(1)} µs CPU per request\n`);
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Where a frame's code lives, coarsely. */
function groupOf(url: string, functionName: string): string {
  if (functionName === '(garbage collector)') return 'GC';
  if (url.includes('/.build/lib/') || url.includes('/lib/')) return 'rxconn lib/';
  if (url.includes('/node_modules/rxjs/')) return 'rxjs';
  if (url.includes('/.build/bench/') || url.includes('/bench/')) return 'bench harness';
  if (url.startsWith('node:internal/http2')) return 'node:http2 internals';
  if (url.startsWith('node:internal/streams') || url === 'node:events') return 'node streams + events';
  if (url.startsWith('node:')) return 'node, other';
  if (url.includes('/node_modules/')) return 'other packages';
  return 'native, other';
}

/** Self time per group, per function and per file (idle excluded), top entries, as text. `operations` converts to µs per request. */
export function summarise(profile: CpuProfile, top = 30, operations = 0): string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + dt);
    if (byId.get(id)?.callFrame.functionName !== '(idle)') total += dt;
  });
  const root = `${repoRoot()}/`;
  const short = (url: string): string => url.replace(/^file:\/\//, '').replace(root, '') || '(native)';
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  const byGroup = new Map<string, number>();
  for (const [id, micros] of self) {
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === '(idle)') continue;
    const group = groupOf(frame.url, frame.functionName);
    byGroup.set(group, (byGroup.get(group) ?? 0) + micros);
    const file = short(frame.url);
    const key = `${frame.functionName || '(anonymous)'}  ${file}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
    byFile.set(file, (byFile.get(file) ?? 0) + micros);
  }
  const perOp = (micros: number): string => (operations > 0 ? `${(micros / operations).toFixed(2).padStart(7)} µs/req  ` : '');
  const table = (map: Map<string, number>, n: number): string[] =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, n).map(([key, micros]) => `${((micros / total) * 100).toFixed(1).padStart(5)}%  ${(micros / 1000).toFixed(0).padStart(6)} ms  ${perOp(micros)}${key}`);
  return [
    `busy ${(total / 1000).toFixed(0)} ms sampled (idle excluded)${operations > 0 ? `, ${perOp(total).trim()} over ${operations} requests (warm-up included)` : ''}`,
    '',
    'self time by group:',
    ...table(byGroup, 10),
    '',
    'self time by function:',
    ...table(byFunction, top),
    '',
    'self time by file:',
    ...table(byFile, 15),
  ].join('\n');
}

async function parent(): Promise<void> {
  const pinned = hasTaskset() && pinSelf(0);
  const server = await startServer(pinned ? 1 : null);
  try {
    const section = arg('section', 'h2c') as Section;
    const port = section === 'h2c' ? server.ports.h2c : section === 'tls' ? server.ports.h2tls : server.ports.http1;
    const job: Job = {
      client: arg('client', 'rxconn'),
      section,
      origin: `${section === 'tls' ? 'https' : 'http'}://127.0.0.1:${port}`,
      size: Number(arg('size', '64')),
      concurrency: Number(arg('concurrency', '64')),
      count: Number(arg('count', '60000')),
    };
    const dir = `${resultsDir()}/profiles/`;
    mkdirSync(dir, { recursive: true });
    const started = Date.now();
    const code = await new Promise<number | null>((resolve) => {
      const proc = spawn(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${arg('interval', '1000')}`, ...scriptArgs('profile'), '--child', JSON.stringify(job)], { stdio: 'inherit' });
      const timer = setTimeout(() => proc.kill('SIGKILL'), 180_000);
      proc.on('close', (exit) => {
        clearTimeout(timer);
        resolve(exit);
      });
    });
    if (code !== 0) throw new Error(`profiled child exited with ${code}`);
    const latest = readdirSync(dir)
      // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (tsx's loader runs in another).
      .filter((f) => f.endsWith('.cpuprofile') && f.split('.')[4] === '0')
      .map((f) => ({ f, t: statSync(dir + f).mtimeMs }))
      .filter(({ t }) => t >= started)
      .sort((a, b) => b.t - a.t)[0];
    if (!latest) throw new Error('no profile written');
    console.log(`${job.client} ${job.section} ${job.size} B c=${job.concurrency}: bench/results/profiles/${latest.f}\n`);
    console.log(summarise(JSON.parse(readFileSync(dir + latest.f, 'utf8')) as CpuProfile, Number(arg('top', '30')), job.count + Math.min(5_000, job.count)));
  } finally {
    await server.stop();
  }
}

/** From source (tsx): bundle first and run the bundled copy, so that rxconn is profiled as built. */
async function relaunch(): Promise<number> {
  const built = await bundle();
  if ('error' in built) throw new Error(`could not bundle the bench: ${built.error}`);
  const proc = spawn(process.execPath, [compiled('profile'), ...process.argv.slice(2)], { stdio: 'inherit' });
  return new Promise<number>((resolve) => proc.on('close', (code) => resolve(code ?? 1)));
}

const childIndex = process.argv.indexOf('--child');
const main = childIndex >= 0 ? child(JSON.parse(process.argv[childIndex + 1] ?? '{}') as Job) : bundled() ? parent() : relaunch().then((code) => process.exit(code));
main.then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
