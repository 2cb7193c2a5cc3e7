/**
 * Bundles the bench (and rxconn's lib/, which it imports) with esbuild into bench/.build/, the
 * way tsup builds the published package: no `keepNames`. Running lib/ through tsx instead would
 * measure tsx's `keepNames` helper (`__name()` on every closure created per request), which the
 * shipped build does not have.
 */
import { join } from 'node:path';
import { benchDir, buildDir } from './paths.js';

/** Builds the bundles; resolves with the build directory, or with the reason it could not. */
export async function bundle(): Promise<{ dir: string } | { error: string }> {
  try {
    const esbuild = await import('esbuild');
    await esbuild.build({
      entryPoints: ['main', 'server', 'memory', 'profile'].map((name) => join(benchDir(), `${name}.ts`)),
      outdir: buildDir(),
      outExtension: { '.js': '.mjs' },
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'error',
    });
    return { dir: buildDir() };
  } catch (error) {
    return { error: error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error) };
  }
}
