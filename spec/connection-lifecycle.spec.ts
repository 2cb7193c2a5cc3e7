/**
 * The connection's lifecycle against real loopback servers, one scenario matrix for every
 * protocol: connect, loss and reconnect, give-up, postponed requests, shutdown, close, timeouts.
 */
import { describe, expect, it } from 'vitest';
import { Observable, firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { open, text } from '../lib/index.js';
import type { Protocol } from '../lib/index.js';
import { connected, leakCheck, next, record } from './helpers/lifecycle.js';
import { deadPort, startServer } from './helpers/servers.js';
import type { Handler } from './helpers/servers.js';

const PROTOCOLS: Protocol[] = ['http1', 'http2'];

/** Answers `/slow` only when `release()` is called; everything else at once with method and path. */
function slowHandler(): { handler: Handler; release: () => void; arrived: Promise<void> } {
  let release!: () => void;
  let arrived!: () => void;
  const released = new Promise<void>(resolve => (release = resolve));
  const arrivedP = new Promise<void>(resolve => (arrived = resolve));
  const handler: Handler = (req, res) => {
    if (req.url === '/slow') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first;');
      arrived();
      void released.then(() => res.end('last'));
      return;
    }
    res.end(`${req.method} ${req.url}`);
  };
  return { handler, release, arrived: arrivedP };
}

describe.each(PROTOCOLS)('connection lifecycle over %s', protocol => {
  const fast = { protocols: [protocol], retry: { initialDelay: 5, maxDelay: 20 } } as const;

  it('emits connecting then connected, and state$ replays the state synchronously', async () => {
    const leaks = leakCheck();
    const server = await startServer(protocol, (_req, res) => res.end('ok'));
    const conn = open(server.origin, fast);
    const log = record(conn);
    let syncState: string | undefined;
    conn.state$.subscribe(s => (syncState ??= s)).unsubscribe();
    expect(syncState).toBe('connecting');
    await connected(conn);
    expect(log.events).toEqual([
      { type: 'connecting', attempt: 0 },
      { type: 'connected', protocol, attempt: 0 },
    ]);
    expect(conn.info()).toMatchObject({ state: 'connected', protocol, remotePort: server.port, activeStreams: 0, attempt: 0 });
    await conn.shutdown();
    await log.done;
    expect(log.types().slice(-2)).toEqual(['closing', 'closed']);
    await server.close();
    await leaks.check();
  });

  it('carries on for watchers that come after every earlier one has left (events and state$), and ends them after the end', async () => {
    const leaks = leakCheck();
    const server = await startServer(protocol, (_req, res) => res.end('ok'));
    const conn = open(server.origin, fast);
    // Every watcher leaves: nothing of the events or the state is kept for them.
    conn.subscribe().unsubscribe();
    conn.state$.subscribe().unsubscribe();
    await connected(conn);
    const states: string[] = [];
    const watching = conn.state$.subscribe(state => states.push(state));
    const log = record(conn);
    await conn.shutdown();
    await log.done;
    expect(log.types()).toEqual(['closing', 'closed']);
    expect(states).toEqual(['connected', 'closing', 'closed']);
    expect(watching.closed).toBe(true);
    // After the end: the final state, and complete, at once.
    const late: string[] = [];
    let completed = 0;
    conn.state$.subscribe({ next: state => late.push(state), complete: () => completed++ });
    conn.subscribe({ complete: () => completed++ });
    expect(late).toEqual(['closed']);
    expect(completed).toBe(2);
    await server.close();
    await leaks.check();
  });

  it('reports killed streams when the server dies, reconnects with backoff, and serves the next request', async () => {
    const slow = slowHandler();
    const server = await startServer(protocol, slow.handler);
    const conn = open(server.origin, { ...fast, retry: { initialDelay: 5, maxDelay: 20, maxRetries: Infinity } });
    const log = record(conn);
    const inFlight = firstValueFrom(conn.get('/slow').pipe(toArray())).catch((e: unknown) => e);
    await slow.arrived;
    const down = next(conn, 'disconnected');
    const retrying = next(conn, 'retrying');
    await server.kill();
    const error = await inFlight;
    expect(error).toMatchObject({ code: 'RXCONN_CONNECTION_DOWN' });
    expect(await down).toMatchObject({ type: 'disconnected', protocol, killedStreams: 1, error: { code: 'RXCONN_CONNECTION_DOWN' } });
    const retry = await retrying;
    expect(retry.attempt).toBe(1);
    expect(retry.delay).toBeGreaterThanOrEqual(0);
    expect(retry.delay).toBeLessThanOrEqual(5);
    await server.restart();
    const up = await next(conn, 'connected');
    expect(up.attempt).toBeGreaterThanOrEqual(1);
    const reply = await firstValueFrom(conn.get('/after').pipe(text()));
    expect(reply).toMatchObject({ status: 200, body: 'GET /after' });
    const order = log.types();
    expect(order.indexOf('disconnected')).toBeLessThan(order.indexOf('retrying'));
    expect(order.lastIndexOf('connected')).toBeGreaterThan(order.indexOf('retrying'));
    conn.close();
    await log.done;
    slow.release();
    await server.close();
  });

  it('gives up after exactly maxRetries + 1 attempts on a dead port', async () => {
    const leaks = leakCheck();
    const port = await deadPort();
    const conn = open(`http://127.0.0.1:${port}`, { ...fast, retry: { maxRetries: 3, initialDelay: 1, maxDelay: 2 } });
    const log = record(conn);
    const queued = firstValueFrom(conn.get('/')).catch((e: unknown) => e);
    await log.done;
    expect(log.events.filter(e => e.type === 'connecting').map(e => (e as { attempt: number }).attempt)).toEqual([0, 1, 2, 3]);
    expect(log.events.filter(e => e.type === 'retrying')).toHaveLength(3);
    expect(log.error()).toMatchObject({ code: 'RXCONN_RETRIES_EXHAUSTED', attempts: 4, cause: { code: 'RXCONN_CONNECTION_DOWN' } });
    expect((log.error() as Error).message).toBe(`connection gave up after 4 attempts: connection failed: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(await queued).toBe(log.error());
    expect(conn.state).toBe('failed');
    await expect(firstValueFrom(conn.get('/'))).rejects.toBe(log.error());
    await conn.shutdown(); // resolves on a failed connection
    await leaks.check();
  });

  it('sends a request made before the server listens once it connects', async () => {
    const port = await deadPort();
    const conn = open(`http://127.0.0.1:${port}`, { ...fast, retry: { initialDelay: 5, maxDelay: 10, maxRetries: Infinity } });
    const reply = firstValueFrom(conn.get('/early').pipe(text()));
    await next(conn, 'retrying');
    const real = await startServerOn(protocol, port);
    expect(await reply).toMatchObject({ status: 200, body: 'late /early' });
    await conn.shutdown();
    await real.close();
  });

  it('lets an active stream finish on shutdown, refuses later requests, then closes', async () => {
    const leaks = leakCheck();
    const slow = slowHandler();
    const server = await startServer(protocol, slow.handler);
    const conn = open(server.origin, fast);
    const log = record(conn);
    const inFlight = firstValueFrom(conn.get('/slow').pipe(text()));
    await slow.arrived;
    const closing = next(conn, 'closing');
    const done = conn.shutdown();
    expect(await closing).toEqual({ type: 'closing', activeStreams: 1, initiator: 'client' });
    expect(conn.state).toBe('closing');
    await expect(firstValueFrom(conn.get('/late'))).rejects.toMatchObject({ code: 'RXCONN_CONNECTION_CLOSED' });
    slow.release();
    expect(await inFlight).toMatchObject({ status: 200, body: 'first;last' });
    await done;
    expect(conn.shutdown()).toBe(done); // idempotent
    expect(log.types()).toEqual(['connecting', 'connected', 'closing', 'closed']);
    expect(conn.state).toBe('closed');
    await server.close();
    await leaks.check();
  });

  it('lets a request subscribed in the same tick as shutdown() complete', async () => {
    const server = await startServer(protocol, (req, res) => res.end(`${req.url}`));
    const conn = open(server.origin, fast);
    await connected(conn);
    const reply = firstValueFrom(conn.get('/just-before').pipe(text()));
    const done = conn.shutdown();
    expect(await reply).toMatchObject({ status: 200, body: '/just-before' });
    await done;
    await server.close();
  });

  it('shuts down at once after a cancelled request, without waiting for its response', async () => {
    const slow = slowHandler();
    const server = await startServer(protocol, slow.handler);
    const conn = open(server.origin, fast);
    await lastValueFrom(conn.get('/slow').pipe(take(1)));
    await conn.shutdown(); // the server still holds /slow: a wait for it would never end
    expect(conn.state).toBe('closed');
    slow.release();
    await server.close();
  });

  it('reads state disconnected when the disconnected event arrives', async () => {
    const server = await startServer(protocol, (_req, res) => res.end('ok'));
    const conn = open(server.origin, fast);
    const states: string[] = [];
    conn.subscribe(event => states.push(`${event.type}:${conn.state}`));
    await connected(conn);
    const down = next(conn, 'disconnected');
    await server.kill();
    await down;
    expect(states).toContain('disconnected:disconnected');
    expect(states).toContain('connected:connected');
    conn.close();
    await conn.whenClosed();
    await server.close();
  });

  it('kills what is left when the shutdown timeout elapses', async () => {
    const slow = slowHandler();
    const server = await startServer(protocol, slow.handler);
    const conn = open(server.origin, { ...fast, closeTimeout: 20 });
    const inFlight = lastValueFrom(conn.get('/slow')).catch((e: unknown) => e);
    await slow.arrived;
    await conn.shutdown();
    expect(await inFlight).toMatchObject({ code: 'RXCONN_CONNECTION_CLOSED', message: 'shutdown did not finish within its timeout (20 ms): the stream was killed' });
    slow.release();
    await server.close();
  });

  it('close() during a response errors it, emits closed and completes', async () => {
    const leaks = leakCheck();
    const slow = slowHandler();
    const server = await startServer(protocol, slow.handler);
    const conn = open(server.origin, fast);
    const log = record(conn);
    const events: string[] = [];
    const inFlight = new Promise<unknown>(resolve =>
      conn.get('/slow').subscribe({ next: e => events.push(e.type), error: resolve }),
    );
    await slow.arrived;
    await new Promise<void>(resolve => setImmediate(resolve));
    conn.close();
    conn.close(); // idempotent
    expect(await inFlight).toMatchObject({ code: 'RXCONN_CONNECTION_CLOSED', message: 'the connection was closed' });
    await log.done;
    expect(log.types().at(-1)).toBe('closed');
    await expect(firstValueFrom(conn.get('/'))).rejects.toMatchObject({ code: 'RXCONN_CONNECTION_CLOSED' });
    await conn.whenClosed();
    slow.release();
    await server.close();
    await leaks.check();
  });

  it('shutdown while retrying closes at once and never reconnects', async () => {
    const port = await deadPort();
    const conn = open(`http://127.0.0.1:${port}`, { protocols: [protocol], retry: { initialDelay: 10_000, maxDelay: 10_000, jitter: 'none' } });
    const log = record(conn);
    const queued = firstValueFrom(conn.get('/')).catch((e: unknown) => e);
    await next(conn, 'retrying');
    await conn.shutdown();
    expect(await queued).toMatchObject({ code: 'RXCONN_CONNECTION_CLOSED' });
    await log.done;
    expect(log.types()).toEqual(['connecting', 'retrying', 'closed']);
  });

  it('times out a request with RXCONN_TIMEOUT and keeps serving', async () => {
    const slow = slowHandler();
    const server = await startServer(protocol, slow.handler);
    const conn = open(server.origin, fast);
    await expect(firstValueFrom(conn.request({ path: '/slow', timeout: 300 }))).resolves.toMatchObject({ type: 'response' });
    await expect(lastValueFrom(conn.request({ path: '/slow', timeout: 300 }))).rejects.toMatchObject({
      code: 'RXCONN_TIMEOUT',
      message: 'request exceeded its timeout (300 ms)',
    });
    slow.release();
    expect(await firstValueFrom(conn.get('/next').pipe(text()))).toMatchObject({ body: 'GET /next' });
    await conn.shutdown();
    await server.close();
  });

  it('uses one connection for 100 sequential and 20 concurrent requests', async () => {
    const server = await startServer(protocol, (req, res) => res.end(`${req.url}`));
    const conn = open(server.origin, fast);
    for (let i = 0; i < 100; i++) {
      expect((await firstValueFrom(conn.get(`/s${i}`).pipe(text()))).body).toBe(`/s${i}`);
    }
    const bodies = await Promise.all(Array.from({ length: 20 }, (_, i) => firstValueFrom(conn.get(`/c${i}`).pipe(text()))));
    expect(bodies.map(b => b.body)).toEqual(Array.from({ length: 20 }, (_, i) => `/c${i}`));
    expect(server.connections).toBe(1);
    expect(server.requests).toBe(120);
    await conn.shutdown();
    await server.close();
  });

  it('streams an Observable request body and echoes it', async () => {
    const server = await startServer(protocol, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => res.end(`${req.headers['transfer-encoding'] ?? 'no-te'}:${Buffer.concat(chunks).toString()}`));
    });
    const conn = open(server.origin, fast);
    const chunks$ = new Observable<string | Uint8Array>(subscriber => {
      subscriber.next('alpha,');
      setImmediate(() => {
        subscriber.next(new TextEncoder().encode('beta,'));
        setImmediate(() => {
          subscriber.next('gamma');
          subscriber.complete();
        });
      });
    });
    const reply = await firstValueFrom(conn.request({ method: 'PUT', path: '/upload', body: chunks$ }).pipe(text()));
    expect(reply.body).toBe(`${protocol === 'http1' ? 'chunked' : 'no-te'}:alpha,beta,gamma`);
    await conn.shutdown();
    await server.close();
  });

  it('refuses an invalid header before anything is sent', async () => {
    const server = await startServer(protocol, (_req, res) => res.end('ok'));
    const conn = open(server.origin, fast);
    await connected(conn);
    await expect(firstValueFrom(conn.get('/', { headers: { 'x-evil': 'a\r\nx-injected: 1' } }))).rejects.toMatchObject({
      code: 'RXCONN_INVALID_ARGUMENT',
      message: 'header "x-evil" has a forbidden character (CR, LF, NUL or a control character) in its value',
    });
    await expect(firstValueFrom(conn.request({ method: 'GE T', path: '/' }))).rejects.toMatchObject({ code: 'RXCONN_INVALID_ARGUMENT' });
    expect(server.requests).toBe(0);
    await conn.shutdown();
    await server.close();
  });
});

/** A server for `protocol` on a given (free) port. */
async function startServerOn(protocol: Protocol, port: number): Promise<{ close: () => Promise<void> }> {
  const server = await startServer(protocol, (req, res) => res.end(`late ${req.url}`), { port });
  return { close: () => server.close() };
}
