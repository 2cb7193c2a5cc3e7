/**
 * HTTP/1.1 specifics against real node:http servers and scripted raw peers: cancel and reuse,
 * server-initiated closes, informational responses, trailers, malformed peers.
 */
import { describe, expect, it } from 'vitest';
import { Subject, firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { json, open, text } from '../lib/index.js';
import type { ResponseEvent, UpgradeEvent } from '../lib/index.js';
import { connected, leakCheck, next, nthConnected, record } from './helpers/lifecycle.js';
import { rawServer, startServer } from './helpers/servers.js';
import { rawWsServer } from './websocket-helpers.js';
import { DRAIN_TIMEOUT } from '../lib/node/http1-discard.js';

const fast = { retry: { initialDelay: 5, maxDelay: 20 } } as const;

/**
 * A raw peer that answers the first request on its first socket with `first` (after `delay` ms)
 * and the first request on every later socket with a 200 `ok`. `sockets()`: how many it accepted.
 */
async function firstThenOk(first: string, delay = 0): Promise<Awaited<ReturnType<typeof rawServer>> & { sockets: () => number }> {
  let n = 0;
  const peer = await rawServer(socket => {
    const mine = n++;
    socket.once('data', () => {
      if (mine === 0) setTimeout(() => socket.write(first), delay);
      else socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
    });
  });
  return { ...peer, sockets: () => n };
}

describe('HTTP/1.1 connection', () => {
  it('keeps the socket after a cancel mid-body when the rest is small', async () => {
    let finish!: () => void;
    const server = await startServer('http1', (req, res) => {
      if (req.url === '/big') {
        res.writeHead(200, { 'content-length': '8000' });
        res.write('x'.repeat(1000));
        finish = () => res.end('y'.repeat(7000));
        return;
      }
      res.end('next');
    });
    const conn = open(server.origin, fast);
    const log = record(conn);
    const first = await lastValueFrom(conn.get('/big').pipe(take(2), toArray()));
    expect(first.map(e => e.type)).toEqual(['response', 'data']);
    finish();
    expect(await firstValueFrom(conn.get('/after').pipe(text()))).toMatchObject({ body: 'next' });
    expect(server.connections).toBe(1);
    expect(log.types()).not.toContain('disconnected');
    await conn.shutdown();
    await server.close();
  });

  it('reopens the socket when a cancelled chunked response grows too large to drain', async () => {
    const server = await startServer('http1', (req, res) => {
      if (req.url === '/huge') {
        res.writeHead(200); // chunked: its size is not known ahead
        res.write(Buffer.alloc(1024));
        res.end(Buffer.alloc(4 * 1024 * 1024 - 1024));
        return;
      }
      res.end('next');
    });
    const conn = open(server.origin, fast);
    const down = next(conn, 'disconnected');
    await lastValueFrom(conn.get('/huge').pipe(take(2)));
    expect(await down).toMatchObject({ killedStreams: 0, error: { code: 'RXCONN_CONNECTION_DOWN', message: 'a cancelled response exceeded 65536 bytes: the socket was closed' } });
    expect(await firstValueFrom(conn.get('/after').pipe(text()))).toMatchObject({ body: 'next' });
    expect(server.connections).toBe(2);
    await conn.shutdown();
    await server.close();
  });

  describe('closes the socket at once, without draining, when the rest of a cancelled response cannot keep it', () => {
    // Each first response stalls after its first bytes: a drain would wait DRAIN_TIMEOUT for the rest.
    it('its content-length leaves more than DRAIN_LIMIT', async () => {
      const peer = await firstThenOk(`HTTP/1.1 200 OK\r\ncontent-length: ${4 * 1024 * 1024}\r\n\r\n0123456789`);
      const conn = open(peer.origin, fast);
      const down = next(conn, 'disconnected');
      await lastValueFrom(conn.get('/huge').pipe(take(2)));
      expect(await down).toMatchObject({ killedStreams: 0, error: { code: 'RXCONN_CONNECTION_DOWN', message: `a cancelled response has ${4 * 1024 * 1024 - 10} bytes left, more than the 65536 read to keep the socket: the socket was closed` } });
      expect(await firstValueFrom(conn.get('/after').pipe(text()))).toMatchObject({ body: 'ok' });
      expect(peer.sockets()).toBe(2);
      await conn.shutdown();
      await peer.close();
    });

    it('its head comes after the cancel', async () => {
      const peer = await firstThenOk(`HTTP/1.1 200 OK\r\ncontent-length: ${4 * 1024 * 1024}\r\n\r\n0123456789`, 30);
      const conn = open(peer.origin, fast);
      await connected(conn);
      const down = next(conn, 'disconnected');
      await expect(firstValueFrom(conn.get('/huge', { timeout: 5 }))).rejects.toMatchObject({ code: 'RXCONN_TIMEOUT' });
      expect(await down).toMatchObject({ killedStreams: 0, error: { message: `a cancelled response has ${4 * 1024 * 1024} bytes left, more than the 65536 read to keep the socket: the socket was closed` } });
      expect(await firstValueFrom(conn.get('/after').pipe(text()))).toMatchObject({ body: 'ok' });
      await conn.shutdown();
      await peer.close();
    });

    it.each([
      ['connection: close', 'content-length: 10\r\nconnection: close'],
      ['read until the close', 'x-framing: none'],
    ])('the server closes the socket after it (%s): its planned close, reported as such (closing, a rotation)', async (_name, fields) => {
      const peer = await firstThenOk(`HTTP/1.1 200 OK\r\n${fields}\r\n\r\nab`);
      const conn = open(peer.origin, fast);
      const log = record(conn);
      await lastValueFrom(conn.get('/closing').pipe(take(2)));
      expect(await firstValueFrom(conn.get('/after').pipe(text()))).toMatchObject({ body: 'ok' });
      expect(peer.sockets()).toBe(2);
      expect(log.types().slice(0, 5)).toEqual(['connecting', 'connected', 'closing', 'connecting', 'connected']);
      expect(log.events[2]).toMatchObject({ type: 'closing', initiator: 'server', rotation: true });
      expect(log.states).not.toContain('disconnected');
      await conn.shutdown();
      await peer.close();
    });

    it('an event stream, which does not end by itself', async () => {
      const server = await startServer('http1', (req, res) => {
        if (req.url === '/events') {
          res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
          res.write('data: one\n\n'); // and nothing more, never ending
          return;
        }
        res.end('next');
      });
      const conn = open(server.origin, fast);
      const down = next(conn, 'disconnected');
      expect(await firstValueFrom(conn.sse('/events'))).toMatchObject({ data: 'one' });
      expect(await down).toMatchObject({ killedStreams: 0, error: { code: 'RXCONN_CONNECTION_DOWN', message: 'a cancelled event stream does not end by itself: the socket was closed' } });
      expect(await firstValueFrom(conn.get('/after').pipe(text()))).toMatchObject({ body: 'next' });
      expect(server.connections).toBe(2);
      await conn.shutdown();
      await server.close();
    });
  });

  it('reconnects after a connection: close response and serves the next request at once', async () => {
    const server = await startServer('http1', (req, res) => {
      if (req.url === '/bye') res.setHeader('connection', 'close');
      res.end(`${req.url}`);
    });
    const conn = open(server.origin, fast);
    const log = record(conn);
    expect(await firstValueFrom(conn.get('/bye').pipe(text()))).toMatchObject({ body: '/bye' });
    expect(await firstValueFrom(conn.get('/again').pipe(text()))).toMatchObject({ body: '/again' });
    expect(server.connections).toBe(2);
    // A planned close is a rotation: the replacement is dialled at once, and the state never reads disconnected.
    const types = log.types();
    expect(types.slice(0, 5)).toEqual(['connecting', 'connected', 'closing', 'connecting', 'connected']);
    expect(log.events[2]).toMatchObject({ type: 'closing', initiator: 'server', rotation: true });
    expect(log.states).not.toContain('disconnected');
    await conn.shutdown();
    await server.close();
  });

  it('reconnects when the server closes an idle keep-alive socket: a planned close (closing, initiator server)', async () => {
    // No keep-alive hint: the server's close is the first the client hears of it.
    const peer = await rawServer(socket => {
      socket.on('data', () => {
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
        setTimeout(() => socket.end(), 20);
      });
    });
    const conn = open(peer.origin, fast);
    const closing = next(conn, 'closing');
    expect(await firstValueFrom(conn.get('/').pipe(text()))).toMatchObject({ body: 'ok' });
    expect(await closing).toMatchObject({ initiator: 'server', activeStreams: 0 });
    await next(conn, 'connected');
    expect(await firstValueFrom(conn.get('/').pipe(text()))).toMatchObject({ body: 'ok' });
    await conn.shutdown();
    await peer.close();
  });

  it('delivers 1xx informational responses, then the response, data and trailers', async () => {
    const server = await startServer('http1', (_req, res) => {
      const r = res;
      r.writeEarlyHints({ link: '</style.css>; rel=preload' });
      r.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
      r.write('abc');
      r.addTrailers({ 'x-checksum': '42' });
      r.end('def');
    });
    const conn = open(server.origin, fast);
    const events: ResponseEvent[] = await lastValueFrom(conn.get('/').pipe(toArray()));
    expect(events.map(e => e.type)).toEqual(['inform', 'response', 'data', 'data', 'trailers']);
    expect(events[0]).toMatchObject({ status: 103, headers: { link: '</style.css>; rel=preload' } });
    expect(events[4]).toEqual({ type: 'trailers', headers: { 'x-checksum': '42' } });
    const collected = await firstValueFrom(conn.get('/').pipe(text()));
    expect(collected).toMatchObject({ status: 200, body: 'abcdef', trailers: { 'x-checksum': '42' } });
    await conn.shutdown();
    await server.close();
  });

  it('handles HEAD, 204 and 304 without bodies on a reused socket', async () => {
    const server = await startServer('http1', (req, res) => {
      if (req.url === '/204') res.writeHead(204).end();
      else if (req.url === '/304') res.writeHead(304, { etag: '"a"' }).end();
      else res.writeHead(200, { 'content-length': '5' }).end(req.method === 'HEAD' ? '' : 'hello');
    });
    const conn = open(server.origin, fast);
    expect(await firstValueFrom(conn.head('/').pipe(text()))).toMatchObject({ status: 200, body: '' });
    expect(await firstValueFrom(conn.get('/204').pipe(text()))).toMatchObject({ status: 204, body: '' });
    expect(await firstValueFrom(conn.get('/304').pipe(text()))).toMatchObject({ status: 304, body: '' });
    expect(await firstValueFrom(conn.get('/').pipe(text()))).toMatchObject({ status: 200, body: 'hello' });
    expect(server.connections).toBe(1);
    await conn.shutdown();
    await server.close();
  });

  it('reads a body delimited by the end of the connection, then rotates to a new connection', async () => {
    const peer = await rawServer(socket => {
      socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil the end'));
    });
    const conn = open(peer.origin, fast);
    const log = record(conn);
    const closing = next(conn, 'closing');
    const replaced = nthConnected(conn, 2);
    expect(await firstValueFrom(conn.get('/').pipe(text()))).toMatchObject({ status: 200, body: 'until the end' });
    expect(await closing).toMatchObject({ initiator: 'server', rotation: true });
    await replaced;
    expect(log.types()).not.toContain('disconnected');
    conn.close();
    await log.done;
    await peer.close();
  });

  it('fails a malformed response with RXCONN_PROTOCOL and reconnects', async () => {
    let n = 0;
    const peer = await rawServer(socket => {
      const reply = n++ === 0 ? 'SPDY/9 banana\r\n\r\n' : 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
      socket.once('data', () => socket.write(reply));
    });
    const conn = open(peer.origin, fast);
    const down = next(conn, 'disconnected');
    await expect(firstValueFrom(conn.get('/'))).rejects.toMatchObject({ code: 'RXCONN_PROTOCOL', message: 'malformed status line: "SPDY/9 banana"' });
    expect(await down).toMatchObject({ error: { code: 'RXCONN_PROTOCOL' }, killedStreams: 0 });
    expect(await firstValueFrom(conn.get('/').pipe(text()))).toMatchObject({ body: 'ok' });
    await conn.shutdown();
    await peer.close();
  });

  it('ends endless headers at maxHeaderSize with RXCONN_PROTOCOL', async () => {
    const peer = await rawServer(socket => {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\n');
        let i = 0;
        const more = (): void => {
          if (socket.destroyed || i++ > 200) return;
          socket.write(`x-filler-${i}: ${'z'.repeat(100)}\r\n`, () => setImmediate(more));
        };
        more();
      });
    });
    const conn = open(peer.origin, { ...fast, maxHeaderSize: 4096 });
    await expect(firstValueFrom(conn.get('/'))).rejects.toMatchObject({
      code: 'RXCONN_PROTOCOL',
      message: 'response head exceeds maxHeaderSize (4096 bytes)',
    });
    conn.close();
    await peer.close();
  });

  it('errors json() on a body that is not JSON, with the status in the message', async () => {
    const server = await startServer('http1', (_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>'));
    const conn = open(server.origin, fast);
    await expect(firstValueFrom(conn.get('/').pipe(json()))).rejects.toMatchObject({
      code: 'RXCONN_INVALID_BODY',
      message: expect.stringMatching(/^response body is not valid JSON \(status 502, content-type text\/html\): /),
    });
    await conn.shutdown();
    await server.close();
  });

  it('refuses ping() with RXCONN_UNSUPPORTED and keeps the connection', async () => {
    const server = await startServer('http1', (_req, res) => res.end('ok'));
    const conn = open(server.origin, fast);
    await connected(conn);
    await expect(firstValueFrom(conn.ping())).rejects.toMatchObject({
      code: 'RXCONN_UNSUPPORTED',
      message: 'ping() needs HTTP/2; this connection speaks HTTP/1.1',
    });
    expect(conn.state).toBe('connected');
    expect(await firstValueFrom(conn.get('/').pipe(text()))).toMatchObject({ body: 'ok' });
    await conn.shutdown();
    await server.close();
  });

  it('closes cleanly when close() is called before the first dial', async () => {
    const leaks = leakCheck();
    const server = await startServer('http1', (_req, res) => res.end('ok'));
    const conn = open(server.origin, fast);
    const log = record(conn);
    conn.close();
    await log.done;
    expect(log.types()).toEqual(['closed']);
    expect(server.connections).toBe(0);
    await server.close();
    await leaks.check();
  });

  it('gives up on the first loss with retry: false', async () => {
    const server = await startServer('http1', (_req, res) => res.end('ok'));
    const conn = open(server.origin, { retry: false });
    const log = record(conn);
    await connected(conn);
    await server.kill();
    await log.done;
    expect(log.types()).toEqual(['connecting', 'connected', 'disconnected']);
    expect(log.error()).toMatchObject({ code: 'RXCONN_RETRIES_EXHAUSTED', attempts: 1 });
    expect(conn.state).toBe('failed');
  });

  it('refuses requests beyond maxQueued with RXCONN_QUEUE_FULL', async () => {
    const peer = await rawServer(() => {});
    const conn = open(peer.origin, { ...fast, maxQueued: 2 });
    await connected(conn);
    const subs = [conn.get('/1').subscribe({ error: () => {} }), conn.get('/2').subscribe({ error: () => {} }), conn.get('/3').subscribe({ error: () => {} })];
    await expect(firstValueFrom(conn.get('/4'))).rejects.toMatchObject({ code: 'RXCONN_QUEUE_FULL', message: 'too many requests waiting (options.maxQueued = 2)' });
    expect(conn.info()).toMatchObject({ activeStreams: 1, queuedRequests: 2 });
    subs.forEach(s => s.unsubscribe());
    conn.close();
    await conn.whenClosed();
    await peer.close();
  });

  it('times out a connect attempt against a silent TLS peer', async () => {
    const peer = await rawServer(() => {});
    const conn = open(`https://127.0.0.1:${peer.port}`, { connectTimeout: 30, retry: { maxRetries: 1, initialDelay: 1 } });
    const log = record(conn);
    await log.done;
    expect(log.error()).toMatchObject({ code: 'RXCONN_RETRIES_EXHAUSTED', cause: { code: 'RXCONN_CONNECT_TIMEOUT', message: 'connect attempt exceeded connectTimeout (30 ms)' } });
    expect(log.types()).toEqual(['connecting', 'retrying', 'connecting']);
    await peer.close();
  });

  it('upgrade() hands the socket over in a switched event (the protocol that switched, the 101 headers) and completes when it closes', async () => {
    const leaks = leakCheck();
    const server = await rawWsServer();
    const conn = open(server.origin, fast);
    const log = record(conn);
    let switched!: (event: UpgradeEvent) => void;
    const first = new Promise<UpgradeEvent>(resolve => (switched = resolve));
    const done = new Promise<void>((resolve, reject) => {
      conn.upgrade('websocket', { path: '/', headers: { 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' } }).subscribe({ next: switched, error: reject, complete: resolve });
    });
    const event = await first;
    expect(event).toMatchObject({ type: 'switched', protocol: 'http1', headers: { upgrade: 'websocket', connection: 'Upgrade' } });
    expect(log.types()).toEqual(['connecting', 'connected', 'upgraded']);
    (await server.nextPeer()).socket.destroy();
    await done;
    conn.close();
    await conn.whenClosed();
    await server.close();
    await leaks.check();
  });

  it('closes the socket at once when the server accepts an upgrade that was cancelled', async () => {
    const peer = await firstThenOk('HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n', 20);
    const conn = open(peer.origin, fast);
    await connected(conn);
    const down = next(conn, 'disconnected');
    await expect(firstValueFrom(conn.upgrade('websocket', { path: '/', timeout: 5 }))).rejects.toMatchObject({ code: 'RXCONN_TIMEOUT' });
    expect(await down).toMatchObject({ killedStreams: 0, error: { message: 'the server accepted a cancelled upgrade (101): the socket was closed' } });
    expect(await firstValueFrom(conn.get('/').pipe(text()))).toMatchObject({ body: 'ok' });
    await conn.shutdown();
    await peer.close();
  });

  it('reopens the socket when the rest of a cancelled response does not come within DRAIN_TIMEOUT', async () => {
    // The first response stops after 2 of its 10 bytes and never ends.
    const peer = await firstThenOk('HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nab');
    const conn = open(peer.origin, fast);
    const down = next(conn, 'disconnected');
    await lastValueFrom(conn.get('/slow').pipe(take(2)));
    expect(await down).toMatchObject({ killedStreams: 0, error: { code: 'RXCONN_CONNECTION_DOWN', message: `a cancelled response did not end within ${DRAIN_TIMEOUT} ms: the socket was closed` } });
    expect(await firstValueFrom(conn.get('/after').pipe(text()))).toMatchObject({ body: 'ok' });
    expect(peer.sockets()).toBe(2);
    await conn.shutdown();
    await peer.close();
  });

  it('a request body that errors after its head was written fails the request with that error and closes the socket', async () => {
    const leaks = leakCheck();
    let written!: () => void;
    const headWritten = new Promise<void>(resolve => (written = resolve));
    const peer = await rawServer(socket => socket.once('data', () => written()));
    const conn = open(peer.origin, { retry: false });
    const log = record(conn);
    const body = new Subject<string>();
    const failure = firstValueFrom(conn.post('/upload', body)).catch((e: unknown) => e);
    await headWritten;
    const boom = new Error('boom');
    body.next('part of it');
    body.error(boom);
    expect(await failure).toBe(boom);
    await log.done;
    expect(log.events.find(e => e.type === 'disconnected')).toMatchObject({
      error: { code: 'RXCONN_CONNECTION_DOWN', message: 'request body failed mid-request: boom', cause: boom },
    });
    await peer.close();
    await leaks.check();
  });

  it('a response that ends before the request body was sent is delivered; the body stops and the socket closes', async () => {
    const peer = await firstThenOk('HTTP/1.1 413 Content Too Large\r\ncontent-length: 0\r\n\r\n');
    const conn = open(peer.origin, fast);
    const down = next(conn, 'disconnected');
    const body = new Subject<string>();
    expect(await firstValueFrom(conn.post('/upload', body).pipe(text()))).toMatchObject({ status: 413, body: '' });
    expect(body.observed).toBe(false);
    expect(await down).toMatchObject({ killedStreams: 0, error: { message: 'the server responded before the request body was sent: the socket was closed' } });
    expect(await firstValueFrom(conn.get('/after').pipe(text()))).toMatchObject({ body: 'ok' });
    await conn.shutdown();
    await peer.close();
  });

  it('leaves the socket alone when a queued request is cancelled', async () => {
    const server = await startServer('http1', (req, res) => res.end(`${req.url}`));
    const conn = open(server.origin, fast);
    const cancelled = conn.get('/never').subscribe();
    cancelled.unsubscribe();
    expect(await firstValueFrom(conn.get('/yes').pipe(text()))).toMatchObject({ body: '/yes' });
    expect(server.requests).toBe(1);
    await conn.shutdown();
    await server.close();
  });
});
