/**
 * rxconn's browser runtime in Chromium, against real origins on 127.0.0.1: connect and request,
 * cancel on the wire, the origin dying and coming back, shutdown and close.
 */
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, test, vi } from 'vitest';
import { commands } from 'vitest/browser';
import { open, text } from '../../lib/browser/index.js';
import type { RxconnError } from '../../lib/browser/index.js';
import { next, origin, record, stateIs, track } from './helpers.js';

const FAST = { retry: { initialDelay: 20, maxDelay: 100, maxRetries: 1_000 }, connectTimeout: 2_000 } as const;

describe.each([
  ['HTTP/1.1', 'http1', 'http1', 'HTTP/1.1'],
  ['HTTP/2 over TLS', 'h2', 'http2', 'HTTP/2.0'],
] as const)('over %s', (_name, kind, protocol, version) => {
  test('connects after a probe, and a request gets its response', async () => {
    const o = await origin(kind);
    const conn = track(open(o.url, FAST));
    const connected = await next(conn, 'connected');
    expect(connected).toEqual({ type: 'connected', protocol, attempt: 0 });
    const response = await firstValueFrom(conn.get('/hello').pipe(text()));
    expect(response.status).toBe(200);
    expect(response.body).toBe(`hello over ${version}`);
    expect(response.headers['content-type']).toBe('text/plain');
    expect((await commands.originState(o.id)).log).toEqual(['HEAD /', 'GET /hello']);
    conn.close();
    await conn.whenClosed();
  });

  test('posts a body and sends its headers', async () => {
    const o = await origin(kind);
    const conn = track(open(o.url, FAST));
    const response = await firstValueFrom(conn.post('/echo', 'ping', { headers: { 'x-test': 'yes' } }).pipe(text()));
    expect(response.body).toBe('ping');
    expect(response.headers['x-method']).toBe('POST');
    expect(response.headers['x-seen-header']).toBe('yes');
    await conn.shutdown();
  });

  test('unsubscribing aborts the request on the wire (the server sees it)', async () => {
    const o = await origin(kind);
    const conn = track(open(o.url, FAST));
    const first = new Promise<void>(resolve => {
      const subscription = conn.get('/stream').subscribe(event => {
        if (event.type === 'data') {
          subscription.unsubscribe();
          resolve();
        }
      });
    });
    await first;
    await vi.waitFor(async () => expect((await commands.originState(o.id)).log).toContain('aborted /stream'));
    expect(conn.info().activeStreams).toBe(0);
    expect(conn.state).toBe('connected');
    await conn.shutdown();
  });

  test('the origin dies with no request in flight → disconnected by the keepalive probe; back → connected, and the queued request goes out', async () => {
    const o = await origin(kind);
    const keepalive = { interval: 100, timeout: 1_000 };
    const conn = track(open(o.url, { ...FAST, keepalive }));
    await next(conn, 'connected');
    const down = next(conn, 'disconnected');
    const stoppedAt = Date.now();
    await commands.stopOrigin(o.id);
    const disconnected = await down;
    // Bound: interval + timeout, plus the time a loaded machine takes to run a timer.
    expect(Date.now() - stoppedAt).toBeLessThan(keepalive.interval + keepalive.timeout + 2_000);
    expect(disconnected.error.code).toMatch(/^RXCONN_(CONNECTION_DOWN|KEEPALIVE_TIMEOUT)$/);
    expect(disconnected.killedStreams).toBe(0);
    // A request made while the origin is away waits for the connection.
    const queued = firstValueFrom(conn.get('/hello').pipe(text()));
    await vi.waitFor(() => expect(conn.info().queuedRequests).toBe(1));
    const up = next(conn, 'connected');
    await commands.restartOrigin(o.id);
    await up;
    expect((await queued).body).toBe(`hello over ${version}`);
    await conn.shutdown();
  });

  test('shutdown() lets the request in flight finish, refuses new ones, then closes', async () => {
    const o = await origin(kind);
    const conn = track(open(o.url, FAST));
    await next(conn, 'connected');
    const events = record(conn);
    const slow = firstValueFrom(conn.get('/slow?ms=200').pipe(text()));
    await vi.waitFor(async () => expect((await commands.originState(o.id)).log).toContain('GET /slow'));
    const done = conn.shutdown();
    await expect(firstValueFrom(conn.get('/hello'))).rejects.toMatchObject({ code: 'RXCONN_CONNECTION_CLOSED' });
    expect((await slow).body).toBe('slow done');
    await done;
    expect(events.map(e => e.type)).toEqual(['closing', 'closed']);
    expect(events[0]).toMatchObject({ activeStreams: 1, initiator: 'client' });
    expect(conn.state).toBe('closed');
  });

  test('close() aborts what is in flight and leaves nothing running', async () => {
    const o = await origin(kind);
    // A probe every 30 ms of silence (answered within 5 s even on a loaded machine): none may follow close().
    const conn = track(open(o.url, { ...FAST, keepalive: { interval: 30, timeout: 5_000 } }));
    await next(conn, 'connected');
    const stream = lastValueFrom(conn.get('/stream'));
    await vi.waitFor(async () => expect((await commands.originState(o.id)).open).toBe(1));
    conn.close();
    await expect(stream).rejects.toMatchObject({ code: 'RXCONN_CONNECTION_CLOSED' });
    await conn.whenClosed();
    await vi.waitFor(async () => expect((await commands.originState(o.id)).open).toBe(0));
    const seen = (await commands.originState(o.id)).log.length;
    // Absence needs time: ten keepalive intervals with no probe sent.
    await new Promise(resolve => setTimeout(resolve, 300));
    expect((await commands.originState(o.id)).log.length).toBe(seen);
  });
});

describe('losses found by requests', () => {
  test('an HTTP/1.1 response that dies mid-body: the request errors RXCONN_CONNECTION_DOWN and is counted as killed; the link reconnects', async () => {
    const o = await origin('http1');
    const conn = track(open(o.url, FAST));
    await next(conn, 'connected');
    const down = next(conn, 'disconnected');
    const error = await lastValueFrom(conn.get('/die')).catch((e: RxconnError) => e);
    expect(error).toMatchObject({ code: 'RXCONN_CONNECTION_DOWN' });
    const disconnected = await down;
    expect(disconnected.killedStreams).toBeGreaterThanOrEqual(1);
    await stateIs(conn, 'connected');
    await conn.shutdown();
  });

  test('HTTP/2: the server destroys its session mid-stream → the stream is killed, then a new session serves', async () => {
    const o = await origin('h2');
    const conn = track(open(o.url, FAST));
    await next(conn, 'connected');
    const stream = lastValueFrom(conn.get('/stream'));
    await vi.waitFor(async () => expect((await commands.originState(o.id)).open).toBe(1));
    const down = next(conn, 'disconnected');
    expect(await commands.destroySessions(o.id)).toBe(1);
    await expect(stream).rejects.toMatchObject({ code: 'RXCONN_CONNECTION_DOWN' });
    expect((await down).killedStreams).toBe(1);
    await next(conn, 'connected');
    expect((await firstValueFrom(conn.get('/hello').pipe(text()))).body).toBe('hello over HTTP/2.0');
    await conn.shutdown();
  });

  test('a gateway status counts as down when probe.isUp says so', async () => {
    const o = await origin('http1');
    const conn = track(open(o.url, { retry: { maxRetries: 1, initialDelay: 1 }, probe: { path: '/status?code=503', isUp: status => status < 500 } }));
    const failure = await lastValueFrom(conn.pipe(toArray())).catch((e: RxconnError) => e);
    expect(failure).toMatchObject({ code: 'RXCONN_RETRIES_EXHAUSTED' });
    expect((failure as RxconnError).cause).toMatchObject({ message: 'the probe HEAD /status?code=503 got status 503, which options.probe.isUp counts as down' });
  });
});

describe('the window going offline', () => {
  test('offline → disconnected at once, attempts held; online → connected by itself', async () => {
    const o = await origin('http1');
    const conn = track(open(o.url, { ...FAST, retry: { initialDelay: 10_000, maxDelay: 10_000, jitter: 'none' } }));
    await next(conn, 'connected');
    const events = record(conn);
    const wentOffline = new Promise(resolve => window.addEventListener('offline', resolve, { once: true }));
    const cameOnline = new Promise(resolve => window.addEventListener('online', () => resolve(events.length), { once: true }));
    // The command's reply travels on Vitest's WebSocket, which Chromium freezes while offline:
    // await it only after the page has seen the offline event.
    const command = commands.offlineFor(300);
    await wentOffline;
    expect(navigator.onLine).toBe(false);
    const eventsWhenOnline = (await cameOnline) as number;
    await command;
    await stateIs(conn, 'connected');
    expect(events.slice(0, eventsWhenOnline).map(e => e.type)).toEqual(['disconnected', 'retrying']);
    expect(events[0]).toMatchObject({ type: 'disconnected', error: { code: 'RXCONN_CONNECTION_DOWN', message: "the browser went offline (the window's offline event)" } });
    // The 10 s backoff did not hold it back: coming online ends the wait.
    expect(events.slice(eventsWhenOnline).map(e => e.type)).toEqual(['connecting', 'connected']);
    await conn.shutdown();
  });
});
