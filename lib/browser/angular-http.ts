/**
 * `rxconn/angular/http` (browser build): rxconn as Angular's `HttpClient` backend, on fetch
 * under the monitored link.
 *
 * @packageDocumentation
 */
import type { Provider } from '@angular/core';
import type { OriginSource } from '../angular/connection-service.js';
import { RXCONN_HTTP_CONNECTION, rxconnHttpBackendProviders } from '../angular/http-backend.js';
import { connectionProvider } from '../angular/provide-connection.js';
import type { ConnectionOptions } from '../core/options.js';
import { opener } from './angular.js';
import type { BrowserConnectionOptions } from './options.js';

export { RxconnHttpBackend, RXCONN_HTTP_CONNECTION } from '../angular/http-backend.js';

/**
 * rxconn as `HttpClient`'s backend in the browser (list it after `provideHttpClient()`): calls and
 * interceptors run on fetch under the monitored link, so every call is evidence for the
 * connection's state; `inject(RXCONN_HTTP_CONNECTION).status` is that state as a Signal.
 *
 * @example
 * providers: [provideHttpClient(withInterceptors([auth])), provideRxconnHttpBackend('https://api.example.com')]
 */
export function provideRxconnHttpBackend(origin: OriginSource, options?: BrowserConnectionOptions): Provider[] {
  return rxconnHttpBackendProviders(connectionProvider(opener, origin, options as ConnectionOptions | undefined, RXCONN_HTTP_CONNECTION));
}
