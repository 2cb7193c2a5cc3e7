/**
 * Bytes allocated per request, by allocating function: `npx tsx bench/alloc.ts
 * --client=rxconn-json --section=h2c`. One client (named as in drivers.ts) sends `--count`
 * requests one at a time to the bench server (another process, core 1) while V8's sampling heap
 * profiler records every `--interval` bytes allocated, the objects that died young included.
 * Unlike time, this figure repeats from run to run (±0.1 %), so it weighs a change that saves a
 * few objects per request, which a throughput ratio cannot resolve. `--ref=<commit>` also
 * measures lib/ at that commit (as ab.ts does). It runs from the esbuild build. The profiler
 * charges an allocation to the function whose optimized code made it, so an inlined callee's
 * objects appear under its caller; `--attribute` runs with `--no-turbo-inlining` to charge each
 * function its own, at the price of the objects that inlining lets V8 avoid (the total rises).
 */
import { spawn } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import type { HeapProfiler } from 'node:inspector';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { arg, tlsFixtures } from './common.js';
import { decodePath } from './clients/promise.js';
import type { drivers as Drivers, Section } from './drivers.js';
import { bundle } from './bundle.js';
import { buildRef, refDir } from './ref.js';
import { bundled, compiled } from './paths.js';
import { hasTaskset, pinSelf, startServer } from './server-control.js';

type HeapNode = HeapProfiler.SamplingHeapProfileNode;

/** Self bytes per function (`name file:line`), summed over the profile's call tree. */
function byFunction(root: HeapNode): Map<string, number> {
  const sums = new Map<string, number>();
  const walk = (node: HeapNode): void => {
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'}  ${url.replace(/.*\/\.build\/(ref\/)?/, '').replace(/.*node_modules\//, '')}:${lineNumber + 1}`;
    if (node.selfSize > 0) sums.set(key, (sums.get(key) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child);
  };
  walk(root);
  return sums;
}

/** One client's figure, in this (built) process. */
async function measure(build: string, name: string): Promise<void> {
  const section = arg('section', 'h2c') as Section;
  const count = Number(arg('count', '10000'));
  const top = Number(arg('top', '25'));
  const { drivers } = (await import(pathToFileURL(join(build, 'bench', 'drivers.js')).href)) as { drivers: typeof Drivers };
  const driver = drivers(section)[name];
  if (!driver) throw new Error(`unknown client ${name}; one of ${Object.keys(drivers(section)).join(', ')}`);
  const pinned = hasTaskset() && pinSelf(0);
  const server = await startServer(pinned ? 1 : null);
  const port = section === 'h2c' ? server.ports.h2c : section === 'tls' ? server.ports.h2tls : server.ports.http1;
  const client = await driver.setup({ origin: `${section === 'tls' ? 'https' : 'http'}://127.0.0.1:${port}`, ca: tlsFixtures().ca });
  const path = name.endsWith('-json') ? decodePath('json', 64) : '/64';
  const one = (): Promise<void> => new Promise((resolve, reject) => client.request(path, (error) => (error ? reject(error) : resolve())));
  const inspector = new Session();
  try {
    for (let i = 0; i < 5_000; i++) await one(); // warm-up: the JIT settles
    inspector.connect();
    await inspector.post('HeapProfiler.startSampling', {
      samplingInterval: Number(arg('interval', '64')),
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    for (let i = 0; i < count; i++) await one();
    const { profile } = await inspector.post('HeapProfiler.stopSampling');
    const sums = byFunction(profile.head);
    const total = [...sums.values()].reduce((x, y) => x + y, 0);
    console.log(`${name}${build.endsWith('ref') ? ' at --ref' : ''}, ${section} c=1: ${Math.round(total / count)} B allocated per request`);
    for (const [key, bytes] of [...sums].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`${String(Math.round(bytes / count)).padStart(7)}  ${key}`);
  } finally {
    inspector.disconnect();
    await client.close();
    await server.stop();
  }
}

/** From source: build, then measure each client (and the --ref copy) in a fresh built process. */
async function relaunch(): Promise<number> {
  const built = await bundle();
  if ('error' in built) throw new Error(`could not bundle the bench: ${built.error}`);
  const ref = arg('ref', '');
  if (ref) await buildRef(ref);
  const builds = ref ? [refDir(), built.dir] : [built.dir];
  for (const name of arg('client', 'rxconn-json').split(',')) {
    for (const build of builds) {
      const args = [...(process.argv.includes('--attribute') ? ['--no-turbo-inlining'] : []), compiled('alloc'), `--build=${build}`, `--client=${name}`, ...process.argv.slice(2)];
      const code = await new Promise<number>((resolve) => spawn(process.execPath, args, { stdio: 'inherit' }).on('close', (exit) => resolve(exit ?? 1)));
      if (code !== 0) return code;
    }
  }
  return 0;
}

(bundled() ? measure(arg('build', ''), arg('client', 'rxconn-json')).then(() => 0) : relaunch()).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
