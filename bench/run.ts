/**
 * `npm run bench [-- --quick] [-- --only=h2c,tls,h1,ws,mem] [-- --clients=rxconn,got,...]`.
 * Compiles the bench and lib/ with esbuild (see bundle.ts) and runs the compiled bench/main.ts
 * under plain node; falls back to running it through tsx, with a warning, when that fails.
 */
import { spawn } from 'node:child_process';
import { bundle } from './bundle.js';
import { compiled } from './paths.js';

async function launch(): Promise<number> {
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
