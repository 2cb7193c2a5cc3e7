/**
 * HTTP/2 end to end through `open()`: protocol selection (h2c prior knowledge, TLS ALPN h2 or
 * http/1.1), multiplexing under a server stream limit, cancellation, server GOAWAY, keepalive,
 * ping and graceful shutdown, against real servers on 127.0.0.1.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { constants } from 'node:http2';
import { firstValueFrom, lastValueFrom, merge, of, toArray } from 'rxjs';
import type { Observable } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { open, text } from '../lib/index.js';
import type { CollectedResponse, Connection } from '../lib/index.js';
import { CA, answer, startH2Server, startRoutedH2Server, startStallProxy } from './helpers/h2-server.js';
import { connected, leakCheck, next, record } from './helpers/lifecycle.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** Settles an Observable of one collected response into a value or an error code. */
async function outcome(source: Observable<CollectedResponse<string>>): Promise<{ value?: CollectedResponse<string>; code?: string; error?: unknown }> {
  try {
    return { value: await lastValueFrom(source) };
  } catch (error) {
    return { error, code: (error as { code?: string }).code };
  }
}

/** Closes the connection (abruptly) after the test, then waits until nothing of it remains. */
function closeLater(conn: Connection): Connection {
  cleanups.push(async () => {
    conn.close();
    await conn.whenClosed();
  });
  return conn;
}

const fastRetry = { initialDelay: 5, maxDelay: 20 };

/** A connection with two held GETs on the server: stream 1 (`below`) and stream 3 (`above`). */
async function twoHeldStreams() {
  const s = await startRoutedH2Server();
  cleanups.push(() => s.close());
  const conn = closeLater(open(s.origin, { protocols: ['http2'], retry: fastRetry }));
  const log = record(conn);
  const below = outcome(conn.get('/hold').pipe(text()));
  await s.heldCount(1);
  const above = outcome(conn.get('/hold').pipe(text()));
  await s.heldCount(2);
  return { s, conn, log, below, above };
}

describe('HTTP/2 through open()', () => {
  it('h2c prior knowledge: connected as http2, a GET with trailers, one server session', async () => {
    const leaks = leakCheck();
    const s = await startRoutedH2Server();
    const conn = open(s.origin, { protocols: ['http2'] });
    const log = record(conn);
    const response = await firstValueFrom(conn.get('/hello').pipe(text()));
    expect(response).toMatchObject({ status: 200, body: 'hello', trailers: { 'x-checksum': 'abc' } });
    expect(response.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(log.events.slice(0, 2)).toEqual([
      { type: 'connecting', attempt: 0 },
      { type: 'connected', protocol: 'http2', attempt: 0 },
    ]);
    expect(conn.info()).toMatchObject({ protocol: 'http2', state: 'connected' });
    await conn.shutdown();
    await log.done;
    expect(s.sessions).toHaveLength(1);
    await s.close();
    await leaks.check();
  });

  it('TLS: ALPN picks h2 from the default offer', async () => {
    const leaks = leakCheck();
    const s = await startRoutedH2Server({ tls: true });
    const conn = open(s.origin, { tls: { ca: CA } });
    const response = await firstValueFrom(conn.get('/').pipe(text()));
    expect(response.body).toBe('ok');
    expect(conn.info().protocol).toBe('http2');
    await conn.shutdown();
    await s.close();
    await leaks.check();
  });

  it('TLS: a server offering only http/1.1 by ALPN gets HTTP/1.1', async () => {
    const leaks = leakCheck();
    const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
    const server = https.createServer({ cert: fixture('server.pem'), key: fixture('server.key'), ALPNProtocols: ['http/1.1'] }, (req, res) =>
      res.end(`HTTP/${req.httpVersion}`),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const conn = open(`https://127.0.0.1:${(server.address() as AddressInfo).port}`, { tls: { ca: CA } });
    const log = record(conn);
    expect((await firstValueFrom(conn.get('/').pipe(text()))).body).toBe('HTTP/1.1');
    expect(log.events.find(e => e.type === 'connected')).toEqual({ type: 'connected', protocol: 'http1', attempt: 0 });
    await conn.shutdown();
    server.closeAllConnections();
    await new Promise(resolve => server.close(resolve));
    await leaks.check();
  });

  it('multiplexes 200 concurrent requests on one session within a server limit of 10 streams', async () => {
    let open_ = 0;
    let maxOpen = 0;
    const s = await startH2Server((stream, headers) => {
      open_++;
      maxOpen = Math.max(maxOpen, open_);
      stream.on('close', () => open_--);
      setImmediate(() => {
        stream.respond({ ':status': 200 });
        stream.end(String(headers[':path']));
      });
    }, { settings: { maxConcurrentStreams: 10 } });
    cleanups.push(() => s.close());
    const conn = closeLater(open(s.origin, { protocols: ['http2'] }));
    const log = record(conn);
    const bodies = await lastValueFrom(merge(...Array.from({ length: 200 }, (_, i) => conn.get(`/n/${i}`).pipe(text()))).pipe(toArray()));
    expect(bodies.map(b => b.body).sort()).toEqual(Array.from({ length: 200 }, (_, i) => `/n/${i}`).sort());
    expect(maxOpen).toBe(10);
    expect(s.sessions).toHaveLength(1);
    expect(log.types()).toEqual(['connecting', 'connected']);
  });

  it('unsubscribing cancels that stream only (RST_STREAM CANCEL); the connection goes on', async () => {
    const s = await startRoutedH2Server();
    cleanups.push(() => s.close());
    const conn = closeLater(open(s.origin, { protocols: ['http2'] }));
    const log = record(conn);
    const other = outcome(conn.get('/hold').pipe(text()));
    const subscription = conn.get('/hold-data').subscribe(event => {
      if (event.type === 'data') subscription.unsubscribe();
    });
    await s.heldCount(2);
    const cancelled = s.held.find(h => h.headersSent)!;
    if (!cancelled.closed) await once(cancelled, 'close');
    expect(cancelled.rstCode).toBe(constants.NGHTTP2_CANCEL);
    answer(s.held.find(h => h !== cancelled)!, 'still here');
    expect((await other).value?.body).toBe('still here');
    expect((await firstValueFrom(conn.get('/').pipe(text()))).body).toBe('ok');
    expect(log.types()).toEqual(['connecting', 'connected']);
    expect(s.sessions).toHaveLength(1);
  });

  it('streams an Observable body up and the echo down', async () => {
    const s = await startRoutedH2Server();
    cleanups.push(() => s.close());
    const conn = closeLater(open(s.origin, { protocols: ['http2'] }));
    const response = await firstValueFrom(conn.post('/echo', of('a', 'b', new Uint8Array([99]))).pipe(text()));
    expect(response.body).toBe('abc');
  });

  it('server GOAWAY(NO_ERROR) is a rotation: the stream above last-stream-id is sent again on the new connection, the other finishes', async () => {
    const { s, conn, log, below, above } = await twoHeldStreams();
    const closing = next(conn, 'closing');
    s.sessions[0].goaway(constants.NGHTTP2_NO_ERROR, 1, Buffer.from('deploy'));
    expect(await closing).toMatchObject({ initiator: 'server', rotation: true, goaway: { errorCode: 0, lastStreamId: 1, debugData: 'deploy' } });

    // The server never processed stream 3: it goes out again, first thing on the replacement.
    await s.heldCount(3);
    expect(s.sessions).toHaveLength(2);
    answer(s.held[2], 'above');
    expect((await above).value?.body).toBe('above');
    // Not waiting for the old session to drain (Gun #251): the next request goes to the new one.
    expect((await firstValueFrom(conn.get('/').pipe(text()))).body).toBe('ok');

    answer(s.held[0], 'below');
    expect((await below).value?.body).toBe('below');
    expect(log.types()).not.toContain('disconnected');
    expect(log.states).not.toContain('disconnected');
  });

  it('server GOAWAY with an error code is an outage: disconnected with the details, the refused stream still sent again', async () => {
    const { s, conn, log, below, above } = await twoHeldStreams();
    const disconnected = next(conn, 'disconnected');
    s.sessions[0].goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM, 1, Buffer.from('calm down'));
    expect(await disconnected).toMatchObject({ protocol: 'http2', goaway: { errorCode: 11, lastStreamId: 1, debugData: 'calm down' } });
    expect(log.events.find(e => e.type === 'closing')).toMatchObject({ initiator: 'server', rotation: false });
    await s.heldCount(3);
    answer(s.held[2], 'above');
    expect((await above).value?.body).toBe('above');
    // node destroys a session that received GOAWAY with an error code: stream 1 dies with it.
    expect((await below).code).toBe('RXCONN_CONNECTION_DOWN');
  });

  it('keepalive: a peer that stops answering PINGs is detected within interval + timeout, then the connection reconnects', async () => {
    const interval = 20;
    const timeout = 40;
    const s = await startRoutedH2Server();
    cleanups.push(() => s.close());
    const proxy = await startStallProxy(s.port);
    cleanups.push(() => proxy.close());
    const conn = closeLater(open(proxy.origin, { protocols: ['http2'], keepalive: { interval, timeout }, retry: fastRetry }));
    await connected(conn);
    expect((await firstValueFrom(conn.get('/').pipe(text()))).body).toBe('ok');
    const disconnected = next(conn, 'disconnected');
    proxy.stall();
    const stalledAt = performance.now();
    const event = await disconnected;
    expect(performance.now() - stalledAt).toBeLessThan(interval + timeout + 400);
    expect(event.error.code).toBe('RXCONN_KEEPALIVE_TIMEOUT');
    await connected(conn);
    expect((await firstValueFrom(conn.get('/').pipe(text()))).body).toBe('ok');
    expect(s.sessions).toHaveLength(2);
  });

  it('ping() emits the round-trip time of one PING', async () => {
    const s = await startRoutedH2Server();
    cleanups.push(() => s.close());
    const conn = closeLater(open(s.origin, { protocols: ['http2'] }));
    await connected(conn);
    const rtt = await firstValueFrom(conn.ping());
    expect(rtt).toBeGreaterThanOrEqual(0);
    expect(rtt).toBeLessThan(1_000);
  });

  it('shutdown(): GOAWAY(NO_ERROR) to the server, the active stream finishes, then closed', async () => {
    const leaks = leakCheck();
    const s = await startRoutedH2Server();
    const conn = open(s.origin, { protocols: ['http2'] });
    const log = record(conn);
    const active = outcome(conn.get('/hold').pipe(text()));
    await s.heldCount(1);
    const goaway = once(s.sessions[0], 'goaway');
    const done = conn.shutdown();
    expect((await goaway)[0]).toBe(constants.NGHTTP2_NO_ERROR);
    expect((await outcome(conn.get('/').pipe(text()))).code).toBe('RXCONN_CONNECTION_CLOSED');
    answer(s.held[0], 'finished');
    expect((await active).value?.body).toBe('finished');
    await done;
    await log.done;
    expect(log.types()).toEqual(['connecting', 'connected', 'closing', 'closed']);
    await s.close();
    await leaks.check();
  });
});
