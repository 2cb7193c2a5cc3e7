/**
 * `rxconn/angular` (Node build: server-side rendering, Electron, tests): an rxconn connection as
 * an Angular service, with its status as a Signal, closed with its injector, and its timers
 * outside the Angular zone. rxconn as `HttpClient`'s backend is `rxconn/angular/http`.
 *
 * @packageDocumentation
 */
import type { FactoryProvider, ProviderToken } from '@angular/core';
import type { ConnectionOptions } from '../node/open.js';
import { open } from '../node/open.js';
import { ConnectionService } from './connection-service.js';
import type { OriginSource } from './connection-service.js';
import { connectionProvider } from './provide-connection.js';

export { ConnectionService } from './connection-service.js';
export type { Opener, OriginSource } from './connection-service.js';
export { ZonedWebSocket } from './zoned-websocket.js';

/**
 * A provider of a {@link ConnectionService} for `origin`: the connection opens when the service
 * is first injected and shuts down gracefully when its injector is destroyed. Put it in the
 * application's providers for one app-wide connection, in a route's or a component's providers
 * for a scoped one. Pass a `token` (an `InjectionToken<ConnectionService>`) to have several.
 *
 * @param origin - `https://host:port`, or a function called in the injection context that returns it
 * @param options - the options of `open()`
 * @param token - what to provide; default {@link ConnectionService}
 *
 * @example
 * export const appConfig: ApplicationConfig = {
 *   providers: [provideConnection('https://api.example.com', { retry: { maxRetries: Infinity } })],
 * };
 * // elsewhere
 * const api = inject(ConnectionService);
 */
export function provideConnection(origin: OriginSource, options?: ConnectionOptions, token: ProviderToken<ConnectionService> = ConnectionService): FactoryProvider {
  return connectionProvider(open, origin, options, token);
}

/**
 * Opens a {@link ConnectionService} owned by the current injection context (a component's field
 * initializer, a provider factory, `runInInjectionContext`): it shuts down with that context.
 *
 * @example
 * export class StatusComponent {
 *   readonly conn = injectConnection('http://127.0.0.1:8080');
 *   readonly label = computed(() => this.conn.status());
 * }
 */
export function injectConnection(origin: OriginSource, options?: ConnectionOptions): ConnectionService {
  return new ConnectionService(origin, options, open);
}
