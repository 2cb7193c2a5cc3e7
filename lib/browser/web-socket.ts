/**
 * `webSocket(url)` in a browser: a {@link ReconnectingWebSocket} on a browser connection.
 */
import type { ConnectionOptions } from '../core/options.js';
import { ReconnectingWebSocket } from '../core/websocket/reconnecting.js';
import type { WebSocketConnectOptions } from '../core/websocket/reconnecting.js';
import { open } from './open.js';

/**
 * A reconnecting WebSocket in one line, on the native `WebSocket`: `url` is `ws://` or `wss://`
 * (or `http(s)://`). The connection monitors the origin (probe, keepalive, `offline`); a WebSocket
 * closed without a close frame (1006) counts as a loss, and after every loss it reconnects with
 * backoff and opens a new WebSocket. Throws `RXCONN_INVALID_ARGUMENT` for a bad URL or option and
 * `RXCONN_UNSUPPORTED` for an option a page cannot honour.
 *
 * @example
 * const ws = webSocket('wss://example.com/feed', { retry: { maxRetries: Infinity } });
 * ws.messages.subscribe(message => console.log(message));
 * ws.send('subscribe:prices');
 */
export function webSocket(url: string | URL, options?: WebSocketConnectOptions): ReconnectingWebSocket {
  return new ReconnectingWebSocket(url, options, (origin, connectionOptions?: ConnectionOptions) => {
    // The core asks for HTTP/1.1 (a Node WebSocket needs it); a page cannot choose: drop it.
    const { protocols: _protocols, ...rest } = connectionOptions ?? {};
    return open(origin, rest);
  });
}
