/**
 * What differs in a browser, in Chromium: what cannot exist errors RXCONN_UNSUPPORTED (or is
 * refused by open()) with the reason, and what exists only in part (streamed uploads over HTTP/2,
 * ping as a probe round trip) works.
 */
import { firstValueFrom, from, lastValueFrom } from 'rxjs';
import { describe, expect, test } from 'vitest';
import { open, text } from '../../lib/browser/index.js';
import { next, origin, track } from './helpers.js';

const FAST = { retry: { initialDelay: 20, maxDelay: 100, maxRetries: 1_000 } } as const;

describe('open() refuses what a page cannot honour', () => {
  test.each([
    [{ tls: { rejectUnauthorized: false } }, 'options.tls cannot be used in a browser: the browser does TLS itself (certificates come from its trust store)'],
    [{ protocols: ['http2'] }, 'options.protocols cannot be used in a browser: the browser picks HTTP/1.1, HTTP/2 or HTTP/3 by itself (ALPN); a page cannot force one'],
    [{ maxHeaderSize: 1024 }, 'options.maxHeaderSize cannot be used in a browser: the browser parses response headers itself'],
    [{ proxy: 'http://127.0.0.1:3128' }, 'options.proxy cannot be used in a browser: the browser chooses its proxy itself (system settings, PAC)'],
    [{ socketPath: '/tmp/x.sock' }, 'options.socketPath cannot be used in a browser: a page cannot open a Unix socket'],
    [{ headers: { Cookie: 'a=b' } }, 'options.headers: "Cookie" cannot be set from a browser: the browser controls it'],
  ])('%j', (options, message) => {
    expect(() => open('http://127.0.0.1:1', options as never)).toThrow(expect.objectContaining({ code: 'RXCONN_UNSUPPORTED', message }));
  });

  test('a bad probe option is an invalid argument', () => {
    expect(() => open('http://127.0.0.1:1', { probe: { path: 'x' } })).toThrow('options.probe.path must be a string starting with "/" (got "x")');
  });
});

describe('requests', () => {
  test('a forbidden header or method errors RXCONN_UNSUPPORTED and sends nothing; the connection stays up', async () => {
    const o = await origin('http1');
    const conn = track(open(o.url, FAST));
    await expect(firstValueFrom(conn.get('/hello', { headers: { referer: 'http://x/' } }))).rejects.toMatchObject({
      code: 'RXCONN_UNSUPPORTED',
      message: 'header "referer" cannot be set from a browser: the browser controls it (a forbidden request header of the Fetch standard)',
    });
    await expect(firstValueFrom(conn.request({ method: 'TRACE', path: '/' }))).rejects.toMatchObject({ code: 'RXCONN_UNSUPPORTED', message: 'method TRACE cannot be sent from a browser (fetch() forbids it)' });
    expect(conn.state).toBe('connected');
    await conn.shutdown();
  });

  test('upgrade() errors RXCONN_UNSUPPORTED', async () => {
    const o = await origin('http1');
    const conn = track(open(o.url, FAST));
    await expect(firstValueFrom(conn.upgrade('websocket', { path: '/ws' }))).rejects.toMatchObject({
      code: 'RXCONN_UNSUPPORTED',
      message: 'upgrade() cannot work in a browser: a page cannot take over a connection (use websocket() for a WebSocket)',
    });
    await conn.shutdown();
  });

  test('a streamed body (an Observable) over HTTP/1.1 errors RXCONN_UNSUPPORTED', async () => {
    const o = await origin('http1');
    const conn = track(open(o.url, FAST));
    await expect(firstValueFrom(conn.post('/echo', from(['a', 'b'])))).rejects.toMatchObject({ code: 'RXCONN_UNSUPPORTED' });
    await conn.shutdown();
  });

  test('a streamed body over HTTP/2 is sent as a stream (fetch duplex: "half")', async () => {
    const o = await origin('h2');
    const conn = track(open(o.url, FAST));
    expect((await next(conn, 'connected')).protocol).toBe('http2');
    const response = await lastValueFrom(conn.post('/echo', from(['stream', 'ed ', new Uint8Array([111, 107])])).pipe(text()));
    expect(response.body).toBe('streamed ok');
    await conn.shutdown();
  });

  test('ping() is the round trip of one probe exchange', async () => {
    const o = await origin('http1');
    const conn = track(open(o.url, FAST));
    await next(conn, 'connected');
    const rtt = await firstValueFrom(conn.ping());
    expect(rtt).toBeGreaterThanOrEqual(0);
    await conn.shutdown();
  });

  test('a request made before connected waits for the probe; one past maxQueued errors RXCONN_QUEUE_FULL', async () => {
    const o = await origin('http1');
    const conn = track(open(o.url, { ...FAST, maxQueued: 1 }));
    const first = firstValueFrom(conn.get('/hello').pipe(text()));
    await expect(firstValueFrom(conn.get('/hello'))).rejects.toMatchObject({ code: 'RXCONN_QUEUE_FULL' });
    expect((await first).body).toBe('hello over HTTP/1.1');
    await conn.shutdown();
  });
});
