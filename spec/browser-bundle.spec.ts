/**
 * The browser build stays a browser build: esbuild bundles the browser entries for
 * `--platform=browser`, which fails on any `node:` import, and the bundle carries neither `ws`
 * nor the Node runtime. The Node entry, bundled the same way, fails: the check bites.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'esbuild';
import type { BuildOptions } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = resolve(new URL('..', import.meta.url).pathname);

function bundle(entry: string): ReturnType<typeof build> {
  const options: BuildOptions = {
    entryPoints: [resolve(root, entry)],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    // The peers are the app's to bundle; everything of rxconn's own is inside.
    external: ['rxjs', 'rxjs/*', '@angular/*'],
  };
  return build(options);
}

describe('the browser bundle', () => {
  it.each(['lib/browser/index.ts', 'lib/browser/angular.ts', 'lib/browser/angular-http.ts'])('%s bundles for the browser without node:, ws or lib/node', async entry => {
    const result = await bundle(entry);
    const inputs = Object.keys(result.metafile!.inputs);
    expect(inputs.some(input => input.startsWith('lib/core/'))).toBe(true);
    expect(inputs.filter(input => /node_modules\/ws\/|^lib\/node\/|^node:/.test(input))).toEqual([]);
    const imports = Object.values(result.metafile!.outputs).flatMap(output => output.imports.map(i => i.path));
    expect(imports.filter(path => !/^(rxjs|@angular\/)/.test(path))).toEqual([]);
  });

  it('the Node entry does not bundle for the browser (the guard works)', async () => {
    await expect(bundle('lib/index.ts')).rejects.toThrow(/node:(net|tls|http2|crypto)/);
  });

  it('package.json sends bundlers to the browser build (browser, default) and Node to the Node build', () => {
    const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { exports: Record<string, Record<string, unknown>> };
    for (const entry of ['.', './angular', './angular/http']) {
      const conditions = pkg.exports[entry]!;
      expect(Object.keys(conditions)).toEqual(['browser', 'node', 'default']);
      expect(conditions.default).toEqual(conditions.browser);
      expect(JSON.stringify(conditions.browser)).toContain('./dist/browser/');
      expect(JSON.stringify(conditions.node)).not.toContain('browser');
    }
  });
});
