/**
 * `open()` in a browser: a monitored link to one origin with the same API as on Node.
 */
import { Connection } from '../core/connection.js';
import { resolveBrowserOptions } from './options.js';
import type { BrowserConnectionOptions } from './options.js';
import { browserRuntime } from './runtime.js';

/**
 * Opens one permanent, monitored link to `origin` (`http(s)://host:port`). A page cannot own a
 * socket, so the evidence behind the states is the browser's: `connected` once a probe exchange
 * (`HEAD /` by default) got an HTTP response; lost on a network `TypeError` of one of its
 * requests, a keepalive probe missed after `keepalive.interval` without traffic, or the window's
 * `offline` event (attempts then wait for `online`). Requests run on `fetch`; `websocket()` on the
 * native `WebSocket`. Throws `RXCONN_INVALID_ARGUMENT` for a bad value and `RXCONN_UNSUPPORTED`
 * for an option a page cannot honour (`tls`, `protocols`, `maxHeaderSize`, a forbidden header).
 *
 * @example
 * const conn = open('https://api.example.com', { keepalive: { interval: 15_000, timeout: 5_000 } });
 * conn.state$.subscribe(state => badge.textContent = state);
 * conn.get('/items').pipe(json()).subscribe(({ body }) => render(body));
 */
export function open(origin: string | URL, options?: BrowserConnectionOptions): Connection {
  return new Connection(resolveBrowserOptions(origin, options, browserRuntime).common);
}
