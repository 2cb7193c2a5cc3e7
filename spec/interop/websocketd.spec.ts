/**
 * Interop against websocketd (each WebSocket a `cat` process: every text message comes back),
 * directly and through nginx's WebSocket proxy; and websocketd killed mid-session.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filter, firstValueFrom, take, toArray } from 'rxjs';
import { open } from '../../lib/index.js';
import type { Connection } from '../../lib/index.js';
import { leakCheck } from '../helpers/lifecycle.js';
import { WEBSOCKETD, ensureTools } from './helpers/install.js';
import { Nginx } from './helpers/nginx.js';
import { freePort, start, waitForPort } from './helpers/processes.js';
import type { Proc } from './helpers/processes.js';

const tools = await ensureTools();
const skip = tools.websocketd;
const skipProxy = tools.websocketd ?? tools['nginx-light'];

describe.skipIf(skip)('websocketd', () => {
  let port: number;
  let proc: Proc | undefined;
  let nginx: Nginx | undefined;
  const startWebsocketd = async (): Promise<void> => {
    proc = start(WEBSOCKETD.command, ['--address=127.0.0.1', `--port=${port}`, '--loglevel=error', 'cat']);
    await waitForPort(port);
  };
  beforeAll(async () => {
    port = await freePort();
    await startWebsocketd();
    if (!skipProxy) {
      nginx = await Nginx.create(port);
      await nginx.start();
    }
  });
  afterAll(async () => {
    await proc?.kill9();
    await nginx?.dispose();
  });

  /** Sends `messages` on a new channel of `conn` at `path` and collects as many echoes. */
  async function echo(conn: Connection, path: string, messages: string[]): Promise<unknown[]> {
    const channel = conn.websocket(path);
    const echoed = firstValueFrom(channel.pipe(take(messages.length), toArray()));
    for (const message of messages) channel.send(message);
    return echoed;
  }

  it('echoes text messages in order, directly', async () => {
    const leaks = leakCheck();
    const conn = open(`http://127.0.0.1:${port}`, { retry: { initialDelay: 5, maxDelay: 20 } });
    const messages = ['hello', 'x'.repeat(10_000), 'ünïcödé ✓', 'last'];
    expect(await echo(conn, '/', messages)).toEqual(messages);
    await conn.shutdown();
    await leaks.check();
  });

  it.skipIf(skipProxy)('echoes through nginx’s WebSocket proxy', async () => {
    const conn = open(nginx!.origin('h1'), { retry: { initialDelay: 5, maxDelay: 20 } });
    expect(await echo(conn, '/ws', ['through', 'nginx'])).toEqual(['through', 'nginx']);
    await conn.shutdown();
  });

  /**
   * The connection's graceful shutdown with a WebSocket open and subscribed: the link, as its
   * socket's owner, is told of the shutdown by the connection itself (no subscription to the
   * connection's events): it sends close 1001, the real server echoes it, the channel completes
   * and the connection closes, directly and through nginx's WebSocket proxy.
   */
  async function shutdownWithWebSocketOpen(origin: string, path: string): Promise<void> {
    const leaks = leakCheck();
    const conn = open(origin, { retry: { initialDelay: 5, maxDelay: 20 } });
    const channel = conn.websocket(path);
    const closes = firstValueFrom(channel.events.pipe(filter(event => event.type === 'close')));
    const ended = new Promise<unknown>(resolve => channel.subscribe({ error: resolve, complete: () => resolve('completed') }));
    const first = firstValueFrom(channel);
    channel.send('open');
    expect(await first).toBe('open');
    await conn.shutdown();
    expect(await ended).toBe('completed');
    expect(await closes).toMatchObject({ type: 'close', code: 1001 });
    expect(conn.state).toBe('closed');
    await leaks.check();
  }

  it('shutdown() with a WebSocket open: close 1001 echoed, the channel completes, directly', () => shutdownWithWebSocketOpen(`http://127.0.0.1:${port}`, '/'));

  it.skipIf(skipProxy)('shutdown() with a WebSocket open: close 1001 echoed, the channel completes, through nginx', () => shutdownWithWebSocketOpen(nginx!.origin('h1'), '/ws'));

  it('websocketd killed -9 mid-session: the channel errors typed; after the restart a new channel works', async () => {
    const conn = open(`http://127.0.0.1:${port}`, { retry: { initialDelay: 5, maxDelay: 20, maxRetries: Infinity } });
    const channel = conn.websocket('/');
    const ended = new Promise<unknown>(resolve => channel.subscribe({ error: resolve, complete: () => resolve('completed') }));
    const first = firstValueFrom(channel);
    channel.send('before');
    expect(await first).toBe('before');
    await proc!.kill9();
    expect(await ended).toMatchObject({ code: expect.stringMatching(/^RXCONN_(WEBSOCKET_CLOSED|CONNECTION_DOWN)$/) });
    await startWebsocketd();
    await firstValueFrom(conn.state$.pipe(filter(s => s === 'connected')));
    expect(await echo(conn, '/', ['after'])).toEqual(['after']);
    conn.close();
    await conn.whenClosed();
  });
});
