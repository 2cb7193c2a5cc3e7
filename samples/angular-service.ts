/**
 * The Angular binding (`rxconn/angular`) in Node, with Angular's own injector: the service opens
 * the connection, exposes its status as a Signal, serves requests, and shuts the connection down
 * when the injector is destroyed. The same providers go in an application's `app.config.ts`
 * (rxconn runs where Angular runs on Node: server-side rendering, Electron, tests).
 *
 * Run: `npx tsx samples/angular-service.ts` (starts its own server on 127.0.0.1, exits 0).
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  EnvironmentInjector,
  InjectionToken,
  Injector,
  computed,
  createEnvironmentInjector,
  inject,
  provideZonelessChangeDetection,
  runInInjectionContext,
} from '@angular/core';
import { filter, firstValueFrom } from 'rxjs';
import { ConnectionService, provideConnection } from '../lib/angular/index.js';
import { json } from '../lib/index.js';

interface Item { readonly id: number; readonly name: string }

const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(req.url === '/items' ? [{ id: 1, name: 'from the server' }] : { path: req.url }));
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');

/** Where the API lives: in an app, from an environment file or the server's config. */
const API_ORIGIN = new InjectionToken<string>('API_ORIGIN');

/** A feature service on top of the connection, as an application would write it. */
class ItemsStore {
  readonly #api = inject(ConnectionService);
  /** A status line for a template: `{{ store.banner() }}`. */
  readonly banner = computed(() => (this.#api.connected() ? 'online' : `offline (${this.#api.status()})`));
  items() {
    return this.#api.get('/items').pipe(json<Item[]>());
  }
}

// In an application: bootstrapApplication(App, { providers: [...] }). Here, the same providers in
// an environment injector of our own.
const platform = Injector.create({ providers: [] }) as EnvironmentInjector;
const app = createEnvironmentInjector(
  [
    provideZonelessChangeDetection(),
    { provide: API_ORIGIN, useValue: `http://127.0.0.1:${(server.address() as AddressInfo).port}` },
    // The origin can come from DI: the function runs in the injection context.
    provideConnection(() => inject(API_ORIGIN), { retry: { maxRetries: Infinity, initialDelay: 100 } }),
    { provide: ItemsStore, useFactory: () => new ItemsStore() },
  ],
  platform,
);

const api = app.get(ConnectionService);
const store = app.get(ItemsStore);
api.events$.subscribe(event => console.log(`event: ${event.type}  (status signal: ${api.status()})`));
console.log('banner:', store.banner());

await firstValueFrom(api.status$.pipe(filter(status => status === 'connected')));
console.log('banner:', store.banner());

const { body } = await firstValueFrom(store.items());
console.log('items:', body);

// Inside an injection context (a component's constructor, a resolver...), the same service:
const again = runInInjectionContext(app, () => inject(ConnectionService));
console.log('one connection for the app:', again === api, '- info:', again.info().protocol, again.info().state);

// Destroying the application's injector shuts the connection down gracefully.
app.destroy();
await api.connection.whenClosed();
console.log('after destroy:', api.connection.state);
server.close();
