/**
 * `ZonedWebSocket`: a connection's WebSocket channel whose messages and events are delivered
 * inside the Angular zone.
 */
import { Observable } from 'rxjs';
import type { WebSocketChannel, WebSocketChannelEvent } from '../core/websocket/channel.js';
import type { WebSocketMessage } from '../core/websocket/link.js';
import { outsideZone } from './zone.js';
import type { ZoneRunner } from './zone.js';

/**
 * A WebSocket on the service's connection (see {@link ConnectionService.websocket}): the same
 * contract as rxconn's `WebSocketChannel` (shared and lazy: the first subscriber upgrades, the
 * last unsubscribe closes with 1000; completes on a normal close, errors on an abnormal one;
 * `send()` queues until open and never drops silently), but subscribed outside the Angular zone
 * and delivering inside it.
 *
 * @example
 * readonly chat = inject(ConnectionService).websocket('/chat');
 * readonly lastMessage = toSignal(this.chat);
 * say(text: string) { this.chat.send(text); }
 */
export class ZonedWebSocket extends Observable<WebSocketMessage> {
  /** `open` (with the chosen subprotocol) and `close` (code, reason, error) of each WebSocket, inside the zone. */
  readonly events: Observable<WebSocketChannelEvent>;
  /** The channel itself (delivers outside the Angular zone). */
  readonly channel: WebSocketChannel;

  /** @internal Use `ConnectionService.websocket()`. */
  constructor(channel: WebSocketChannel, zone: ZoneRunner) {
    const messages = outsideZone(zone, channel);
    super(subscriber => messages.subscribe(subscriber));
    this.channel = channel;
    this.events = outsideZone(zone, channel.events);
  }

  /** How many messages wait for the WebSocket to open. */
  get queued(): number {
    return this.channel.queued;
  }

  /**
   * Sends a text (`string`) or binary (`Uint8Array`) message; queued while the WebSocket is not
   * open. Throws `RXCONN_QUEUE_FULL` or `RXCONN_CONNECTION_CLOSED` rather than dropping it.
   */
  send(data: WebSocketMessage): void {
    this.channel.send(data);
  }

  /** Starts the closing handshake (default code 1000); subscribers complete when it is done. */
  close(code?: number, reason?: string): void {
    this.channel.close(code, reason);
  }
}
