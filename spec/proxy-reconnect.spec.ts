/**
 * Killing and restarting a hop under load, for each kind of proxy and for the second hop of a
 * chain: the streams in flight die with `RXCONN_CONNECTION_DOWN` (counted in `disconnected`), the
 * retries redial the whole chain with backoff (each failure a typed hop error), `connected`
 * reports the intermediaries again, and every request made during the outage (never sent) goes
 * to the origin once the chain is back: none is lost, none reaches a proxy as a request.
 */
import { describe, expect, it } from 'vitest';
import { filter, firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { open, text } from '../lib/index.js';
import type { ConnectionEvent, ConnectionOptions } from '../lib/index.js';
import { connected, leakCheck, record } from './helpers/lifecycle.js';
import { connectProxy, http2Proxy, socksProxy } from './helpers/proxies.js';
import type { FakeProxy } from './helpers/proxies.js';
import { startOrigin } from './helpers/origins.js';
import type { OriginKind } from './helpers/origins.js';

interface Scenario {
  readonly name: string;
  readonly origin: OriginKind;
  readonly protocols: ConnectionOptions['protocols'];
  /** The proxies, the option, and which one to kill. */
  make(): Promise<{ proxies: FakeProxy[]; option: ConnectionOptions['proxy']; victim: number; failure: object }>;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'HTTP/1.1 CONNECT proxy, h2c origin',
    origin: 'h2c',
    protocols: ['http2'],
    make: async () => {
      const p = await connectProxy();
      return { proxies: [p], option: p.url(), victim: 0, failure: { code: 'RXCONN_PROXY', reason: 'unreachable', hop: 0 } };
    },
  },
  {
    name: 'SOCKS5 proxy, HTTP/1.1 origin',
    origin: 'http1',
    protocols: ['http1'],
    make: async () => {
      const p = await socksProxy({ auth: 'u:p' });
      return { proxies: [p], option: p.url('u:p'), victim: 0, failure: { code: 'RXCONN_PROXY', reason: 'unreachable', hop: 0 } };
    },
  },
  {
    name: 'HTTP/2 proxy, h2c origin',
    origin: 'h2c',
    protocols: ['http2'],
    make: async () => {
      const p = await http2Proxy();
      return { proxies: [p], option: { url: p.url(), protocols: ['http2'] }, victim: 0, failure: { code: 'RXCONN_PROXY', reason: 'unreachable', hop: 0 } };
    },
  },
  {
    name: 'second hop (SOCKS5) of a CONNECT → SOCKS5 chain, h2c origin',
    origin: 'h2c',
    protocols: ['http2'],
    make: async () => {
      const a = await connectProxy();
      const b = await socksProxy();
      // With the second hop down, the first answers its CONNECT with 502: the failure is hop 0's answer.
      return { proxies: [a, b], option: [a.url(), b.url()], victim: 1, failure: { code: 'RXCONN_PROXY', reason: 'status', status: 502, hop: 0 } };
    },
  },
];

describe.each(SCENARIOS)('killing and restarting the $name', scenario => {
  it('redials the whole chain with backoff and loses no request that was never sent', async () => {
    const leaks = leakCheck();
    const origin = await startOrigin(scenario.origin);
    const { proxies, option, victim, failure } = await scenario.make();
    const conn = open(origin.origin, { proxy: option, protocols: scenario.protocols, keepalive: false, retry: { maxRetries: Infinity, initialDelay: 5, maxDelay: 20 } });
    const log = record(conn);
    await connected(conn);
    const intermediaries = (log.events[1] as Extract<ConnectionEvent, { type: 'connected' }>).intermediaries;
    expect(intermediaries).toHaveLength(proxies.length);

    // Load: requests done, and one in flight when the hop dies (HTTP/1.1 runs one at a time).
    const done = await Promise.all([1, 2, 3].map(i => lastValueFrom(conn.get(`/before-${i}`).pipe(text()))));
    expect(done.map(r => r.body)).toEqual(['hi /before-1', 'hi /before-2', 'hi /before-3']);
    const inFlight = lastValueFrom(conn.get('/slow').pipe(text())).catch((error: unknown) => error);
    await expect.poll(() => origin.seen.length).toBe(4);

    const retried = firstValueFrom(conn.pipe(filter(e => e.type === 'retrying'), take(3), toArray()));
    await proxies[victim].kill();
    expect(await inFlight).toMatchObject({ code: 'RXCONN_CONNECTION_DOWN' });
    // During the outage: queued, never sent.
    const queued = [1, 2, 3, 4, 5].map(i => lastValueFrom(conn.get(`/queued-${i}`).pipe(text())));
    const retries = await retried;
    const errors = retries.map(event => (event as Extract<ConnectionEvent, { type: 'retrying' }>).error);
    // The first retry follows the loss itself; the next ones are failed redials, each a typed hop error.
    expect(errors[0]).toMatchObject({ code: 'RXCONN_CONNECTION_DOWN' });
    expect(errors.slice(1)).toEqual([expect.objectContaining(failure), expect.objectContaining(failure)]);
    await proxies[victim].restart();
    expect((await Promise.all(queued)).map(r => r.body)).toEqual([1, 2, 3, 4, 5].map(i => `hi /queued-${i}`));

    const types = log.types();
    const lost = types.indexOf('disconnected');
    expect(types.slice(0, lost + 1)).toEqual(['connecting', 'connected', 'disconnected']);
    expect(log.events[lost]).toMatchObject({ type: 'disconnected', killedStreams: 1 });
    expect(types.slice(lost + 1, lost + 3)).toEqual(['retrying', 'connecting']);
    const again = log.events.filter(e => e.type === 'connected') as Array<Extract<ConnectionEvent, { type: 'connected' }>>;
    expect(again).toHaveLength(2);
    expect(again[1].intermediaries).toEqual(intermediaries);
    expect(conn.info().intermediaries).toEqual(intermediaries);
    // Every hop was dialled again (the first one on every attempt), and the origin got every request once.
    for (const proxy of proxies) expect(proxy.connections).toBeGreaterThanOrEqual(2);
    expect(origin.requests()).toBe(4 + 5);

    origin.release();
    await conn.shutdown();
    await log.done;
    for (const proxy of proxies) await expect.poll(() => proxy.open(), { interval: 5, timeout: 2_000 }).toBe(0);
    for (const proxy of proxies) await proxy.close();
    await origin.close();
    await leaks.check();
  });
});
