/**
 * rxconn as Angular's HttpClient backend in Node (the server-side rendering case), with Angular's
 * own HttpClient and an interceptor: calls travel on one rxconn HTTP/2 connection, as HttpEvents;
 * errors are HttpErrorResponses (status 0 for the network); unsubscribing aborts on the wire.
 */
import '@angular/compiler';
import { describe, expect, it, vi } from 'vitest';
import { EnvironmentInjector, Injector, createEnvironmentInjector, provideZonelessChangeDetection, ɵINJECTOR_SCOPE as INJECTOR_SCOPE } from '@angular/core';
import type { EnvironmentProviders, Provider } from '@angular/core';
import { HttpClient, HttpErrorResponse, HttpEventType, provideHttpClient, withInterceptors, withNoXsrfProtection } from '@angular/common/http';
import type { HttpEvent, HttpInterceptorFn } from '@angular/common/http';
import { filter, firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { RXCONN_HTTP_CONNECTION, provideRxconnHttpBackend } from '../lib/angular/http.js';
import { deadPort, startServer } from './helpers/servers.js';
import type { Handler } from './helpers/servers.js';

const fast = { protocols: ['http2'], retry: { initialDelay: 5, maxDelay: 20, maxRetries: Infinity } } as const;

/** Adds a header to every call, as an app's auth interceptor would. */
const stamp: HttpInterceptorFn = (req, next) => next(req.clone({ setHeaders: { 'x-stamp': 'intercepted' } }));

function appInjector(providers: Array<Provider | EnvironmentProviders>): EnvironmentInjector {
  const platform = Injector.create({ providers: [] }) as EnvironmentInjector;
  return createEnvironmentInjector([provideZonelessChangeDetection(), { provide: INJECTOR_SCOPE, useValue: 'root' }, ...providers], platform);
}

/** Echoes what it saw; `/slow` never answers (its close is recorded); `/missing` is a 404. */
function handler(seen: string[]): Handler {
  return (req, res) => {
    seen.push(`${req.method} ${req.url} ${req.httpVersion} ${String(req.headers['x-stamp'])}`);
    if (req.url === '/slow') {
      res.on('close', () => seen.push('closed /slow'));
      return;
    }
    if (req.url === '/missing') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ reason: 'no such item' }));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = chunks.length ? Buffer.concat(chunks) : Buffer.from(JSON.stringify({ ok: true }));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(body.byteLength) });
      res.end(body);
    });
  };
}

describe('provideRxconnHttpBackend (Node)', () => {
  it('HttpClient calls run through the interceptors, on one HTTP/2 connection, with the status as a Signal', async () => {
    const seen: string[] = [];
    const server = await startServer('http2', handler(seen));
    const injector = appInjector([provideHttpClient(withInterceptors([stamp]), withNoXsrfProtection()), provideRxconnHttpBackend(server.origin, fast)]);
    const client = injector.get(HttpClient);
    const results = await Promise.all([1, 2, 3].map(() => firstValueFrom(client.get<{ ok: boolean }>('/items'))));
    expect(results).toEqual([{ ok: true }, { ok: true }, { ok: true }]);
    const posted = await firstValueFrom(client.post<{ name: string }>(`${server.origin}/items`, { name: 'x' }));
    expect(posted).toEqual({ name: 'x' });
    expect(seen).toEqual([...Array(3).fill('GET /items 2.0 intercepted'), 'POST /items 2.0 intercepted']);
    expect(server.connections).toBe(1);
    const connection = injector.get(RXCONN_HTTP_CONNECTION);
    expect(connection.status()).toBe('connected');
    expect(connection.info().protocol).toBe('http2');
    injector.destroy();
    await connection.connection.whenClosed();
    expect(connection.status()).toBe('closed');
    await server.close();
  });

  it('emits HttpEvents with reportProgress, and a 404 as an HttpErrorResponse with the body', async () => {
    const server = await startServer('http2', handler([]));
    const injector = appInjector([provideHttpClient(withNoXsrfProtection()), provideRxconnHttpBackend(server.origin, fast)]);
    const client = injector.get(HttpClient);
    const connection = injector.get(RXCONN_HTTP_CONNECTION);
    const events: HttpEvent<unknown>[] = await lastValueFrom(client.get('/items', { observe: 'events', reportProgress: true }).pipe(toArray()));
    expect(events.map(e => e.type)).toEqual([HttpEventType.Sent, HttpEventType.ResponseHeader, HttpEventType.DownloadProgress, HttpEventType.Response]);
    expect(events[2]).toEqual({ type: HttpEventType.DownloadProgress, loaded: 11, total: 11 });
    const error = await firstValueFrom(client.get('/missing')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpErrorResponse);
    expect(error).toMatchObject({ status: 404, error: { reason: 'no such item' } });
    injector.destroy();
    await connection.connection.whenClosed();
    await server.close();
  });

  it('unsubscribing aborts the call on the wire; a network failure is an HttpErrorResponse with status 0', async () => {
    const seen: string[] = [];
    const server = await startServer('http2', handler(seen));
    const injector = appInjector([provideHttpClient(withNoXsrfProtection()), provideRxconnHttpBackend(server.origin, fast)]);
    const client = injector.get(HttpClient);
    const subscription = client.get('/slow').subscribe();
    await firstValueFrom(injector.get(RXCONN_HTTP_CONNECTION).events$.pipe(filter(e => e.type === 'connected')));
    await vi.waitFor(() => expect(seen.some(s => s.startsWith('GET /slow'))).toBe(true));
    subscription.unsubscribe();
    await vi.waitFor(() => expect(seen).toContain('closed /slow'));
    const failing = firstValueFrom(client.get('/slow')).catch((e: unknown) => e);
    await vi.waitFor(() => expect(seen.filter(s => s.startsWith('GET /slow'))).toHaveLength(2));
    await server.kill();
    const error = (await failing) as HttpErrorResponse;
    expect(error).toBeInstanceOf(HttpErrorResponse);
    expect(error.status).toBe(0);
    expect(error.statusText).toBe('Unknown Error');
    expect(error.error).toMatchObject({ code: 'RXCONN_CONNECTION_DOWN' });
    injector.destroy();
    await server.close();
  });

  it('a call to another origin errors with status 0 and says why', async () => {
    const port = await deadPort();
    const injector = appInjector([provideHttpClient(withNoXsrfProtection()), provideRxconnHttpBackend(`http://127.0.0.1:${port}`, { retry: false })]);
    const error = (await firstValueFrom(injector.get(HttpClient).get('http://example.com/x')).catch((e: unknown) => e)) as HttpErrorResponse;
    expect(error.status).toBe(0);
    expect(error.error).toMatchObject({ code: 'RXCONN_INVALID_ARGUMENT', message: `HttpClient URL http://example.com/x is not on the rxconn connection's origin http://127.0.0.1:${port}` });
    const connection = injector.get(RXCONN_HTTP_CONNECTION);
    injector.destroy();
    await connection.connection.whenClosed().catch(() => undefined);
  });
});
