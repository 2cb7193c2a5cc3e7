/** Where things are, whether the bench runs from source (tsx) or from its bundle in bench/.build/. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest directory above this file with a package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('bench: no package.json above the bench code');
    dir = parent;
  }
  return dir;
}

export const benchDir = (): string => join(repoRoot(), 'bench');
export const resultsDir = (): string => join(benchDir(), 'results');
export const buildDir = (): string => join(benchDir(), '.build');

/** Whether this code is running from the bundle (plain node) rather than from source (tsx). */
export const bundled = (): boolean => import.meta.url.endsWith('.mjs');

/** Node arguments that run the bench script `name` the same way this process runs: bundled, or through tsx. */
export function scriptArgs(name: 'server' | 'memory' | 'profile'): string[] {
  return bundled() ? [join(buildDir(), `${name}.mjs`)] : ['--import', 'tsx', join(benchDir(), `${name}.ts`)];
}
