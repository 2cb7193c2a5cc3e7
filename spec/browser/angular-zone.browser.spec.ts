/**
 * rxconn/angular in Chromium in a zone-based app (zone.js loaded on this page only): what the
 * service delivers arrives inside the Angular zone.
 */
import '@angular/compiler';
import 'zone.js';
import { expect, test } from 'vitest';
import { EnvironmentInjector, Injector, NgZone, createEnvironmentInjector, ɵINJECTOR_SCOPE as INJECTOR_SCOPE } from '@angular/core';
import type { Provider } from '@angular/core';
import { filter, firstValueFrom } from 'rxjs';
import { ConnectionService, provideConnection } from '../../lib/browser/angular.js';
import { origin } from './helpers.js';

const FAST = { retry: { initialDelay: 20, maxDelay: 100, maxRetries: 1_000 } } as const;

function appInjector(providers: Provider[]): EnvironmentInjector {
  const platform = Injector.create({ providers: [] }) as EnvironmentInjector;
  return createEnvironmentInjector([{ provide: INJECTOR_SCOPE, useValue: 'root' }, ...providers], platform);
}

function statusIs(service: ConnectionService, state: string): Promise<unknown> {
  return firstValueFrom(service.status$.pipe(filter(s => s === state)));
}

test('zone-based: delivery happens inside the Angular zone', async () => {
  const o = await origin('http1');
  const zone = new NgZone({ enableLongStackTrace: false });
  const injector = appInjector([{ provide: NgZone, useValue: zone }, provideConnection(o.url, FAST)]);
  const service = zone.run(() => injector.get(ConnectionService));
  await statusIs(service, 'connected');
  const inside = await new Promise<boolean>((resolve, reject) => {
    zone.run(() => service.get('/hello').subscribe({ complete: () => resolve(NgZone.isInAngularZone()), error: reject }));
  });
  expect(inside).toBe(true);
  const events = await new Promise<boolean>(resolve => {
    zone.run(() => service.events$.pipe(filter(e => e.type === 'closing')).subscribe(() => resolve(NgZone.isInAngularZone())));
    void service.shutdown();
  });
  expect(events).toBe(true);
  injector.destroy();
  await service.connection.whenClosed();
});
