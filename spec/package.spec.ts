/**
 * The package as users get it: `npm run build`, `npm pack`, the tarball installed in a temporary
 * project (offline: its dependencies are linked from this repository's node_modules), then
 * imported as ESM and as CJS, used for a real request, its `rxconn` bin run, and a consumer
 * TypeScript file type-checked against the packed declarations in both module systems.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(new URL('..', import.meta.url).pathname);
const modules = join(root, 'node_modules');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string };

function sh(command: string, args: string[], cwd: string, timeout = 60_000): Promise<{ stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    execFile(command, args, { cwd, timeout, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) fail(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      else done({ stdout, stderr });
    });
  });
}

/** Starts a server, then requests it through the installed package: the bundle works, not only loads. */
const ESM_CONSUMER = `
import http from 'node:http';
import { once } from 'node:events';
import { firstValueFrom } from 'rxjs';
import { open, text, RxconnError, InvalidArgumentError } from 'rxconn';
import { ConnectionService, provideConnection } from 'rxconn/angular';
const server = http.createServer((req, res) => res.end('esm ' + req.url));
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const conn = open('http://127.0.0.1:' + server.address().port);
const reply = await firstValueFrom(conn.get('/ok').pipe(text()));
await conn.shutdown();
server.close();
let thrown;
try { open('ftp://x'); } catch (error) { thrown = error; }
console.log(JSON.stringify({
  body: reply.body,
  state: conn.state,
  error: thrown instanceof InvalidArgumentError && thrown instanceof RxconnError ? thrown.code : null,
  angular: typeof ConnectionService === 'function' && typeof provideConnection === 'function',
}));
`;

const CJS_CONSUMER = `
const http = require('node:http');
const { firstValueFrom } = require('rxjs');
const { open, json, RxconnError } = require('rxconn');
const server = http.createServer((req, res) => res.end(JSON.stringify({ cjs: req.url })));
server.listen(0, '127.0.0.1', async () => {
  const conn = open('http://127.0.0.1:' + server.address().port);
  const reply = await firstValueFrom(conn.get('/ok').pipe(json()));
  await conn.shutdown();
  server.close();
  console.log(JSON.stringify({ body: reply.body, state: conn.state, errors: typeof RxconnError }));
});
`;

/** Types only: wrong types here fail `tsc`. */
const TS_CONSUMER = `
import { open, json, text, RxconnError } from 'rxconn';
import type { Connection, ConnectionEvent, ConnectionState, CollectedResponse, ConnectionOptions } from 'rxconn';
const options: ConnectionOptions = { protocols: ['http2', 'http1'], retry: { maxRetries: 3, jitter: 'full' }, closeTimeout: 1000 };
const conn: Connection = open('http://127.0.0.1:1', options);
conn.subscribe((event: ConnectionEvent) => {
  if (event.type === 'retrying') { const delay: number = event.delay; void delay; }
});
const state: ConnectionState = conn.state;
conn.get('/').pipe(json<{ a: number }>()).subscribe((r: CollectedResponse<{ a: number }>) => r.body.a.toFixed());
conn.post('/', 'x').pipe(text()).subscribe(r => r.body.toUpperCase());
const code: string | undefined = new Error() instanceof RxconnError ? 'RXCONN_TLS' : undefined;
const done: Promise<void> = conn.shutdown();
void state; void code; void done;
`;

const TS_ANGULAR_CONSUMER = `
import type { Signal } from '@angular/core';
import type { ConnectionState } from 'rxconn';
import { ConnectionService, provideConnection } from 'rxconn/angular';
export const providers = [provideConnection('http://127.0.0.1:1', { retry: false })];
export function status(service: ConnectionService): Signal<ConnectionState> { return service.status; }
`;

describe('the packed package', () => {
  let dir: string;
  let tarball: string;
  let app: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rxconn-pack-'));
    // Three builds (Node, CLI, browser) with declarations: slow on a loaded 2-core machine.
    await sh('npm', ['run', 'build'], root, 180_000);
    const packed = JSON.parse((await sh('npm', ['pack', '--json', '--pack-destination', dir], root)).stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = join(dir, packed[0].filename);
    app = join(dir, 'app');
    await sh('mkdir', ['-p', app], dir);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    // Offline: the dependencies come from this repository's node_modules, linked as folders.
    const links = ['rxjs', 'ws', 'socks', 'ip-address', 'smart-buffer', 'http2-wrapper', '@angular/core', '@angular/common', '@types/node'].map(name => join(modules, name));
    await sh('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball, ...links], app);
  }, 240_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('contains the build, the bin, the docs, and no sources or tests', async () => {
    const listing = JSON.parse((await sh('npm', ['pack', '--dry-run', '--json'], root)).stdout) as Array<{ files: Array<{ path: string }> }>;
    const files = listing[0].files.map(f => f.path).sort();
    expect(files).toEqual(expect.arrayContaining([
      'README.md', 'LICENSE', 'package.json', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts',
      'dist/angular.js', 'dist/angular.d.ts', 'dist/cli.js',
    ]));
    expect(files.filter(f => /^(lib|spec|samples|bench)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.d.cts')))).toEqual([]);
    expect(files.filter(f => f.startsWith('dist/angular.') && /c(js|ts)/.test(f))).toEqual([]);
  });

  it('imports as ESM (both entries) and serves a request', async () => {
    writeFileSync(join(app, 'esm.mjs'), ESM_CONSUMER);
    const { stdout } = await sh(process.execPath, ['esm.mjs'], app);
    expect(JSON.parse(stdout)).toEqual({ body: 'esm /ok', state: 'closed', error: 'RXCONN_INVALID_ARGUMENT', angular: true });
  });

  it('requires as CJS and serves a request; rxconn/angular is ESM only', async () => {
    writeFileSync(join(app, 'cjs.cjs'), CJS_CONSUMER);
    const { stdout } = await sh(process.execPath, ['cjs.cjs'], app);
    expect(JSON.parse(stdout)).toEqual({ body: { cjs: '/ok' }, state: 'closed', errors: 'function' });
    const exportsMap = (JSON.parse(readFileSync(join(app, 'node_modules', 'rxconn', 'package.json'), 'utf8')) as { exports: Record<string, unknown> }).exports;
    expect(exportsMap['./angular']).toMatchObject({ node: { types: './dist/angular.d.ts', default: './dist/angular.js' } });
  });

  it('a bundler picks the browser build under the browser condition (no node: import), the Node build under node', async () => {
    writeFileSync(join(app, 'bundle-entry.js'), "export { open } from 'rxconn';\nexport { provideRxconnHttpBackend } from 'rxconn/angular/http';\n");
    const { build } = await import('esbuild');
    const inputsFor = async (platform: 'browser' | 'node'): Promise<string[]> => {
      const result = await build({ entryPoints: [join(app, 'bundle-entry.js')], absWorkingDir: app, bundle: true, platform, format: 'esm', write: false, metafile: true, logLevel: 'silent', external: ['rxjs', '@angular/*', 'ws', 'http2-wrapper'] });
      return Object.keys(result.metafile.inputs).filter(input => input.includes('node_modules/rxconn/'));
    };
    const browser = await inputsFor('browser');
    expect(browser.length).toBeGreaterThan(0);
    expect(browser.every(input => input.startsWith('node_modules/rxconn/dist/browser/'))).toBe(true);
    const node = await inputsFor('node');
    expect(node).toContain('node_modules/rxconn/dist/index.js');
    expect(node.some(input => input.includes('/dist/browser/'))).toBe(false);
  });

  it('installs the rxconn command', async () => {
    const { stdout } = await sh(join(app, 'node_modules', '.bin', 'rxconn'), ['--version'], app);
    expect(stdout).toBe(`rxconn ${pkg.version}\n`);
  });

  it('types resolve for ESM (.mts) and CJS (.cts) consumers, rxconn/angular for ESM (Angular is ESM-only)', { timeout: 120_000 }, async () => {
    writeFileSync(join(app, 'consumer.mts'), TS_CONSUMER);
    writeFileSync(join(app, 'consumer.cts'), TS_CONSUMER);
    writeFileSync(join(app, 'angular-consumer.mts'), TS_ANGULAR_CONSUMER);
    const tsc = join(modules, 'typescript', 'bin', 'tsc');
    const files = ['consumer.mts', 'consumer.cts', 'angular-consumer.mts'];
    await sh(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022', '--types', 'node', ...files], app);
  });
});
