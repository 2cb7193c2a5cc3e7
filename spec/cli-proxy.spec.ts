/**
 * The CLI's routes: `--proxy URL`, `--proxy env` (read like curl) and `--unix-socket PATH`,
 * parsed, then run in-process through a scripted CONNECT proxy, a SOCKS5 proxy and a Unix socket.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { parseArgs } from '../lib/cli/args.js';
import { EXIT, main } from '../lib/cli/main.js';
import { connectProxy, socksProxy } from './helpers/proxies.js';
import { startOrigin } from './helpers/origins.js';

function terminal(): { io: Parameters<typeof main>[1]; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    io: { stdout: { write: (chunk: string | Uint8Array) => (out += Buffer.from(chunk).toString()) }, stderr: { write: (chunk: string) => (err += chunk) }, stdin: Readable.from([]) },
    out: () => out,
    err: () => err,
  };
}

describe('parseArgs: routes', () => {
  it.each([
    [['get', 'http://x/', '--proxy', 'http://p:3128'], { proxy: 'http://p:3128', unixSocket: undefined }],
    [['get', 'http://x/', '-x', 'socks5://u:pw@p:1080'], { proxy: 'socks5://u:pw@p:1080' }],
    [['get', 'http://x/', '--proxy=env'], { proxy: 'env' }],
    [['get', 'http://localhost/', '--unix-socket', '/run/app.sock'], { unixSocket: '/run/app.sock', proxy: undefined }],
    [['get', 'http://x/'], { proxy: undefined, unixSocket: undefined }],
  ])('%j', (argv, expected) => {
    expect(parseArgs(argv)).toMatchObject({ kind: 'run', ...expected });
  });

  it('refuses both at once, and a missing value', () => {
    expect(parseArgs(['get', 'http://x/', '--proxy', 'http://p', '--unix-socket', '/s'])).toEqual({ kind: 'usage-error', message: '--proxy and --unix-socket exclude each other' });
    expect(parseArgs(['get', 'http://x/', '--proxy'])).toEqual({ kind: 'usage-error', message: '--proxy needs a value' });
  });
});

describe('rxconn through a proxy', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of ['http_proxy', 'HTTP_PROXY', 'no_proxy', 'NO_PROXY']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it('--proxy: the body on stdout, the hop in the connected line', async () => {
    const origin = await startOrigin('http1');
    const proxy = await connectProxy({ auth: 'u:hunter2' });
    const t = terminal();
    expect(await main(['get', `${origin.origin}/x`, '--proxy', proxy.url('u:hunter2')], t.io)).toBe(EXIT.ok);
    expect(t.out()).toBe('hi /x');
    expect(t.err()).toContain(`connected over HTTP/1.1 through CONNECT 127.0.0.1:${proxy.port}`);
    expect(t.err()).not.toContain('hunter2');
    await proxy.close();
    await origin.close();
  });

  it('--proxy env follows HTTP_PROXY, and NO_PROXY', async () => {
    const origin = await startOrigin('http1');
    const proxy = await socksProxy();
    process.env.http_proxy = proxy.url();
    const t = terminal();
    expect(await main(['get', `${origin.origin}/env`, '--proxy', 'env'], t.io)).toBe(EXIT.ok);
    expect(t.out()).toBe('hi /env');
    expect(t.err()).toContain(`through socks5 127.0.0.1:${proxy.port}`);
    process.env.no_proxy = '127.0.0.1';
    const direct = terminal();
    expect(await main(['get', `${origin.origin}/direct`, '--proxy', 'env'], direct.io)).toBe(EXIT.ok);
    expect(direct.err()).not.toContain('through');
    expect(proxy.requests).toHaveLength(1);
    await proxy.close();
    await origin.close();
  });

  it('a refused CONNECT exits 3 with the typed error; a bad proxy URL exits 2', async () => {
    const proxy = await connectProxy({ status: 403 });
    const t = terminal();
    expect(await main(['get', 'http://127.0.0.1:9/', '--proxy', proxy.url()], t.io)).toBe(EXIT.connection);
    expect(t.err()).toContain(`rxconn: RXCONN_RETRIES_EXHAUSTED: connection gave up after 1 attempt: proxy 1 (http://127.0.0.1:${proxy.port}): CONNECT 127.0.0.1:9 was refused: 403 Refused`);
    const bad = terminal();
    expect(await main(['get', 'http://127.0.0.1:9/', '--proxy', 'ftp://p'], bad.io)).toBe(EXIT.usage);
    await proxy.close();
  });

  it('--unix-socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rxconn-cli-uds-'));
    const path = join(dir, 'app.sock');
    const server = http.createServer((req, res) => res.end(`${req.url} via ${req.headers.host}`));
    server.listen(path);
    await once(server, 'listening');
    const t = terminal();
    expect(await main(['get', 'http://app.local/sock', '--unix-socket', path], t.io)).toBe(EXIT.ok);
    expect(t.out()).toBe('/sock via app.local');
    server.close();
    await once(server, 'close');
    rmSync(dir, { recursive: true, force: true });
  });
});
