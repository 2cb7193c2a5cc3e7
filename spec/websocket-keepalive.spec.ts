/**
 * WebSocket keepalive: pings every `keepalive.interval`; a peer that does not answer within
 * `keepalive.timeout` is dead: RXCONN_KEEPALIVE_TIMEOUT, the socket is destroyed, the
 * connection reports the loss and reconnects.
 */
import { filter, firstValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { open } from '../lib/index.js';
import { KeepaliveTimeoutError } from '../lib/index.js';
import type { Peer } from './websocket-helpers.js';
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

  it('pings each WebSocket interval ms after its own open and answer, so that WebSockets opened apart ping apart; one closing leaves the other pinging', async () => {
    // The clocks of one interval share a timer (lib/node/ping-clock.ts): a clock must not fire
    // with another that is due earlier. Lower bounds only, which a loaded machine cannot break.
    const leaks = leakCheck();
    const interval = 60;
    const pings = new Map<Peer, number[]>();
    const server = await startWsServer({}, peer => {
      pings.set(peer, []);
      peer.ws.on('ping', () => pings.get(peer)!.push(performance.now()));
    });
    const keepalive = { interval, timeout: 1_000 };
    const openOne = async (): Promise<{ opened: number; peer: Peer; close: () => Promise<void> }> => {
      const conn = open(server.origin, { retry, keepalive });
      const channel = conn.websocket('/');
      const opening = firstValueFrom(channel.events.pipe(filter(event => event.type === 'open')));
      const sub = channel.subscribe({ error: () => undefined });
      await opening;
      const opened = performance.now();
      return { opened, peer: await server.nextPeer(), close: () => (sub.unsubscribe(), conn.shutdown()) };
    };
    const pinged = async (peer: Peer, n: number): Promise<number[]> => {
      while (pings.get(peer)!.length < n) await new Promise(resolve => setTimeout(resolve, 5));
      return pings.get(peer)!.slice(0, n);
    };
    const first = await openOne();
    // Half an interval later: the first clock's ping falls halfway through the second's wait.
    await new Promise(resolve => setTimeout(resolve, interval / 2));
    const second = await openOne();
    for (const { opened, peer } of [first, second]) {
      const times = await pinged(peer, 3);
      // The clock starts a moment before `open` is seen, and counts whole ms: 3 ms of slack.
      expect(times[0]! - opened).toBeGreaterThanOrEqual(interval - 3);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(interval - 3);
    }
    await first.close();
    const count = pings.get(second.peer)!.length;
    await pinged(second.peer, count + 2);
    await second.close();
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
