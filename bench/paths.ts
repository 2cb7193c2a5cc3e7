/** Where things are, whether the bench runs from source (tsx) or compiled in bench/.build/. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest directory above this file with a package.json and node_modules (bench/.build has only the former). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'node_modules'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('bench: no package.json above the bench code');
    dir = parent;
  }
  return dir;
}

export const benchDir = (): string => join(repoRoot(), 'bench');
export const resultsDir = (): string => join(benchDir(), 'results');
export const buildDir = (): string => join(benchDir(), '.build');

/** Whether this code is running compiled from bench/.build (plain node) rather than from source (tsx). */
export const bundled = (): boolean => import.meta.url.endsWith('.js') && import.meta.url.includes('/.build/');

/** Node arguments that run the bench script `name` the same way this process runs: compiled, or through tsx. */
export function scriptArgs(name: 'main' | 'server' | 'memory' | 'profile' | 'ab' | 'scale' | 'scale-server'): string[] {
  return bundled() ? [join(buildDir(), 'bench', `${name}.js`)] : ['--import', 'tsx', join(benchDir(), `${name}.ts`)];
}

/** The compiled copy of bench script `name`. */
export const compiled = (name: 'main' | 'profile' | 'ab' | 'alloc'): string => join(buildDir(), 'bench', `${name}.js`);
