/**
 * Tunnels through scripted proxies on 127.0.0.1, as a matrix: every kind of proxy (HTTP/1.1
 * CONNECT in clear and over TLS, HTTP/2 CONNECT h2c and TLS, SOCKS5 with and without
 * credentials, chains) × every origin (HTTP/1.1, h2c, HTTPS with ALPN h2). Each case checks the
 * response, the intermediaries in the `connected` event and `info()`, that the origin got its
 * own `host` and never the proxy's credentials, and that `shutdown()` leaves nothing open in the
 * chain.
 */
import { describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { open, text } from '../lib/index.js';
import type { ConnectionOptions, Intermediary } from '../lib/index.js';
import { connected, leakCheck, next, record } from './helpers/lifecycle.js';
import { CA, connectProxy, http2Proxy, socksProxy } from './helpers/proxies.js';
import type { FakeProxy } from './helpers/proxies.js';
import { startOrigin } from './helpers/origins.js';
import type { OriginKind } from './helpers/origins.js';

const SECRET = 's3cr3t-p4ss';

/** A chain of started proxies, the `proxy` option for it, and the intermediaries it must report. */
interface Chain {
  readonly proxies: FakeProxy[];
  readonly option: ConnectionOptions['proxy'];
  readonly expected: Array<Omit<Intermediary, 'port'>>;
}

const CHAINS: Record<string, () => Promise<Chain>> = {
  'HTTP/1.1 CONNECT': async () => {
    const p = await connectProxy({ auth: `alice:${SECRET}` });
    return { proxies: [p], option: p.url(`alice:${SECRET}`), expected: [{ type: 'connect', host: '127.0.0.1', transport: 'tcp', protocol: 'http1' }] };
  },
  'HTTP/1.1 CONNECT over TLS (https proxy)': async () => {
    const p = await connectProxy({ tls: true });
    return { proxies: [p], option: { url: p.url(), tls: { ca: CA } }, expected: [{ type: 'connect', host: '127.0.0.1', transport: 'tls', protocol: 'http1' }] };
  },
  'HTTP/2 CONNECT (h2c proxy)': async () => {
    const p = await http2Proxy({ auth: `alice:${SECRET}` });
    return { proxies: [p], option: { url: p.url(`alice:${SECRET}`), protocols: ['http2'] }, expected: [{ type: 'connect', host: '127.0.0.1', transport: 'tcp', protocol: 'http2' }] };
  },
  'HTTP/2 CONNECT (TLS proxy, ALPN h2)': async () => {
    const p = await http2Proxy({ secure: true });
    return { proxies: [p], option: { url: p.url(), protocols: ['http2', 'http1'], tls: { ca: CA } }, expected: [{ type: 'connect', host: '127.0.0.1', transport: 'tls', protocol: 'http2' }] };
  },
  'SOCKS5 (no authentication)': async () => {
    const p = await socksProxy();
    return { proxies: [p], option: p.url(), expected: [{ type: 'socks5', host: '127.0.0.1', transport: 'tcp', protocol: 'socks5' }] };
  },
  'SOCKS5 (username/password)': async () => {
    const p = await socksProxy({ auth: `alice:${SECRET}` });
    return { proxies: [p], option: p.url(`alice:${SECRET}`), expected: [{ type: 'socks5', host: '127.0.0.1', transport: 'tcp', protocol: 'socks5' }] };
  },
  'chain: HTTP/1.1 CONNECT → SOCKS5': async () => {
    const a = await connectProxy();
    const b = await socksProxy({ auth: `bob:${SECRET}` });
    return {
      proxies: [a, b],
      option: [a.url(), b.url(`bob:${SECRET}`)],
      expected: [
        { type: 'connect', host: '127.0.0.1', transport: 'tcp', protocol: 'http1' },
        { type: 'socks5', host: '127.0.0.1', transport: 'tcp', protocol: 'socks5' },
      ],
    };
  },
  'chain: HTTP/2 CONNECT → https proxy → SOCKS5': async () => {
    const a = await http2Proxy();
    const b = await connectProxy({ tls: true });
    const c = await socksProxy();
    return {
      proxies: [a, b, c],
      option: [{ url: a.url(), protocols: ['http2'] }, { url: b.url(), tls: { ca: CA } }, c.url()],
      expected: [
        { type: 'connect', host: '127.0.0.1', transport: 'tcp', protocol: 'http2' },
        { type: 'connect', host: '127.0.0.1', transport: 'tls', protocol: 'http1' },
        { type: 'socks5', host: '127.0.0.1', transport: 'tcp', protocol: 'socks5' },
      ],
    };
  },
};

const ORIGINS: Array<{ kind: OriginKind; speaks: 'http1' | 'http2'; options: ConnectionOptions }> = [
  { kind: 'http1', speaks: 'http1', options: {} },
  { kind: 'h2c', speaks: 'http2', options: { protocols: ['http2'] } },
  { kind: 'https', speaks: 'http2', options: { tls: { ca: CA } } },
];

describe.each(Object.keys(CHAINS))('through %s', name => {
  it.each(ORIGINS)('reaches an $kind origin, reports the intermediaries, and closes the whole chain on shutdown', async ({ kind, speaks, options }) => {
    const leaks = leakCheck();
    const chain = await CHAINS[name]();
    const origin = await startOrigin(kind);
    const conn = open(origin.origin, { ...options, proxy: chain.option });
    const log = record(conn);
    const response = await lastValueFrom(conn.get('/hello').pipe(text()));
    expect(response).toMatchObject({ status: 200, body: 'hi /hello' });
    const expected = chain.expected.map((hop, i) => ({ ...hop, port: chain.proxies[i].port }));
    expect(log.events[1]).toEqual({ type: 'connected', protocol: speaks, attempt: 0, intermediaries: expected });
    expect(conn.info()).toMatchObject({ state: 'connected', protocol: speaks, intermediaries: expected });
    // The origin's own authority, and nothing of the proxies' credentials.
    expect(await lastValueFrom(conn.get('/host').pipe(text()))).toMatchObject({ body: `127.0.0.1:${origin.port}` });
    expect(JSON.stringify(origin.seen)).not.toMatch(/proxy-authorization/i);
    expect(JSON.stringify(log.events)).not.toContain(SECRET);
    await conn.shutdown();
    await log.done;
    expect(log.types().slice(-2)).toEqual(['closing', 'closed']);
    for (const proxy of chain.proxies) {
      // The proxy sees the client's side close: nothing of the chain stays open.
      await expect.poll(() => proxy.open(), { interval: 5, timeout: 2_000 }).toBe(0);
    }
    for (const proxy of chain.proxies) await proxy.close();
    await origin.close();
    await leaks.check();
  });
});

describe('a WebSocket through a tunnel', () => {
  it.each(['HTTP/1.1 CONNECT', 'HTTP/2 CONNECT (h2c proxy)', 'SOCKS5 (no authentication)'])('upgrades and echoes through %s', async name => {
    const leaks = leakCheck();
    const chain = await CHAINS[name]();
    const origin = await startOrigin('http1');
    const conn = open(origin.origin, { proxy: chain.option, keepalive: false });
    await connected(conn);
    const channel = conn.websocket('/ws');
    const echoed = firstValueFrom(channel.pipe(take(2), toArray()));
    channel.send('one');
    channel.send('two');
    expect(await echoed).toEqual(['one', 'two']);
    await next(conn, 'connected');
    await conn.shutdown();
    for (const proxy of chain.proxies) await proxy.close();
    await origin.close();
    await leaks.check();
  });
});

describe('shutdown through a tunnel', () => {
  it.each([
    ['HTTP/1.1 CONNECT', 'http1'],
    ['HTTP/2 CONNECT (h2c proxy)', 'h2c'],
    ['chain: HTTP/2 CONNECT → https proxy → SOCKS5', 'https'],
  ] as const)('through %s to an %s origin: the response in flight finishes first, then the chain closes, then closed', async (name, kind) => {
    const leaks = leakCheck();
    const chain = await CHAINS[name]();
    const origin = await startOrigin(kind);
    const options = ORIGINS.find(o => o.kind === kind)!.options;
    const conn = open(origin.origin, { ...options, proxy: chain.option });
    const log = record(conn);
    const slow = lastValueFrom(conn.get('/slow').pipe(text()));
    await expect.poll(() => origin.seen.length).toBe(1);
    const closed = conn.shutdown();
    expect(log.types()).toContain('closing');
    // The tunnel is still up while the response is in flight.
    for (const proxy of chain.proxies) expect(proxy.open()).toBeGreaterThan(0);
    origin.release();
    expect(await slow).toMatchObject({ status: 200, body: 'first;last' });
    await closed;
    expect(log.types().at(-1)).toBe('closed');
    for (const proxy of chain.proxies) await expect.poll(() => proxy.open(), { interval: 5, timeout: 2_000 }).toBe(0);
    for (const proxy of chain.proxies) await proxy.close();
    await origin.close();
    await leaks.check();
  });
});
