/**
 * `socketPath`: HTTP/1.1, h2c and TLS with ALPN over a Unix domain socket, the origin's host
 * (never the path) as `host` and TLS name, a WebSocket over it, an abstract socket name, and the
 * clear errors of a missing path and a stale socket file, retried like any failed attempt until
 * the server is back.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { filter, firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { WebSocketServer } from 'ws';
import { open, text } from '../lib/index.js';
import type { RetriesExhaustedError } from '../lib/index.js';
import { connected, leakCheck, record } from './helpers/lifecycle.js';
import { CA, CERT } from './helpers/proxies.js';
import { trackSockets } from './helpers/servers.js';

const dir = mkdtempSync(join(tmpdir(), 'rxconn-uds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
const freshPath = (): string => join(dir, `s${++count}.sock`);

type Kind = 'http1' | 'h2c' | 'tls';

const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => void res.end(`${req.url} host=${String(req.headers.host ?? req.headers[':authority'])}`);

async function serve(kind: Kind, path: string): Promise<{ close: () => Promise<void>; server: net.Server }> {
  const server: net.Server =
    kind === 'tls' ? http2.createSecureServer({ ...CERT, allowHTTP1: true }, onRequest as never) : kind === 'h2c' ? http2.createServer(onRequest as never) : http.createServer(onRequest);
  const wss = server instanceof http.Server ? new WebSocketServer({ server, path: '/ws' }) : undefined;
  wss?.on('connection', socket => socket.on('message', data => socket.send(String(data))));
  const { stop } = trackSockets(server);
  server.listen(path);
  await once(server, 'listening');
  return {
    server,
    close: async () => {
      wss?.close();
      await stop();
    },
  };
}

describe.each([
  { kind: 'http1', origin: 'http://localhost', options: {}, speaks: 'http1', host: 'localhost' },
  { kind: 'h2c', origin: 'http://api.internal:8080', options: { protocols: ['http2'] }, speaks: 'http2', host: 'api.internal:8080' },
  { kind: 'tls', origin: 'https://localhost', options: { tls: { ca: CA } }, speaks: 'http2', host: 'localhost' },
] as const)('over a Unix socket: $kind', ({ kind, origin, options, speaks, host }) => {
  it('sends the origin host, verifies TLS against it, and leaves nothing open', async () => {
    const leaks = leakCheck();
    const path = freshPath();
    const server = await serve(kind, path);
    const conn = open(origin, { ...options, socketPath: path, keepalive: false });
    const response = await lastValueFrom(conn.get('/x').pipe(text()));
    expect(response).toMatchObject({ status: 200, body: `/x host=${host}` });
    expect(conn.info()).toMatchObject({ protocol: speaks, intermediaries: [] });
    await conn.shutdown();
    await server.close();
    await leaks.check();
  });
});

describe('Unix socket specifics', () => {
  it('a WebSocket over the socket', async () => {
    const path = freshPath();
    const server = await serve('http1', path);
    const conn = open('http://localhost', { socketPath: path, keepalive: false });
    await connected(conn);
    const channel = conn.websocket('/ws');
    const echoed = firstValueFrom(channel.pipe(take(1), toArray()));
    channel.send('over uds');
    expect(await echoed).toEqual(['over uds']);
    await conn.shutdown();
    await server.close();
  });

  it('an abstract socket name (Linux)', async () => {
    const path = `\0rxconn-test-${process.pid}-${++count}`;
    const server = await serve('http1', path);
    const conn = open('http://localhost', { socketPath: path, keepalive: false });
    expect(await lastValueFrom(conn.get('/abstract').pipe(text()))).toMatchObject({ body: '/abstract host=localhost' });
    await conn.shutdown();
    await server.close();
  });

  it('a missing path: a clear error, retried, then given up', async () => {
    const path = join(dir, 'missing.sock');
    const conn = open('http://localhost', { socketPath: path, retry: { maxRetries: 1, initialDelay: 1, maxDelay: 1 } });
    const log = record(conn);
    await log.done;
    expect(log.types()).toEqual(['connecting', 'retrying', 'connecting']);
    expect((log.error() as RetriesExhaustedError).cause).toMatchObject({ code: 'RXCONN_CONNECTION_DOWN', message: `connection failed: no Unix socket at ${JSON.stringify(path)} (ENOENT)` });
  });

  it('a stale socket file (its server died): a clear error', async () => {
    const path = freshPath();
    // A server killed with SIGKILL leaves its socket file behind.
    try {
      execFileSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`], { stdio: 'ignore' });
    } catch {
      // It was killed, as planned.
    }
    expect(existsSync(path)).toBe(true);
    const conn = open('http://localhost', { socketPath: path, retry: false });
    const log = record(conn);
    await log.done;
    expect((log.error() as RetriesExhaustedError).cause).toMatchObject({
      code: 'RXCONN_CONNECTION_DOWN',
      message: `connection failed: nothing listens on the Unix socket ${JSON.stringify(path)} (ECONNREFUSED: a stale socket file?)`,
    });
  });

  it('reconnects when the server comes back and recreates the socket file', async () => {
    const path = freshPath();
    let server = await serve('h2c', path);
    const conn = open('http://localhost', { socketPath: path, protocols: ['http2'], keepalive: false, retry: { maxRetries: Infinity, initialDelay: 5, maxDelay: 20 } });
    const log = record(conn);
    await connected(conn);
    const failed = firstValueFrom(conn.pipe(filter(e => e.type === 'retrying' && /ENOENT/.test(e.error.message))));
    await server.close();
    await failed;
    const queued = lastValueFrom(conn.get('/back').pipe(text()));
    server = await serve('h2c', path);
    expect(await queued).toMatchObject({ body: '/back host=localhost' });
    expect(log.types().filter(t => t === 'connected')).toHaveLength(2);
    await conn.shutdown();
    await server.close();
  });
});
