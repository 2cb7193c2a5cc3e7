/**
 * What production servers do every day, against loopback servers that behave like them:
 * connection rotation (GOAWAY after n streams, as nginx's `keepalive_requests`), REFUSED_STREAM,
 * a graceful stop whose listener is gone while old streams finish, and the promise of Gun's
 * guide: "if you performed a GET request just before calling shutdown, you will still receive the
 * response".
 */
import { constants } from 'node:http2';
import type { ServerHttp2Stream } from 'node:http2';
import { filter, firstValueFrom, from, lastValueFrom, of } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { open, text, webSocket } from '../lib/index.js';
import type { Connection, ConnectionEvent } from '../lib/index.js';
import { startH2Server } from './helpers/h2-server.js';
import type { H2Server } from './helpers/h2-server.js';
import { leakCheck, next, record } from './helpers/lifecycle.js';
import { deadPort, startServer } from './helpers/servers.js';
import { startWsServer } from './websocket-helpers.js';

const fastRetry = { initialDelay: 1, maxDelay: 5 };
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function closeLater(conn: Connection): Connection {
  cleanups.push(() => {
    conn.close();
    return conn.whenClosed();
  });
  return conn;
}

async function h2(handler: (stream: ServerHttp2Stream, headers: Record<string, unknown>) => void): Promise<H2Server> {
  const server = await startH2Server(handler);
  cleanups.push(() => server.close());
  return server;
}

/** Settles `promise` as its value or its error's code, for tables of outcomes. */
function settled<T>(promise: Promise<T>): Promise<T | string> {
  return promise.catch((error: { code?: string }) => error.code ?? String(error));
}

describe('HTTP/2 rotation: a stream the server never processed is never failed to the user', () => {
  it('GOAWAY(NO_ERROR) after every 25 streams (nginx keepalive_requests), 600 GETs at 64 concurrent: every one answered once, no outage', async () => {
    const perSession = 25;
    const processed = new Map<string, number>();
    const counts = new WeakMap<object, number>();
    const server = await h2((stream, headers) => {
      const session = stream.session!;
      const n = (counts.get(session) ?? 0) + 1;
      counts.set(session, n);
      if (n > perSession) {
        stream.close(constants.NGHTTP2_REFUSED_STREAM); // past the GOAWAY: never processed
        return;
      }
      const id = String(headers['x-n']);
      processed.set(id, (processed.get(id) ?? 0) + 1);
      stream.respond({ ':status': 200 });
      stream.end(id);
      if (n === perSession) {
        session.goaway(constants.NGHTTP2_NO_ERROR, stream.id!);
        session.close();
      }
    });
    const conn = closeLater(open(server.origin, { protocols: ['http2'], retry: fastRetry }));
    const log = record(conn);
    const total = 600;
    const results: string[] = [];
    let nextId = 0;
    const worker = async (): Promise<void> => {
      while (nextId < total) {
        const id = String(nextId++);
        results.push(await settled(lastValueFrom(conn.get('/', { headers: { 'x-n': id } }).pipe(text())).then(r => (r.body === id ? 'ok' : `wrong body ${r.body}`))));
      }
    };
    await Promise.all(Array.from({ length: 64 }, worker));
    expect(results.filter(r => r !== 'ok')).toEqual([]);
    expect(results).toHaveLength(total);
    expect([...processed.values()].every(n => n === 1)).toBe(true);
    expect(processed.size).toBe(total);
    expect(server.sessions.length).toBeGreaterThanOrEqual(total / perSession);
    // Planned closes are rotations: never an outage, never a backoff.
    expect(log.states).not.toContain('disconnected');
    expect(log.types()).not.toContain('retrying');
    expect(log.events.filter(e => e.type === 'closing').every(e => e.type === 'closing' && e.rotation === true)).toBe(true);
  });

  it('REFUSED_STREAM: the request is sent again and answered; a server refusing every stream ends it with RXCONN_STREAM_REFUSED after the bound', async () => {
    const seen = new Map<string, number>();
    const server = await h2((stream, headers) => {
      const path = String(headers[':path']);
      const n = (seen.get(path) ?? 0) + 1;
      seen.set(path, n);
      if (path === '/always' || n === 1) {
        stream.close(constants.NGHTTP2_REFUSED_STREAM);
        return;
      }
      stream.respond({ ':status': 200 });
      stream.end('second time lucky');
    });
    const conn = closeLater(open(server.origin, { protocols: ['http2'], retry: fastRetry }));
    expect((await lastValueFrom(conn.get('/once').pipe(text()))).body).toBe('second time lucky');
    expect(seen.get('/once')).toBe(2);
    await expect(lastValueFrom(conn.get('/always'))).rejects.toMatchObject({
      code: 'RXCONN_STREAM_REFUSED',
      message: 'the server refused the stream (REFUSED_STREAM (code 7)): it was not processed, and it could not be sent again',
    });
    expect(seen.get('/always')).toBe(6); // the first send and 5 more (MAX_FRUITLESS_RESENDS)
    expect(conn.state).toBe('connected');
  });

  it('a streamed (Observable) body cannot be sent again: a refused stream errors RXCONN_STREAM_REFUSED after one send', async () => {
    let streams = 0;
    const server = await h2(stream => {
      streams++;
      stream.close(constants.NGHTTP2_REFUSED_STREAM);
    });
    const conn = closeLater(open(server.origin, { protocols: ['http2'], retry: fastRetry }));
    await expect(lastValueFrom(conn.post('/upload', from(['a', 'b'])))).rejects.toMatchObject({ code: 'RXCONN_STREAM_REFUSED' });
    expect(streams).toBe(1);
    // A text body can be: it is sent again (and refused again, up to the bound).
    await expect(lastValueFrom(conn.post('/upload', 'ab'))).rejects.toMatchObject({ code: 'RXCONN_STREAM_REFUSED' });
    expect(streams).toBe(7);
  });

  it('sends content-length for a text or bytes body, none for a streamed one (as over HTTP/1.1)', async () => {
    const server = await h2((stream, headers) => {
      stream.respond({ ':status': 200 });
      stream.end(String(headers['content-length'] ?? 'none'));
      stream.resume();
    });
    const conn = closeLater(open(server.origin, { protocols: ['http2'] }));
    const length = async (source: ReturnType<Connection['get']>): Promise<string> => (await lastValueFrom(source.pipe(text()))).body;
    expect(await length(conn.post('/post', 'hello world'))).toBe('11');
    expect(await length(conn.put('/put', new Uint8Array(1000)))).toBe('1000');
    expect(await length(conn.post('/empty', ''))).toBe('0');
    expect(await length(conn.post('/stream', of('a', 'b')))).toBe('none');
    expect(await length(conn.get('/get'))).toBe('none');
  });
});

describe('a graceful stop whose listener is gone (nginx -s quit, a pod on SIGTERM)', () => {
  it('the old session finishes its download while every redial is refused; the connection gives up only once no session is left', async () => {
    const chunks = 8;
    let stopping: (() => void) | undefined;
    const server = await h2((stream, headers) => {
      if (headers[':path'] !== '/download') return void stream.respond({ ':status': 404 }, { endStream: true });
      stream.respond({ ':status': 200 });
      let sent = 0;
      const tick = setInterval(() => {
        stream.write(Buffer.alloc(16 * 1024, 'x'));
        if (++sent === 2) stopping?.();
        if (sent === chunks) {
          clearInterval(tick);
          stream.end();
        }
      }, 10);
      stream.on('close', () => clearInterval(tick));
    });
    // Stop listening, then GOAWAY(NO_ERROR) the open session and let it finish (node's session.close()).
    stopping = () => {
      stopping = undefined;
      server.server.close();
      for (const session of server.sessions) session.close();
    };
    const conn = closeLater(open(server.origin, { protocols: ['http2'], retry: { maxRetries: 2, initialDelay: 1, maxDelay: 5 } }));
    const log = record(conn);
    const download = lastValueFrom(conn.get('/download').pipe(text()));
    const body = await download;
    expect(body.status).toBe(200);
    expect(body.body.length).toBe(chunks * 16 * 1024);
    await log.done;
    expect(log.error()).toMatchObject({ code: 'RXCONN_RETRIES_EXHAUSTED' });
    expect(conn.state).toBe('failed');
    const closing = log.events.find(e => e.type === 'closing');
    expect(closing).toMatchObject({ initiator: 'server', rotation: true, activeStreams: 1 });
    // Far more redials than the budget of 2: they went on while the old session still served.
    expect(log.events.filter(e => e.type === 'retrying').length).toBeGreaterThan(2);
    expect(log.events.filter((e): e is Extract<ConnectionEvent, { type: 'disconnected' }> => e.type === 'disconnected').every(e => e.killedStreams === 0)).toBe(true);
  });
});

describe.each(['http1', 'http2'] as const)('shutdown keeps the seed\'s promise over %s', protocol => {
  it('requests made before shutdown() while the connection is still dialling are sent and answered; later ones are refused', async () => {
    const leaks = leakCheck();
    const server = await startServer(protocol, (req, res) => res.end(`${req.method} ${req.url}`));
    const conn = open(server.origin, { protocols: [protocol] });
    const log = record(conn);
    const answers = ['/a', '/b', '/c'].map(path => lastValueFrom(conn.get(path).pipe(text())));
    const closed = conn.shutdown();
    await expect(lastValueFrom(conn.get('/late'))).rejects.toMatchObject({ code: 'RXCONN_CONNECTION_CLOSED', message: 'the connection is shutting down: no new requests' });
    expect((await Promise.all(answers)).map(r => r.body)).toEqual(['GET /a', 'GET /b', 'GET /c']);
    await closed;
    await log.done;
    expect(log.types()).toEqual(['connecting', 'closing', 'connected', 'closed']);
    await server.close();
    await leaks.check();
  });

  it('requests queued behind others on a live connection are all answered before it closes', async () => {
    const server = await startServer(protocol, (req, res) => setTimeout(() => res.end(`${req.url}`), 5));
    const conn = open(server.origin, { protocols: [protocol] });
    await next(conn, 'connected');
    const answers = Array.from({ length: 10 }, (_, i) => lastValueFrom(conn.get(`/${i}`).pipe(text())));
    await conn.shutdown();
    expect((await Promise.all(answers)).map(r => r.body)).toEqual(Array.from({ length: 10 }, (_, i) => `/${i}`));
    await server.close();
  });

  it('a dial that fails during shutdown refuses what waited for it, with why, and starts no new dial', async () => {
    const port = await deadPort();
    const conn = open(`http://127.0.0.1:${port}`, { protocols: [protocol], retry: fastRetry });
    const log = record(conn);
    const queued = lastValueFrom(conn.get('/')).catch((error: unknown) => Promise.reject(error));
    queued.catch(() => undefined);
    await conn.shutdown();
    await expect(queued).rejects.toMatchObject({ code: 'RXCONN_CONNECTION_CLOSED', message: expect.stringMatching(/^the connection shut down before this request could be sent: the connection could not be established \(.*ECONNREFUSED/) });
    expect(log.types().filter(t => t === 'connecting')).toHaveLength(1);
    expect(conn.state).toBe('closed');
  });
});

describe('time options and state', () => {
  it('shutdown({ timeout }) past what a timer holds is refused; Infinity waits for the streams', async () => {
    const server = await startServer('http1', (_req, res) => setTimeout(() => res.end('late'), 20));
    const conn = open(server.origin);
    await expect(conn.shutdown({ timeout: 3e9 })).rejects.toMatchObject({ code: 'RXCONN_INVALID_ARGUMENT', message: 'shutdown timeout must be a number ≥ 0 and at most 2147483647 ms (about 24.8 days), or Infinity for none (got 3000000000)' });
    const answer = lastValueFrom(conn.get('/').pipe(text()));
    await conn.shutdown({ timeout: Infinity });
    expect((await answer).body).toBe('late');
    await server.close();
  });

  it('state is current in every callback: closed right after close(), failed in a give-up error handler', async () => {
    const server = await startServer('http1', (_req, res) => res.end('ok'));
    const conn = open(server.origin);
    await next(conn, 'connected');
    conn.close();
    expect(conn.state).toBe('closed');
    await conn.whenClosed();
    await server.close();

    const port = await deadPort();
    const failing = open(`http://127.0.0.1:${port}`, { retry: { maxRetries: 1, initialDelay: 1 } });
    failing.subscribe({ error: () => undefined });
    const stateInHandler = await new Promise(resolve => failing.get('/').subscribe({ error: () => resolve(failing.state) }));
    expect(stateInHandler).toBe('failed');
  });
});

describe('webSocket(): nothing sent before shutdown() is dropped silently', () => {
  it('a message sent right before shutdown() goes out before the close frame', async () => {
    const server = await startWsServer({}, () => undefined);
    cleanups.push(() => server.close());
    const ws = webSocket(`${server.url}/chat`, { retry: fastRetry });
    const events: string[] = [];
    ws.subscribe({ next: event => events.push(event.type), error: () => undefined });
    ws.send('subscribe:prices');
    ws.send('hello');
    const peer = server.nextPeer();
    await ws.shutdown();
    const { messages, closed } = await peer;
    expect(messages.map(String)).toEqual(['subscribe:prices', 'hello']);
    expect((await closed).code).toBe(1001);
    expect(events).not.toContain('unsent');
  });

  it('queued messages a channel could never send are handed back as an `unsent` event', async () => {
    const port = await deadPort();
    const conn = open(`http://127.0.0.1:${port}`, { retry: false });
    conn.subscribe({ error: () => undefined });
    const channel = conn.websocket('/');
    const unsent = firstValueFrom(channel.events.pipe(filter(event => event.type === 'unsent')));
    channel.subscribe({ error: () => undefined });
    channel.send('one');
    channel.send(new Uint8Array([2]));
    expect(await unsent).toMatchObject({ type: 'unsent', messages: ['one', new Uint8Array([2])], error: { code: 'RXCONN_CONNECTION_CLOSED', message: 'the connection failed before 2 queued messages were sent' } });
    await conn.whenClosed();
  });
});

describe('planned closes of fresh connections', () => {
  it('a GOAWAY(NO_ERROR) on a fresh connection that served nothing is a rotation; a server doing it every time ends up as failures with backoff', async () => {
    let sessions = 0;
    const server = await startH2Server(() => undefined);
    cleanups.push(() => server.close());
    // Every session gets GOAWAY(NO_ERROR) at once and closes, before any stream.
    server.server.on('session', session => {
      sessions++;
      session.goaway(constants.NGHTTP2_NO_ERROR, 0);
      session.close();
    });
    const conn = open(server.origin, { protocols: ['http2'], retry: { maxRetries: 2, initialDelay: 1, maxDelay: 2 } });
    const log = record(conn);
    await log.done;
    expect(log.error()).toMatchObject({ code: 'RXCONN_RETRIES_EXHAUSTED' });
    const closings = log.events.filter((e): e is Extract<ConnectionEvent, { type: 'closing' }> => e.type === 'closing');
    // The first two in a row are rotations (a reload landing on a just-replaced connection)…
    expect(closings.slice(0, 2).map(e => e.rotation)).toEqual([true, true]);
    // …then failures: 3 more attempts (the first and 2 retries), with backoff.
    expect(closings.slice(2).every(e => e.rotation === false)).toBe(true);
    expect(log.events.filter(e => e.type === 'retrying')).toHaveLength(2);
    expect(sessions).toBe(5);
  });
});
