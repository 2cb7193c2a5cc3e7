/**
 * `rxconn/angular` (browser build): the same services as the Node build, on the browser runtime
 * (a monitored link over fetch and the native WebSocket). Zone-based and zoneless apps both work.
 *
 * @packageDocumentation
 */
import type { FactoryProvider, ProviderToken } from '@angular/core';
import { ConnectionService } from '../angular/connection-service.js';
import type { OriginSource } from '../angular/connection-service.js';
import { connectionProvider } from '../angular/provide-connection.js';
import type { ConnectionOptions } from '../core/options.js';
import { open } from './open.js';
import type { BrowserConnectionOptions } from './options.js';

export { ConnectionService } from '../angular/connection-service.js';
export type { Opener, OriginSource } from '../angular/connection-service.js';
export { ZonedWebSocket } from '../angular/zoned-websocket.js';

/** The browser `open()` as the service's opener (its options are a subset of the core's, plus `probe`). */
export const opener = open as (origin: string | URL, options?: ConnectionOptions) => ReturnType<typeof open>;

/**
 * A provider of a {@link ConnectionService} for `origin` on the browser runtime: it opens on first
 * inject and shuts down gracefully with its injector. See the Node build for the details.
 *
 * @example
 * bootstrapApplication(App, { providers: [provideZonelessChangeDetection(), provideConnection('https://api.example.com')] });
 */
export function provideConnection(origin: OriginSource, options?: BrowserConnectionOptions, token: ProviderToken<ConnectionService> = ConnectionService): FactoryProvider {
  return connectionProvider(opener, origin, options as ConnectionOptions | undefined, token);
}

/** A {@link ConnectionService} owned by the current injection context, on the browser runtime. */
export function injectConnection(origin: OriginSource, options?: BrowserConnectionOptions): ConnectionService {
  return new ConnectionService(origin, options as ConnectionOptions | undefined, opener);
}
