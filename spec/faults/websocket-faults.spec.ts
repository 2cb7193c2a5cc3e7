/**
 * Fault matrix, WebSocket: the server dies mid-message (a fragment sent, FIN never), a dead
 * path under WebSocket keepalive, and the messages queued while it is down. The channel errors
 * typed; the connection reconnects as plain HTTP; a new subscription upgrades again.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { filter, firstValueFrom } from 'rxjs';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { open } from '../../lib/index.js';
import type { WebSocketMessage } from '../../lib/index.js';
import { leakCheck, next, record } from '../helpers/lifecycle.js';
import { startStallProxy } from './helpers/servers.js';
import { trackSockets } from '../helpers/servers.js';

/** A ws echo server on node:http, killable (every socket destroyed) and restartable on its port. */
async function wsServer(onConnection: (ws: WebSocket) => void = ws => ws.on('message', (data, binary) => ws.send(data, { binary }))): Promise<{ port: number; origin: string; kill: () => Promise<void>; restart: () => Promise<void>; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => res.end('plain http'));
  const wss = new WebSocketServer({ server });
  wss.on('connection', onConnection);
  const { stop: kill } = trackSockets(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    kill,
    restart: async () => {
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
    },
    close: async () => {
      await kill();
      wss.close();
    },
  };
}

const fast = { retry: { initialDelay: 5, maxDelay: 20, maxRetries: Infinity } } as const;

describe('WebSocket faults', () => {
  it('server killed mid-message: the channel errors RXCONN_WEBSOCKET_CLOSED (1006), the connection reconnects, a resubscription upgrades again', async () => {
    const leaks = leakCheck();
    let fragmentSent!: () => void;
    const sent = new Promise<void>(resolve => (fragmentSent = resolve));
    const server = await wsServer(ws =>
      ws.on('message', data => {
        if (String(data) === 'fragment please') ws.send(Buffer.alloc(4096, 'f'), { fin: false }, () => fragmentSent());
        else ws.send(String(data));
      }),
    );
    const conn = open(server.origin, fast);
    const log = record(conn);
    const channel = conn.websocket('/');
    const messages: WebSocketMessage[] = [];
    const ended = new Promise<unknown>(resolve => channel.subscribe({ next: m => messages.push(m), error: resolve, complete: () => resolve('completed') }));
    channel.send('hello');
    await firstValueFrom(conn.pipe(filter(e => e.type === 'upgraded')));
    channel.send('fragment please');
    await sent;
    const down = next(conn, 'disconnected');
    await server.kill();
    expect(await ended).toMatchObject({ code: 'RXCONN_WEBSOCKET_CLOSED', closeCode: 1006 });
    expect(messages).toEqual(['hello']);
    expect(await down).toMatchObject({ protocol: 'websocket' });
    await server.restart();
    const channel2 = conn.websocket('/');
    const echoed = firstValueFrom(channel2);
    channel2.send('again');
    expect(await echoed).toBe('again');
    conn.close();
    await log.done;
    await server.close();
    await leaks.check();
  });

  it('a dead path: WebSocket keepalive errors the channel RXCONN_KEEPALIVE_TIMEOUT, and the connection reconnects', async () => {
    const leaks = leakCheck();
    const server = await wsServer();
    const proxy = await startStallProxy(server.port);
    const conn = open(`http://127.0.0.1:${proxy.port}`, { ...fast, keepalive: { interval: 20, timeout: 20 } });
    const channel = conn.websocket('/');
    const ended = new Promise<unknown>(resolve => channel.subscribe({ error: resolve, complete: () => resolve('completed') }));
    const echoed = firstValueFrom(channel);
    channel.send('ping me');
    expect(await echoed).toBe('ping me');
    const started = performance.now();
    proxy.stall();
    expect(await ended).toMatchObject({ code: 'RXCONN_KEEPALIVE_TIMEOUT' });
    expect(performance.now() - started).toBeLessThan(1_000);
    // The connection is plain HTTP again, through a fresh path.
    await firstValueFrom(conn.state$.pipe(filter(s => s === 'connected')));
    expect(await firstValueFrom(conn.get('/').pipe(filter(e => e.type === 'response')))).toMatchObject({ status: 200 });
    conn.close();
    await conn.whenClosed();
    await proxy.close();
    await server.close();
    await leaks.check();
  });
});
