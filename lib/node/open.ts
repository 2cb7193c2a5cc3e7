/**
 * `open()`: the entry point.
 */
import { Connection } from '../core/connection.js';
import type { ConnectionOptions } from '../core/options.js';
import { resolveOptions } from './options.js';
import { nodeRuntime } from './runtime.js';

/**
 * Opens one permanent connection to `origin` (`http://host:port` or `https://host:port`).
 * Validates synchronously, throwing `RXCONN_INVALID_ARGUMENT` naming the option at fault, then
 * returns a hot {@link Connection} that starts dialing at once and reconnects with backoff.
 *
 * @example
 * const conn = open('https://api.example.com', { retry: { maxRetries: Infinity } });
 * conn.subscribe(event => console.log(event.type));
 * conn.get('/items').pipe(json()).subscribe(({ body }) => console.log(body));
 */
export function open(origin: string | URL, options?: ConnectionOptions): Connection {
  return new Connection(resolveOptions(origin, options), nodeRuntime);
}
