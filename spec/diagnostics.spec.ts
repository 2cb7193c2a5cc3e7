/**
 * Instrumentation on Node's diagnostics_channel: a subscriber on every rxconn channel sees the
 * connection's lifecycle and each request's steps in order, with the documented payloads, the
 * same request object throughout, `create` in the subscriber's async context, and a header added
 * there reaching the server (HTTP/1.1 and HTTP/2). Cancel is an `end` with `cancelled`, failures
 * are `error`s. With no subscriber nothing is published and the request is untouched; a
 * subscriber that throws does not break the request.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { execFile } from 'node:child_process';
import diagnosticsChannel from 'node:diagnostics_channel';
import { filter, firstValueFrom, lastValueFrom, take } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { Connection, open, text } from '../lib/index.js';
import type { ConnectionEvent, Protocol } from '../lib/index.js';
import { CHANNELS, connectionChannel } from '../lib/core/diagnostics.js';
import type { DiagnosticsChannel, DiagnosticsPublisher, DiagnosticsRequest, RequestCreateMessage } from '../lib/core/diagnostics.js';
import { resolveOptions } from '../lib/core/options.js';
import { nodeRuntime } from '../lib/node/runtime.js';
import { record } from './helpers/lifecycle.js';
import { startServer } from './helpers/servers.js';

const EVENT_TYPES: ReadonlyArray<ConnectionEvent['type']> = ['connecting', 'connected', 'disconnected', 'retrying', 'upgraded', 'closing', 'closed'];
const ALL = [...EVENT_TYPES.map(connectionChannel), ...Object.values(CHANNELS)];

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** Subscribes to every rxconn channel; returns what arrived, in order. */
function listen(onMessage?: (name: string, message: Record<string, unknown>) => void): Array<{ name: string; message: Record<string, unknown> }> {
  const seen: Array<{ name: string; message: Record<string, unknown> }> = [];
  for (const name of ALL) {
    const fn = (message: unknown): void => {
      seen.push({ name, message: message as Record<string, unknown> });
      onMessage?.(name, message as Record<string, unknown>);
    };
    diagnosticsChannel.subscribe(name, fn);
    cleanups.push(() => diagnosticsChannel.unsubscribe(name, fn));
  }
  return seen;
}

const als = new AsyncLocalStorage<string>();

describe.each<Protocol>(['http1', 'http2'])('diagnostics channels over %s', protocol => {
  it('lifecycle and request steps in order, with their payloads; create runs in the subscriber’s context and can add a header', async () => {
    const server = await startServer(protocol, (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-sum' });
      res.write(String(req.headers.traceparent));
      res.addTrailers({ 'x-sum': '42' });
      res.end();
    });
    cleanups.push(() => server.close());
    let context: string | undefined;
    const seen = listen((name, message) => {
      if (name !== CHANNELS.create) return;
      context = als.getStore();
      (message as unknown as RequestCreateMessage).request.addHeader('traceparent', `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`);
    });
    const conn = open(server.origin, { protocols: [protocol] });
    const log = record(conn);
    const response = await als.run('checkout', () => lastValueFrom(conn.get('/items?x=1', { headers: { 'x-own': 'yes' } }).pipe(text())));
    expect(context).toBe('checkout');
    expect(response.body).toBe(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`);
    await conn.shutdown();
    await log.done;

    // The request is subscribed before the connection's first dial (a microtask of open()).
    expect(seen.map(s => s.name)).toEqual([
      'rxconn:request:create',
      'rxconn:connection:connecting',
      'rxconn:connection:connected',
      'rxconn:request:headers',
      'rxconn:request:response',
      'rxconn:request:end',
      'rxconn:connection:closing',
      'rxconn:connection:closed',
    ]);
    // The connection channels carry the very events the connection emitted.
    expect(seen.filter(s => s.name.startsWith('rxconn:connection:')).map(s => s.message)).toEqual(log.events.map(event => ({ origin: server.origin, event })));
    const requests = seen.filter(s => s.name.startsWith('rxconn:request:'));
    const request = requests[0]!.message.request as DiagnosticsRequest;
    for (const { message } of requests) expect(message.request).toBe(request);
    expect(request).toMatchObject({ origin: server.origin, method: 'GET', path: '/items?x=1' });
    expect(request.headers).toEqual([['x-own', 'yes'], ['traceparent', `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`]]);
    expect(requests[1]!.message).toMatchObject({ protocol, remoteAddress: '127.0.0.1', remotePort: server.port, localAddress: '127.0.0.1' });
    expect(requests[1]!.message.localPort).toEqual(expect.any(Number));
    expect(requests[2]!.message).toMatchObject({ status: 200, headers: { 'content-type': 'text/plain' } });
    expect(requests[3]!.message).toEqual({ request, cancelled: false, trailers: { 'x-sum': '42' } });
    expect(() => request.addHeader('late', 'x')).toThrow('addHeader() works only in a rxconn:request:create subscriber');
  });

  it('a cancel is an end with cancelled: true; a failure is an error with the typed error; a refused request is create + error', async () => {
    const server = await startServer(protocol, (req, res) => {
      res.writeHead(200);
      res.write('part'); // /stall never ends
      if (req.url === '/die') setImmediate(() => void server.kill());
    });
    cleanups.push(() => server.close());
    const seen = listen();
    const steps = (path: string): unknown[] =>
      seen
        .filter(s => s.name.startsWith('rxconn:request:') && (s.message.request as DiagnosticsRequest).path === path)
        .map(s => (s.name === CHANNELS.end ? ['end', s.message.cancelled] : s.name === CHANNELS.error ? ['error', (s.message.error as { code: string }).code] : s.name.slice('rxconn:request:'.length)));

    const patient = open(server.origin, { protocols: [protocol] });
    cleanups.push(async () => {
      patient.close();
      await patient.whenClosed();
    });
    await firstValueFrom(patient.get('/stall').pipe(filter(e => e.type === 'data'), take(1))); // take(1) unsubscribes: a cancel
    expect(steps('/stall')).toEqual(['create', 'headers', 'response', ['end', true]]);

    const fragile = open(server.origin, { protocols: [protocol], retry: false });
    const died = await lastValueFrom(fragile.get('/die')).catch((e: unknown) => e);
    expect(died).toMatchObject({ code: 'RXCONN_CONNECTION_DOWN' });
    await fragile.whenClosed();
    const refused = await lastValueFrom(fragile.get('/after')).catch((e: unknown) => e);
    expect(steps('/die')).toEqual(['create', 'headers', 'response', ['error', 'RXCONN_CONNECTION_DOWN']]);
    expect(seen.find(s => s.name === CHANNELS.error && s.message.error === died)).toBeDefined();
    expect(steps('/after')).toEqual(['create', ['error', (refused as { code: string }).code]]);
  });
});

describe('diagnostics without subscribers', () => {
  it('nothing is published and the request is sent as it was (a spy publisher that nobody listens to)', async () => {
    const asked: string[] = [];
    const published: string[] = [];
    const channel = (name: string): DiagnosticsChannel => ({
      get hasSubscribers() {
        asked.push(name);
        return false;
      },
      publish: () => published.push(name),
    });
    const spy: DiagnosticsPublisher = { channel };
    const server = await startServer('http1', (req, res) => res.end(JSON.stringify(req.headers)));
    cleanups.push(() => server.close());
    const conn = new Connection(resolveOptions(server.origin, {}, { ...nodeRuntime, diagnostics: spy }));
    const response = await lastValueFrom(conn.get('/').pipe(text()));
    await conn.shutdown();
    expect(published).toEqual([]);
    expect(Object.keys(JSON.parse(response.body) as object).sort()).toEqual(['host']);
    // Each request asks its five channels once; each connection event its own channel once.
    expect(asked.filter(name => name.startsWith('rxconn:request:'))).toEqual(Object.values(CHANNELS));
    expect(asked.filter(name => name.startsWith('rxconn:connection:'))).toEqual(['connecting', 'connected', 'closing', 'closed'].map(t => `rxconn:connection:${t}`));
  });

  it('addHeader() validates as request headers do (a publisher that calls its subscriber in place)', async () => {
    const errors: string[] = [];
    const create: DiagnosticsChannel = {
      hasSubscribers: true,
      publish: message => {
        const { request } = message as RequestCreateMessage;
        for (const [name, value] of [['bad name', 'x'], ['host', 'evil'], ['connection', 'close'], ['x-ok', 'a\r\nb']] as const) {
          try {
            request.addHeader(name, value);
          } catch (error) {
            errors.push(`${(error as { code: string }).code}: ${(error as Error).message}`);
          }
        }
        request.addHeader('X-Fine', ' yes ');
      },
    };
    const idle: DiagnosticsChannel = { hasSubscribers: false, publish: () => {} };
    const server = await startServer('http1', (req, res) => res.end(String(req.headers['x-fine'])));
    cleanups.push(() => server.close());
    const conn = new Connection(resolveOptions(server.origin, {}, { ...nodeRuntime, diagnostics: { channel: name => (name === CHANNELS.create ? create : idle) } }));
    expect((await lastValueFrom(conn.get('/').pipe(text()))).body).toBe('yes');
    await conn.shutdown();
    expect(errors).toEqual([
      'RXCONN_INVALID_ARGUMENT: addHeader(): header name "bad name" is not a valid token',
      'RXCONN_INVALID_ARGUMENT: addHeader(): header "host" is managed by rxconn',
      'RXCONN_INVALID_ARGUMENT: addHeader(): header "connection" is managed by rxconn',
      'RXCONN_INVALID_ARGUMENT: addHeader(): header "x-ok" has a forbidden character (CR, LF, NUL or a control character) in its value',
    ]);
  });
});

describe('a subscriber that throws', () => {
  it('does not break the request or the connection (Node rethrows it later as an uncaughtException)', async () => {
    const output = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--import', 'tsx', 'spec/helpers/throwing-subscriber.ts'], { timeout: 30_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    expect(JSON.parse(output)).toEqual({
      status: 200,
      body: 'fine',
      state: 'closed',
      uncaught: [
        'subscriber of rxconn:connection:closed threw',
        'subscriber of rxconn:connection:closing threw',
        'subscriber of rxconn:connection:connected threw',
        'subscriber of rxconn:connection:connecting threw',
        'subscriber of rxconn:request:create threw',
        'subscriber of rxconn:request:end threw',
        'subscriber of rxconn:request:headers threw',
        'subscriber of rxconn:request:response threw',
      ],
    });
  });
});
