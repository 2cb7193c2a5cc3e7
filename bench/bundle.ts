/**
 * Compiles the bench and rxconn's lib/ with esbuild into bench/.build/ (one .js file per source
 * file, the directory layout kept), the way tsup compiles the published package: no
 * `keepNames`. Running lib/ through tsx instead would measure tsx's `keepNames` helper
 * (`__name()` on every closure created per request), which the shipped build does not have.
 * One file per source file (not one bundle) keeps profiles readable: frames name lib/<file>.js.
 */
import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildDir, repoRoot } from './paths.js';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name.startsWith('.') || entry.name === 'results' ? [] : sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/**
 * Compiles; resolves with the build directory, or with the reason it could not. `from` compiles
 * another tree (a directory holding `lib/` and `bench/`, e.g. an earlier commit's lib/ with
 * this bench: `--ref` in ab.ts) into `out`.
 */
export async function bundle(from?: { root: string; out: string }): Promise<{ dir: string } | { error: string }> {
  try {
    const esbuild = await import('esbuild');
    const root = from?.root ?? repoRoot();
    const out = from?.out ?? buildDir();
    await esbuild.build({
      entryPoints: [...sources(join(root, 'lib')), ...sources(join(root, 'bench'))],
      outbase: root,
      outdir: out,
      bundle: false,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'error',
    });
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'package.json'), '{ "type": "module", "private": true }\n');
    return { dir: out };
  } catch (error) {
    return { error: error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error) };
  }
}
