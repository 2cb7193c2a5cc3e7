/**
 * `rxconn/angular` in Node, with Angular's own injectors (no TestBed, no browser): the service
 * opens, its status Signal follows the connection, requests work (inside the zone, as pending
 * tasks), and destroying the injector shuts the connection down gracefully.
 */
import { describe, expect, it } from 'vitest';
import {
  ApplicationRef,
  EnvironmentInjector,
  InjectionToken,
  Injector,
  NgZone,
  createEnvironmentInjector,
  provideZonelessChangeDetection,
  runInInjectionContext,
  ɵINJECTOR_SCOPE as INJECTOR_SCOPE,
} from '@angular/core';
import type { Provider } from '@angular/core';
import { filter, firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { ConnectionService, injectConnection, provideConnection } from '../lib/angular/index.js';
import { text } from '../lib/index.js';
import type { ConnectionState } from '../lib/index.js';
import { leakCheck } from './helpers/lifecycle.js';
import { deadPort, startServer } from './helpers/servers.js';
import type { Handler } from './helpers/servers.js';

const fast = { retry: { initialDelay: 5, maxDelay: 20, maxRetries: Infinity } } as const;

/** An application-like environment injector: root scope, zoneless change detection. */
function appInjector(providers: Provider[]): EnvironmentInjector {
  const platform = Injector.create({ providers: [] }) as EnvironmentInjector;
  return createEnvironmentInjector([provideZonelessChangeDetection(), { provide: INJECTOR_SCOPE, useValue: 'root' }, ...providers], platform);
}

function until(service: ConnectionService, state: ConnectionState): Promise<unknown> {
  return firstValueFrom(service.status$.pipe(filter(s => s === state)));
}

/** Answers `/slow` when released; everything else at once with method and path. */
function slowHandler(): { handler: Handler; release: () => void; arrived: Promise<void> } {
  let release!: () => void;
  let arrived!: () => void;
  const released = new Promise<void>(resolve => (release = resolve));
  const arrivedP = new Promise<void>(resolve => (arrived = resolve));
  const handler: Handler = (req, res) => {
    if (req.url === '/slow') {
      arrived();
      void released.then(() => res.end('slow done'));
      return;
    }
    res.end(`${req.method} ${req.url}`);
  };
  return { handler, release, arrived: arrivedP };
}

/** A stand-in NgZone that records where the binding runs things. */
class RecordingZone {
  inside = true;
  outsideCalls = 0;
  readonly deliveredInside: boolean[] = [];
  runOutsideAngular<T>(fn: () => T): T {
    const was = this.inside;
    this.inside = false;
    this.outsideCalls++;
    try {
      return fn();
    } finally {
      this.inside = was;
    }
  }
  run<T>(fn: () => T): T {
    const was = this.inside;
    this.inside = true;
    try {
      return fn();
    } finally {
      this.inside = was;
    }
  }
}

describe('rxconn/angular', () => {
  it('provideConnection opens on first inject, status follows the connection, requests work', async () => {
    const leaks = leakCheck();
    const server = await startServer('http1', (req, res) => res.end(`${req.method} ${req.url}`));
    const injector = appInjector([provideConnection(server.origin, fast)]);
    const service = injector.get(ConnectionService);
    expect(service.status()).toBe('connecting');
    expect(service.connected()).toBe(false);
    await until(service, 'connected');
    expect(service.status()).toBe('connected');
    expect(service.connected()).toBe(true);
    expect(service.lastEvent()).toEqual({ type: 'connected', protocol: 'http1', attempt: 0 });
    expect(service.info()).toMatchObject({ state: 'connected', protocol: 'http1', remotePort: server.port });

    const reply = await firstValueFrom(service.get('/items').pipe(text()));
    expect(reply).toMatchObject({ status: 200, body: 'GET /items' });
    const posted = await firstValueFrom(service.post('/items', 'x').pipe(text()));
    expect(posted.body).toBe('POST /items');

    injector.destroy();
    expect(service.status()).toBe('closing');
    await service.connection.whenClosed();
    expect(service.connection.state).toBe('closed');
    expect(service.status()).toBe('closed'); // the signal follows the connection to its end
    expect(service.lastEvent()).toEqual({ type: 'closed' });
    await server.close();
    await leaks.check();
  });

  it('status reports a loss and the reconnect, and events$ carries the lifecycle', async () => {
    const server = await startServer('http1', (_req, res) => res.end('ok'));
    const injector = appInjector([provideConnection(server.origin, fast)]);
    const service = injector.get(ConnectionService);
    const seen: Array<[string, ConnectionState]> = [];
    const events = service.events$.subscribe(event => seen.push([event.type, service.status()]));
    await until(service, 'connected');
    const retrying = firstValueFrom(service.events$.pipe(filter(e => e.type === 'retrying')));
    await server.kill();
    await retrying;
    expect(service.status()).toBe('disconnected');
    await server.restart();
    await until(service, 'connected');
    expect(service.status()).toBe('connected');
    const types = seen.map(([type]) => type);
    expect(types.slice(0, 4)).toEqual(['connecting', 'connected', 'disconnected', 'retrying']);
    expect(types.at(-1)).toBe('connected');
    expect(seen.find(([type]) => type === 'retrying')?.[1]).toBe('disconnected');
    expect(seen.at(-1)?.[1]).toBe('connected');
    events.unsubscribe();
    injector.destroy();
    await service.connection.whenClosed();
    await server.close();
  });

  it('destroying the injector shuts down gracefully: the request in flight finishes, new ones are refused', async () => {
    const slow = slowHandler();
    const server = await startServer('http1', slow.handler);
    const injector = appInjector([provideConnection(server.origin, fast)]);
    const service = injector.get(ConnectionService);
    const events = lastValueFrom(service.events$.pipe(toArray()));
    const inFlight = firstValueFrom(service.get('/slow').pipe(text()));
    await slow.arrived;
    injector.destroy();
    expect(service.connection.state).toBe('closing');
    await expect(firstValueFrom(service.connection.get('/late'))).rejects.toMatchObject({ code: 'RXCONN_CONNECTION_CLOSED' });
    slow.release();
    expect((await inFlight).body).toBe('slow done');
    await service.connection.whenClosed();
    expect(service.connection.state).toBe('closed');
    expect((await events).map(e => e.type).slice(-2)).toEqual(['closing', 'closed']);
    await server.close();
  });

  it('a request in flight keeps the application unstable (PendingTasks), as HttpClient does', async () => {
    const slow = slowHandler();
    const server = await startServer('http1', slow.handler);
    const injector = appInjector([provideConnection(server.origin, fast)]);
    const service = injector.get(ConnectionService);
    const app = injector.get(ApplicationRef);
    const stable: boolean[] = [];
    const watch = app.isStable.subscribe(s => stable.push(s));
    expect(stable.at(-1)).toBe(true);
    const inFlight = firstValueFrom(service.get('/slow').pipe(text()));
    expect(stable.at(-1)).toBe(false);
    await slow.arrived;
    slow.release();
    await inFlight;
    await firstValueFrom(app.isStable.pipe(filter(Boolean)));
    watch.unsubscribe();
    injector.destroy();
    await service.connection.whenClosed();
    await server.close();
  });

  it('opens outside the Angular zone and delivers events and responses inside it', async () => {
    const server = await startServer('http1', (_req, res) => res.end('ok'));
    const zone = new RecordingZone();
    // A plain injector: zoneless change detection would want a real NgZone's event emitters.
    const injector = Injector.create({ providers: [{ provide: NgZone, useValue: zone }, provideConnection(server.origin, fast)] });
    const service = injector.get(ConnectionService);
    expect(zone.outsideCalls).toBeGreaterThan(0);
    const insideOnEvent: boolean[] = [];
    const events = service.events$.subscribe(() => insideOnEvent.push(zone.inside));
    zone.inside = false; // the sockets call back from the root zone
    await until(service, 'connected');
    const response = await new Promise<boolean>(resolve => {
      service.get('/').subscribe({ complete: () => resolve(zone.inside) });
    });
    expect(insideOnEvent).toEqual([true, true]); // connecting, connected
    expect(response).toBe(true);
    events.unsubscribe();
    injector.destroy();
    await service.connection.whenClosed();
    await server.close();
  });

  it('injectConnection ties the connection to the current injection context; a token allows several', async () => {
    const a = await startServer('http1', (_req, res) => res.end('a'));
    const b = await startServer('http1', (_req, res) => res.end('b'));
    const ORIGIN_B = new InjectionToken<string>('origin b');
    const SECOND = new InjectionToken<ConnectionService>('second connection');
    const injector = appInjector([
      { provide: ORIGIN_B, useValue: b.origin },
      provideConnection(a.origin, fast),
      provideConnection(() => injector.get(ORIGIN_B), fast, SECOND),
    ]);
    expect((await firstValueFrom(injector.get(ConnectionService).get('/').pipe(text()))).body).toBe('a');
    expect((await firstValueFrom(injector.get(SECOND).get('/').pipe(text()))).body).toBe('b');

    const child = createEnvironmentInjector([], injector);
    const scoped = runInInjectionContext(child, () => injectConnection(a.origin, fast));
    await until(scoped, 'connected');
    child.destroy();
    await scoped.connection.whenClosed();
    expect(injector.get(ConnectionService).status()).toBe('connected');

    const both = [injector.get(ConnectionService).connection, injector.get(SECOND).connection];
    injector.destroy();
    await Promise.all(both.map(conn => conn.whenClosed()));
    expect(both.map(conn => conn.state)).toEqual(['closed', 'closed']);
    await a.close();
    await b.close();
  });

  it('reports a connection that gives up: status failed, failure set', async () => {
    const port = await deadPort();
    const injector = appInjector([provideConnection(`http://127.0.0.1:${port}`, { retry: { maxRetries: 1, initialDelay: 1, maxDelay: 1 } })]);
    const service = injector.get(ConnectionService);
    await service.connection.whenClosed();
    expect(service.status()).toBe('failed');
    expect(service.failure()).toMatchObject({ code: 'RXCONN_RETRIES_EXHAUSTED' });
    injector.destroy();
  });

  it('websocket(): messages and events delivered inside the zone; send and close', async () => {
    const server = http.createServer();
    const wss = new WebSocketServer({ server });
    wss.on('connection', ws => ws.on('message', data => ws.send(`echo ${data.toString()}`)));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const zone = new RecordingZone();
    const injector = Injector.create({
      providers: [{ provide: NgZone, useValue: zone }, provideConnection(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, fast)],
    });
    const service = injector.get(ConnectionService);
    const chat = service.websocket('/chat');
    const seen: Array<[string, boolean]> = [];
    chat.events.subscribe(event => seen.push([event.type, zone.inside]));
    const received: Array<[unknown, boolean]> = [];
    const done = new Promise<void>((resolve, reject) => {
      chat.subscribe({
        next: message => {
          received.push([message, zone.inside]);
          chat.close();
        },
        error: reject,
        complete: resolve,
      });
    });
    zone.inside = false;
    chat.send('hi');
    expect(chat.queued).toBe(1);
    await done;
    expect(received).toEqual([['echo hi', true]]);
    expect(seen).toEqual([['open', true], ['close', true]]);
    injector.destroy();
    await service.connection.whenClosed();
    wss.close();
    server.close();
    await once(server, 'close');
  });

  it('needs an injection context', () => {
    expect(() => new ConnectionService('http://127.0.0.1:1')).toThrow(/injection context/);
  });
});
