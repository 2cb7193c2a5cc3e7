/**
 * `rxconn/angular` with the real zone.js (loaded in this file's worker only): the connection's
 * sockets and backoff timers run outside the Angular zone, so a reconnecting connection does not
 * run change detection at every retry, while what reaches the
 * application is delivered inside the zone.
 */
import 'zone.js/node';
import { describe, expect, it } from 'vitest';
import { Injector, NgZone } from '@angular/core';
import { filter, firstValueFrom, take, toArray } from 'rxjs';
import { ConnectionService, provideConnection } from '../lib/angular/index.js';
import { open, text } from '../lib/index.js';
import { deadPort, startServer } from './helpers/servers.js';

/** Counts the turns of the Angular zone: each `onMicrotaskEmpty` is a change detection in a zone-based app. */
function watch(zone: NgZone): { turns: () => number } {
  let turns = 0;
  zone.onMicrotaskEmpty.subscribe(() => turns++);
  return { turns: () => turns };
}

const retrying = { retry: { maxRetries: Infinity, initialDelay: 2, maxDelay: 5 } } as const;

describe('rxconn/angular with zone.js', () => {
  it('a connection opened by the service retries without entering the Angular zone', async () => {
    const port = await deadPort();
    const zone = new NgZone({});
    const injector = Injector.create({ providers: [{ provide: NgZone, useValue: zone }, provideConnection(`http://127.0.0.1:${port}`, retrying)] });
    const service = zone.run(() => injector.get(ConnectionService));
    const unstable = watch(zone);
    await firstValueFrom(service.connection.pipe(filter(e => e.type === 'retrying'), take(5), toArray()));
    expect(unstable.turns()).toBe(0);
    injector.destroy();
    await service.connection.whenClosed();
  });

  it('for comparison: open() called inside the zone runs a turn at every retry', async () => {
    const port = await deadPort();
    const zone = new NgZone({});
    const unstable = watch(zone);
    const conn = zone.run(() => open(`http://127.0.0.1:${port}`, retrying));
    await firstValueFrom(conn.pipe(filter(e => e.type === 'retrying'), take(5), toArray()));
    expect(unstable.turns()).toBeGreaterThanOrEqual(5);
    conn.close();
    await conn.whenClosed();
  });

  it('responses and events are delivered inside the zone', async () => {
    const server = await startServer('http1', (_req, res) => res.end('ok'));
    const zone = new NgZone({});
    const injector = Injector.create({ providers: [{ provide: NgZone, useValue: zone }, provideConnection(server.origin, retrying)] });
    const service = zone.run(() => injector.get(ConnectionService));
    const inZone: boolean[] = [];
    service.events$.subscribe(() => inZone.push(NgZone.isInAngularZone()));
    const reply = await new Promise<boolean>(resolve => {
      service.get('/').pipe(text()).subscribe(() => resolve(NgZone.isInAngularZone()));
    });
    expect(reply).toBe(true);
    expect(inZone.length).toBeGreaterThan(0);
    expect(inZone.every(Boolean)).toBe(true);
    injector.destroy();
    await service.connection.whenClosed();
    await server.close();
  });
});
