/**
 * `provideConnection()` and `injectConnection()` for a given runtime: each build of
 * `rxconn/angular` (Node, browser) binds them to its own `open()`.
 */
import type { FactoryProvider, ProviderToken } from '@angular/core';
import type { ConnectionOptions } from '../core/options.js';
import { ConnectionService } from './connection-service.js';
import type { Opener, OriginSource } from './connection-service.js';

/** The provider of a {@link ConnectionService} for `origin`, on the runtime of `open`. */
export function connectionProvider(
  open: Opener,
  origin: OriginSource,
  options: ConnectionOptions | undefined,
  token: ProviderToken<ConnectionService>,
): FactoryProvider {
  return { provide: token, useFactory: () => new ConnectionService(origin, options, open) };
}
