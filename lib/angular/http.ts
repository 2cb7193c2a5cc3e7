/**
 * `rxconn/angular/http` (Node build: server-side rendering, Electron, tests): rxconn as Angular's
 * `HttpClient` backend. A subpath of its own because it needs `@angular/common/http`.
 *
 * @packageDocumentation
 */
import type { Provider } from '@angular/core';
import type { ConnectionOptions } from '../node/open.js';
import { open } from '../node/open.js';
import type { OriginSource } from './connection-service.js';
import { RXCONN_HTTP_CONNECTION, rxconnHttpBackendProviders } from './http-backend.js';
import { connectionProvider } from './provide-connection.js';

export { RxconnHttpBackend, RXCONN_HTTP_CONNECTION } from './http-backend.js';

/**
 * Makes rxconn the backend of Angular's `HttpClient`: list it **after** `provideHttpClient()`.
 * Every `HttpClient` call, through the app's interceptors, travels on one rxconn connection to
 * `origin` (on Node: one HTTP/2 connection when the origin offers it), with `HttpEvent`s, abort
 * on unsubscribe, and `HttpErrorResponse` with status 0 for a network failure. The connection
 * is `inject(RXCONN_HTTP_CONNECTION)` (its `status` is a Signal); it shuts down with the injector.
 * Angular logs NG02801 in dev-mode SSR because the backend is not its `FetchBackend`.
 *
 * @example
 * providers: [provideHttpClient(withInterceptors([auth])), provideRxconnHttpBackend('https://api.example.com')]
 */
export function provideRxconnHttpBackend(origin: OriginSource, options?: ConnectionOptions): Provider[] {
  return rxconnHttpBackendProviders(connectionProvider(open, origin, options, RXCONN_HTTP_CONNECTION));
}
