/**
 * `webSocket(url)` in Node: a reconnecting WebSocket on its own connection.
 */
import { ReconnectingWebSocket } from '../core/websocket/reconnecting.js';
import type { WebSocketConnectOptions } from '../core/websocket/reconnecting.js';
import { open } from './open.js';

/**
 * A reconnecting WebSocket in one line: `url` is `ws://` or `wss://` (or `http(s)://`) with the
 * path and query of the upgrade. It opens a connection at once (hot, like `open()`), upgrades it,
 * and after every loss reconnects with the connection's backoff (exponential, with jitter) and
 * upgrades again. See {@link ReconnectingWebSocket}. Throws `RXCONN_INVALID_ARGUMENT` for a bad
 * URL or option.
 *
 * @example
 * const ws = webSocket('wss://example.com/feed', { protocols: ['v1'], retry: { maxRetries: Infinity } });
 * ws.subscribe({ next: event => console.log(event.type), error: error => console.error(error) });
 * ws.messages.subscribe(message => console.log(message));
 * ws.send('subscribe:prices'); // queued until the WebSocket is open; flushed again after a reconnect
 * await ws.shutdown();
 */
export function webSocket(url: string | URL, options?: WebSocketConnectOptions): ReconnectingWebSocket {
  return new ReconnectingWebSocket(url, options, open);
}
