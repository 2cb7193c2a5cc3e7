/**
 * `--ref=<commit>` of ab.ts and alloc.ts: lib/ as it was at that commit, compiled with today's
 * bench into bench/.build/ref, so that old and new rxconn run side by side in one process.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundle } from './bundle.js';
import { benchDir, buildDir, repoRoot } from './paths.js';

export const refDir = (): string => join(buildDir(), 'ref');

/** `--ref`: lib/ at `ref` and this bench, compiled into bench/.build/ref. */
export async function buildRef(ref: string): Promise<void> {
  const src = mkdtempSync(join(tmpdir(), 'rxconn-ref-'));
  try {
    const archive = execFileSync('git', ['archive', ref, 'lib'], { cwd: repoRoot(), maxBuffer: 64 << 20 });
    execFileSync('tar', ['-x', '-C', src], { input: archive });
    cpSync(benchDir(), join(src, 'bench'), { recursive: true, filter: (path) => !/\/bench\/(\.build|results)(\/|$)/.test(path) });
    rmSync(refDir(), { recursive: true, force: true });
    const built = await bundle({ root: src, out: refDir() });
    if ('error' in built) throw new Error(`could not compile lib/ at ${ref}: ${built.error}`);
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
}
