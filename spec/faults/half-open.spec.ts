/**
 * Fault matrix: half-open peers, which accept and then never answer. A TCP proxy that stops
 * forwarding (the path dies, nothing is closed), a server process that is paused (SIGSTOP), and
 * a peer that never completes the handshake. HTTP/2 keepalive detects a dead peer; a request's
 * `timeout` ends it with RXCONN_TIMEOUT; a dial that never completes ends with
 * RXCONN_CONNECT_TIMEOUT. Nothing hangs.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { open, text } from '../../lib/index.js';
import type { Variant } from './helpers/servers.js';
import { leakCheck, next, record } from '../helpers/lifecycle.js';
import { outcome, watch } from './helpers/outcomes.js';
import { clientOptions, protocolOf, startFaultServer, startRawPeer, startStallProxy } from './helpers/servers.js';
import type { Handler } from './helpers/servers.js';

/** `/download` sends a head and 1 KiB and never ends; anything else echoes the path. */
const handler: Handler = (req, res) => {
  if (req.url === '/download') {
    res.writeHead(200);
    res.write(Buffer.alloc(1024, 'd'));
    return;
  }
  res.end(`ok ${req.url}`);
};

/** The origin of `proxy` in the scheme of `variant`. */
function via(variant: Variant, port: number): string {
  return `${variant === 'h2' || variant === 'https1' ? 'https' : 'http'}://127.0.0.1:${port}`;
}

describe.each(['h2c', 'h2'] as const)('a dead path under HTTP/2 keepalive, over %s', variant => {
  it('keepalive ends the connection with RXCONN_KEEPALIVE_TIMEOUT, the active stream errors, and it reconnects', async () => {
    const leaks = leakCheck();
    const server = await startFaultServer(variant, handler);
    const proxy = await startStallProxy(server.port);
    const conn = open(via(variant, proxy.port), clientOptions(variant, {
      keepalive: { interval: 20, timeout: 20 },
      retry: { initialDelay: 5, maxDelay: 20, maxRetries: Infinity },
    }));
    const log = record(conn);
    const download = watch(conn.get('/download'));
    await download.firstData;
    const down = next(conn, 'disconnected');
    const started = performance.now();
    proxy.stall();
    expect(await down).toMatchObject({ protocol: 'http2', killedStreams: 1, error: { code: 'RXCONN_KEEPALIVE_TIMEOUT' } });
    // Detected within interval + timeout (plus scheduling slack), not after some TCP timeout.
    expect(performance.now() - started).toBeLessThan(1_000);
    expect((await download.done).code).toBe('RXCONN_CONNECTION_DOWN');
    // The proxy forwards new connections: the next dial works.
    expect(await firstValueFrom(conn.get('/after').pipe(text()))).toMatchObject({ body: 'ok /after' });
    expect(proxy.connections).toBe(2);
    conn.close();
    await log.done;
    await proxy.close();
    await server.close();
    await leaks.check();
  });
});

describe.each(['http1', 'h2c', 'https1', 'h2'] as const)('a dead path without keepalive, over %s', variant => {
  it('a request with a timeout errors RXCONN_TIMEOUT instead of hanging, and close() leaves nothing behind', async () => {
    const leaks = leakCheck();
    const server = await startFaultServer(variant, handler);
    const proxy = await startStallProxy(server.port);
    const conn = open(via(variant, proxy.port), clientOptions(variant, { keepalive: false, retry: { initialDelay: 5, maxDelay: 20 } }));
    expect(await firstValueFrom(conn.get('/before').pipe(text()))).toMatchObject({ body: 'ok /before' });
    proxy.stall();
    const started = performance.now();
    const stuck = await outcome(conn.get('/stuck', { timeout: 50 }));
    expect(stuck.code).toBe('RXCONN_TIMEOUT');
    expect(stuck.error).toMatchObject({ message: 'request exceeded its timeout (50 ms)' });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(conn.info()).toMatchObject({ activeStreams: 0, protocol: protocolOf(variant) });
    conn.close();
    await conn.whenClosed();
    await proxy.close();
    await server.close();
    await leaks.check();
  });
});

describe('a paused server process (SIGSTOP)', () => {
  /** A child node process serving h2c on 127.0.0.1; resolves with its port once it listens. */
  async function childServer(): Promise<{ port: number; pid: number; kill: () => Promise<void> }> {
    const source = `
      const http2 = require('node:http2');
      const server = http2.createServer((req, res) => res.end('child ' + req.url));
      server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
    `;
    const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    const exited = once(child, 'exit');
    return {
      port: Number(line.toString().trim()),
      pid: child.pid!,
      kill: async () => {
        child.kill('SIGKILL');
        await exited;
      },
    };
  }

  it('HTTP/2 keepalive detects it; each new dial then ends with RXCONN_CONNECT_TIMEOUT until the connection gives up', async () => {
    const leaks = leakCheck();
    const child = await childServer();
    try {
      const conn = open(`http://127.0.0.1:${child.port}`, {
        protocols: ['http2'],
        keepalive: { interval: 20, timeout: 200 }, // a timeout the /hello round trip cannot hit on a loaded machine
        connectTimeout: 300,
        retry: { initialDelay: 5, maxDelay: 10, maxRetries: 2 },
      });
      const log = record(conn);
      expect(await firstValueFrom(conn.get('/hello').pipe(text()))).toMatchObject({ body: 'child /hello' });
      const down = next(conn, 'disconnected');
      process.kill(child.pid, 'SIGSTOP');
      expect(await down).toMatchObject({ error: { code: 'RXCONN_KEEPALIVE_TIMEOUT' } });
      const waiting = outcome(conn.get('/while-paused'));
      await log.done;
      // The kernel still accepts TCP connections for the paused process, but no SETTINGS ever come.
      expect(log.error()).toMatchObject({ code: 'RXCONN_RETRIES_EXHAUSTED', cause: { code: 'RXCONN_CONNECT_TIMEOUT' } });
      expect((await waiting).error).toBe(log.error());
      // The first dial, then maxRetries (2) dials after the loss.
      expect(log.types().filter(t => t === 'connecting')).toHaveLength(3);
    } finally {
      await child.kill();
    }
    await leaks.check();
  });
});

describe.each(['https1', 'h2c'] as const)('a peer that accepts and never answers the handshake, over %s', variant => {
  it('each attempt ends with RXCONN_CONNECT_TIMEOUT; queued requests error with the final RXCONN_RETRIES_EXHAUSTED', async () => {
    const leaks = leakCheck();
    const peer = await startRawPeer(() => {});
    const conn = open(via(variant, peer.port), clientOptions(variant, { connectTimeout: 30, retry: { initialDelay: 1, maxDelay: 2, maxRetries: 2 } }));
    const log = record(conn);
    const queued = outcome(conn.get('/'));
    await log.done;
    expect(log.error()).toMatchObject({ code: 'RXCONN_RETRIES_EXHAUSTED', attempts: 3, cause: { code: 'RXCONN_CONNECT_TIMEOUT', message: 'connect attempt exceeded connectTimeout (30 ms)' } });
    expect((await queued).error).toBe(log.error());
    expect(peer.connections).toBe(3);
    // h2c sent its preface; TLS its ClientHello: bytes the peer never answered.
    expect(peer.received().length).toBeGreaterThan(0);
    await peer.close();
    await leaks.check();
  });
});
