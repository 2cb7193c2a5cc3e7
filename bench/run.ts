/**
 * `npm run bench [-- --quick] [-- --only=h2c,tls,h1,ws,mem] [-- --clients=rxconn,got,...]`, or
 * `npm run bench -- --backpressure` (bench/backpressure.ts: the memory of a slow consumer).
 * Compiles the bench and lib/ with esbuild (see bundle.ts) and runs the compiled bench/main.ts
 * under plain node; falls back to running it through tsx, with a warning, when that fails.
 */
import { spawn } from 'node:child_process';
import { bundle } from './bundle.js';
import { join } from 'node:path';
import { benchDir, compiled } from './paths.js';

async function launch(): Promise<number> {
  if (process.argv.includes('--backpressure')) {
    // A memory measurement, not a speed one: run from source through tsx (see backpressure.ts).
    const child = spawn(process.execPath, ['--import', 'tsx', join(benchDir(), 'backpressure.ts')], { stdio: 'inherit' });
    return new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  }
  const built = await bundle();
  if ('error' in built) {
    process.stderr.write(`bench: could not bundle (${built.error}); running through tsx, which inflates the cost of rxconn's closures\n`);
    await import('./main.js');
    return new Promise<number>(() => undefined); // main.ts exits the process itself
  }
  const child = spawn(process.execPath, [compiled('main'), ...process.argv.slice(2)], { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise<number>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

launch().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('bench failed:', error);
    process.exit(1);
  },
);
