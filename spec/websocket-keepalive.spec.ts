/**
 * WebSocket keepalive: pings every `keepalive.interval`; a peer that does not answer within
 * `keepalive.timeout` is dead: RXCONN_KEEPALIVE_TIMEOUT, the socket is destroyed, the
 * connection reports the loss and reconnects.
 */
import { describe, expect, it } from 'vitest';
import { open } from '../lib/index.js';
import { KeepaliveTimeoutError } from '../lib/index.js';
import { leakCheck, next } from './helpers/lifecycle.js';
import { startWsServer } from './websocket-helpers.js';

const retry = { initialDelay: 5, maxDelay: 20 };

describe('websocket keepalive', () => {
  it('pings every interval and stays open while the server answers', async () => {
    const leaks = leakCheck();
    let pings = 0;
    let threePings!: () => void;
    const answered = new Promise<void>(resolve => (threePings = resolve));
    const server = await startWsServer({}, peer =>
      peer.ws.on('ping', () => {
        if (++pings === 3) threePings();
      }),
    );
    const conn = open(server.origin, { retry, keepalive: { interval: 5, timeout: 1_000 } });
    const errors: unknown[] = [];
    const sub = conn.websocket('/').subscribe({ error: (e: unknown) => errors.push(e) });
    await answered;
    expect(errors).toEqual([]);
    expect(server.peers).toHaveLength(1);
    sub.unsubscribe();
    await conn.shutdown();
    await server.close();
    await leaks.check();
  });

  it('errors RXCONN_KEEPALIVE_TIMEOUT when the server stops answering pings; the connection reconnects', async () => {
    const leaks = leakCheck();
    const server = await startWsServer({ autoPong: false });
    const conn = open(server.origin, { retry, keepalive: { interval: 20, timeout: 20 } });
    const down = next(conn, 'disconnected');
    const error = await new Promise(resolve => conn.websocket('/').subscribe({ error: resolve }));
    expect(error).toBeInstanceOf(KeepaliveTimeoutError);
    expect(error).toMatchObject({ code: 'RXCONN_KEEPALIVE_TIMEOUT', message: 'no keepalive answer within keepalive.timeout (20 ms)' });
    const event = await down;
    expect(event).toMatchObject({ protocol: 'websocket', error: { code: 'RXCONN_CONNECTION_DOWN' } });
    expect(event.error.cause).toBe(error);
    await next(conn, 'connected');
    await conn.shutdown();
    await server.close();
    await leaks.check();
  });
});
