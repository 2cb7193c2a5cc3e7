/**
 * rxconn/angular in Chromium (the browser build), in zoneless apps (no zone.js on this page): the
 * connection service, shutdown with the injector, and rxconn as HttpClient's backend with Angular's
 * own HttpClient and an interceptor.
 */
import '@angular/compiler';
import { describe, expect, test, vi } from 'vitest';
import { commands } from 'vitest/browser';
import { EnvironmentInjector, Injector, createEnvironmentInjector, provideZonelessChangeDetection, ɵINJECTOR_SCOPE as INJECTOR_SCOPE } from '@angular/core';
import type { EnvironmentProviders, Provider } from '@angular/core';
import { HttpClient, HttpErrorResponse, HttpEventType, provideHttpClient, withInterceptors } from '@angular/common/http';
import type { HttpEvent, HttpInterceptorFn } from '@angular/common/http';
import { filter, firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { ConnectionService, provideConnection } from '../../lib/browser/angular.js';
import { RXCONN_HTTP_CONNECTION, provideRxconnHttpBackend } from '../../lib/browser/angular-http.js';
import { text } from '../../lib/browser/index.js';
import { origin } from './helpers.js';

const FAST = { retry: { initialDelay: 20, maxDelay: 100, maxRetries: 1_000 } } as const;

/** A zoneless application's root injector. */
function appInjector(providers: Array<Provider | EnvironmentProviders>): EnvironmentInjector {
  const platform = Injector.create({ providers: [] }) as EnvironmentInjector;
  return createEnvironmentInjector([provideZonelessChangeDetection(), { provide: INJECTOR_SCOPE, useValue: 'root' }, ...providers], platform);
}

function statusIs(service: ConnectionService, state: string): Promise<unknown> {
  return firstValueFrom(service.status$.pipe(filter(s => s === state)));
}

const stamp: HttpInterceptorFn = (req, next) => next(req.clone({ setHeaders: { 'x-test': 'intercepted' } }));

describe('provideConnection in the browser', () => {
  test('zoneless: the status Signal follows the connection; requests work; destroying the injector shuts it down', async () => {
    const o = await origin('h2');
    const injector = appInjector([provideConnection(o.url, FAST)]);
    const service = injector.get(ConnectionService);
    expect(service.status()).toBe('connecting');
    await statusIs(service, 'connected');
    expect(service.connected()).toBe(true);
    expect(service.info().protocol).toBe('http2');
    expect((await firstValueFrom(service.get('/hello').pipe(text()))).body).toBe('hello over HTTP/2.0');
    injector.destroy();
    await service.connection.whenClosed();
    expect(service.status()).toBe('closed');
  });
});

describe('provideRxconnHttpBackend in the browser', () => {
  test("HttpClient calls go through the interceptor and rxconn's fetch; HttpEvents; a 404 is an HttpErrorResponse", async () => {
    const o = await origin('h2');
    const injector = appInjector([provideHttpClient(withInterceptors([stamp])), provideRxconnHttpBackend(o.url, FAST)]);
    const client = injector.get(HttpClient);
    const echoed = await firstValueFrom(client.post('/echo', 'body text', { responseType: 'text', observe: 'response' }));
    expect(echoed.body).toBe('body text');
    expect(echoed.headers.get('x-seen-header')).toBe('intercepted');
    const json = await firstValueFrom(client.get<{ ok: boolean; query: string }>('/json', { params: { q: 'rx' } }));
    expect(json).toEqual({ ok: true, query: 'rx' });
    const events: HttpEvent<unknown>[] = await lastValueFrom(client.get('/hello', { observe: 'events', reportProgress: true, responseType: 'text' }).pipe(toArray()));
    expect(events.map(e => e.type)).toEqual([HttpEventType.Sent, HttpEventType.ResponseHeader, HttpEventType.DownloadProgress, HttpEventType.Response]);
    const missing = await firstValueFrom(client.get('/nope', { responseType: 'text' })).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(HttpErrorResponse);
    expect(missing).toMatchObject({ status: 404, error: 'not found' });
    const connection = injector.get(RXCONN_HTTP_CONNECTION);
    expect(connection.status()).toBe('connected');
    injector.destroy();
    await connection.connection.whenClosed();
  });

  test('unsubscribing aborts the call on the wire; the origin dying gives status 0 and the status Signal turns', async () => {
    const o = await origin('http1');
    const injector = appInjector([provideHttpClient(), provideRxconnHttpBackend(o.url, FAST)]);
    const client = injector.get(HttpClient);
    const connection = injector.get(RXCONN_HTTP_CONNECTION);
    await statusIs(connection, 'connected');
    const subscription = client.get('/stream', { responseType: 'text', observe: 'events', reportProgress: true }).subscribe();
    await vi.waitFor(async () => expect((await commands.originState(o.id)).open).toBe(1));
    subscription.unsubscribe();
    await vi.waitFor(async () => expect((await commands.originState(o.id)).log).toContain('aborted /stream'));
    const failing = firstValueFrom(client.get('/stream', { responseType: 'text' })).catch((e: unknown) => e);
    await vi.waitFor(async () => expect((await commands.originState(o.id)).open).toBe(1));
    await commands.stopOrigin(o.id);
    const error = (await failing) as HttpErrorResponse;
    expect(error).toBeInstanceOf(HttpErrorResponse);
    expect(error.status).toBe(0);
    expect(error.error).toMatchObject({ code: 'RXCONN_CONNECTION_DOWN' });
    await statusIs(connection, 'disconnected');
    expect(connection.connected()).toBe(false);
    await commands.restartOrigin(o.id);
    await statusIs(connection, 'connected');
    injector.destroy();
    await connection.connection.whenClosed();
  });
});
