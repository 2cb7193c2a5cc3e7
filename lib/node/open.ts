/**
 * `open()` in Node: the entry point.
 */
import { Connection } from '../core/connection.js';
import type { ConnectionOptions as CoreConnectionOptions } from '../core/options.js';
import { resolveOptions } from '../core/options.js';
import type { ResolvedOptions } from '../core/options.js';
import { nodeRuntime } from './runtime.js';
import type { TlsOptions } from './tls-options.js';
import type { ProxyOption } from './proxy/options.js';

/** Options of {@link open} in Node: the core's, with `tls` typed as `node:tls` connect options. */
export interface ConnectionOptions extends Omit<CoreConnectionOptions, 'tls'> {
  /** `node:tls` connect options (`ca`, `cert`, `key`, `rejectUnauthorized`, `servername`...). Certificates are verified by default. */
  tls?: TlsOptions;
  /**
   * A proxy URL (`http://`, `https://`, `socks5://`, with `user:pass@` for credentials), a
   * `ProxyConfig`, a chain of them (the first is dialled first), or `'env'`
   * (HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY, lower case first). Default: direct.
   */
  proxy?: ProxyOption;
  /** Dial this Unix domain socket instead of the origin's host and port (the origin still gives `host` and the TLS name). */
  socketPath?: string;
}

/** `open()`'s validation with the Node runtime, without dialing (for tests and tools). */
export function resolveNodeOptions(origin: unknown, options?: unknown): ResolvedOptions {
  return resolveOptions(origin, options, nodeRuntime);
}

/**
 * Opens one permanent connection to `origin` (`http://host:port` or `https://host:port`).
 * Validates synchronously, throwing `RXCONN_INVALID_ARGUMENT` naming the option at fault, then
 * returns a hot {@link Connection} that starts dialing at once and reconnects with backoff.
 *
 * @example
 * const conn = open('https://api.example.com', { retry: { maxElapsed: Infinity } }); // never give up
 * conn.subscribe({ next: event => console.log(event.type), error: error => console.error(error) });
 * conn.get('/items').pipe(json()).subscribe(({ body }) => console.log(body));
 */
export function open(origin: string | URL, options?: ConnectionOptions): Connection {
  return new Connection(resolveOptions(origin, options, nodeRuntime));
}
