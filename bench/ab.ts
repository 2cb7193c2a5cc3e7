/**
 * A quick paired comparison of two clients, for checking one change without a full run:
 * `npx tsx bench/ab.ts --a=floor-json --b=rxconn-json --section=h2c --concurrency=1`.
 * Both clients run in one process on core 0 against the bench server on core 1, from the
 * esbuild build (as shipped, see bundle.ts), in alternating rounds of `--count` requests each
 * (the order flipped every round). Prints each round's b ÷ a throughput, CPU per request and
 * time in garbage collection per request (a proxy for what each allocates), then the medians.
 * Clients are named as in drivers.ts. `--processes=N` repeats the whole comparison in N fresh
 * processes and reports the median over them. `--ref=<commit>` compiles lib/ as it was at that
 * commit, with this bench, and names its clients `ref:<name>`: `--a=ref:rxconn-json
 * --b=rxconn-json --ref=HEAD~1` weighs one change in one process. `AB_NODE_FLAGS` passes node
 * flags to the measuring processes (`AB_NODE_FLAGS=--min-semi-space-size=16` fixes the young
 * generation's size, to tell GC-state effects from the code's own cost).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PerformanceObserver } from 'node:perf_hooks';
import { arg, tlsFixtures } from './common.js';
import type { HttpClient } from './common.js';
import { decodePath } from './clients/promise.js';
import { drivers } from './drivers.js';
import type { Section } from './drivers.js';
import { runLoad } from './load.js';
import type { Sample } from './load.js';
import { hasTaskset, pinSelf, startServer } from './server-control.js';
import { bundle } from './bundle.js';
import { bundled, compiled } from './paths.js';
import { buildRef, refDir } from './ref.js';

const median = (values: number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

async function compare(): Promise<void> {
  const section = arg('section', 'h2c') as Section;
  const names = [arg('a', 'floor-json'), arg('b', 'rxconn-json')] as const;
  const size = Number(arg('size', '64'));
  const concurrency = Number(arg('concurrency', '1'));
  const count = Number(arg('count', '20000'));
  const rounds = Number(arg('rounds', '9'));
  const pinned = hasTaskset() && pinSelf(0);
  const server = await startServer(pinned ? 1 : null);
  const clients: HttpClient[] = [];
  try {
    const port = section === 'h2c' ? server.ports.h2c : section === 'tls' ? server.ports.h2tls : server.ports.http1;
    const origin = `${section === 'tls' ? 'https' : 'http'}://127.0.0.1:${port}`;
    const available = drivers(section);
    const atRef = names.some((name) => name.startsWith('ref:'))
      ? ((await import(pathToFileURL(join(refDir(), 'bench', 'drivers.js')).href)) as { drivers: typeof drivers }).drivers(section)
      : {};
    for (const name of names) {
      const driver = name.startsWith('ref:') ? atRef[name.slice(4)] : available[name];
      if (!driver) throw new Error(`unknown client ${name}; one of ${Object.keys(available).join(', ')} (ref:<name> with --ref)`);
      clients.push(await driver.setup({ origin, ca: tlsFixtures().ca }));
    }
    let gcMs = 0;
    const gc = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) gcMs += entry.duration;
    });
    gc.observe({ entryTypes: ['gc'] });
    /** One measurement, and the GC time in it per request, in µs. */
    const run = async (i: number, n: number): Promise<Sample & { gc: number }> => {
      const path = names[i]!.endsWith('-json') ? decodePath('json', size) : `/${size}`;
      const gc0 = gcMs;
      const sample = await runLoad((done) => clients[i]!.request(path, done), { count: n, concurrency, timeoutMs: 120_000, expectBytes: size });
      await new Promise((resolve) => setImmediate(resolve)); // the observer's entries arrive asynchronously
      return { ...sample, gc: ((gcMs - gc0) * 1000) / n };
    };
    for (let i = 0; i < 2; i++) await run(i, Math.min(count, 5_000)); // warm-up
    if (process.argv.includes('--interleave')) {
      gc.disconnect();
      await interleaved(names, clients, (i) => (names[i]!.endsWith('-json') ? decodePath('json', size) : `/${size}`), count * rounds);
      return;
    }
    const ratios: number[] = [];
    const cpu: number[] = [];
    const gcs: number[] = [];
    console.log(`${names[1]} ÷ ${names[0]}, ${section} ${size} B c=${concurrency}, ${rounds} rounds of ${count}${pinned ? '' : ' (not pinned)'}`);
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? [0, 1] : [1, 0];
      const samples: (Sample & { gc: number })[] = [];
      for (const i of order) samples[i] = await run(i, count);
      const [a, b] = samples as [Sample & { gc: number }, Sample & { gc: number }];
      ratios.push(b.rate / a.rate);
      cpu.push(b.cpuPerOp - a.cpuPerOp);
      gcs.push(b.gc - a.gc);
      console.log(
        `  round ${round + 1}: ${Math.round(a.rate)} vs ${Math.round(b.rate)} req/s = ${(b.rate / a.rate).toFixed(3)}×; ` +
          `CPU ${a.cpuPerOp.toFixed(1)} vs ${b.cpuPerOp.toFixed(1)} µs/req; GC ${a.gc.toFixed(1)} vs ${b.gc.toFixed(1)} µs/req`,
      );
    }
    gc.disconnect();
    const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
    console.log(`median ${median(ratios).toFixed(3)}×, CPU ${signed(median(cpu))} µs/req, GC ${signed(median(gcs))} µs/req`);
  } finally {
    for (const client of clients) await client.close();
    await server.stop();
  }
}

/**
 * `--interleave`: one request at a time, a's and b's alternating (which goes first flips every
 * pair), each timed alone. Load from other processes then falls on both alike, request by
 * request, instead of on whichever round it lands in: on a busy machine the median latencies
 * still compare. Prints b ÷ a of the median and of the mean of the middle 80 %.
 */
async function interleaved(names: readonly [string, string], clients: HttpClient[], pathOf: (i: number) => string, pairs: number): Promise<void> {
  const times = [new Float64Array(pairs), new Float64Array(pairs)];
  const one = (i: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const t0 = performance.now();
      clients[i]!.request(pathOf(i), (error) => (error ? reject(error) : resolve(performance.now() - t0)));
    });
  for (let k = 0; k < pairs; k++) {
    const first = k % 2;
    times[first]![k] = await one(first);
    times[1 - first]![k] = await one(1 - first);
  }
  const summary = (t: Float64Array): { median: number; trimmed: number } => {
    const sorted = [...t].sort((x, y) => x - y);
    const middle = sorted.slice(Math.floor(pairs * 0.1), Math.ceil(pairs * 0.9));
    return { median: sorted[Math.floor(pairs / 2)] ?? Number.NaN, trimmed: middle.reduce((x, y) => x + y, 0) / middle.length };
  };
  const [a, b] = [summary(times[0]!), summary(times[1]!)];
  const us = (ms: number): string => `${(ms * 1000).toFixed(1)} µs`;
  console.log(`${names[1]} vs ${names[0]}, ${pairs} interleaved pairs: median ${us(b.median)} vs ${us(a.median)}, trimmed mean ${us(b.trimmed)} vs ${us(a.trimmed)}`);
  console.log(`throughput b ÷ a (from latency): median ${(a.median / b.median).toFixed(3)}×, trimmed mean ${(a.trimmed / b.trimmed).toFixed(3)}×`);
}

/** Runs the built copy once; resolves with its exit code and what it printed. */
function runBuilt(args: readonly string[], echo: boolean): Promise<{ code: number; out: string }> {
  const proc = spawn(process.execPath, [...(process.env.AB_NODE_FLAGS ? process.env.AB_NODE_FLAGS.split(' ') : []), compiled('ab'), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (echo) process.stdout.write(chunk);
  });
  return new Promise((resolve) => proc.on('close', (code) => resolve({ code: code ?? 1, out })));
}

/**
 * From source (tsx): build first and run the built copy, so that rxconn runs as shipped. With
 * `--processes=N`, N fresh processes one after another: a process's JIT and GC state moves all
 * of its rounds alike (±4 % measured), so the median over processes is the steadier figure.
 */
async function relaunch(): Promise<number> {
  const built = await bundle();
  if ('error' in built) throw new Error(`could not bundle the bench: ${built.error}`);
  const ref = arg('ref', '');
  if (ref) await buildRef(ref);
  const processes = Number(arg('processes', '1'));
  const args = process.argv.slice(2).filter((a) => !a.startsWith('--processes='));
  if (processes <= 1) return (await runBuilt(args, true)).code;
  const medians: number[] = [];
  for (let i = 0; i < processes; i++) {
    const { code, out } = await runBuilt(args, false);
    const last = out.trim().split('\n').at(-1) ?? '';
    console.log(`process ${i + 1}: ${last}`);
    const ratio = Number(/median ([0-9.]+)×/.exec(last)?.[1]);
    if (code !== 0 || !Number.isFinite(ratio)) return code || 1;
    medians.push(ratio);
  }
  console.log(`median over ${processes} processes: ${median(medians).toFixed(3)}× (${Math.min(...medians).toFixed(3)}–${Math.max(...medians).toFixed(3)})`);
  return 0;
}

(bundled() ? compare().then(() => 0) : relaunch()).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
