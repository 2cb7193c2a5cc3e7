/**
 * `webSocket(url)`: the reconnecting WebSocket most users want, built from a connection and its
 * WebSocket channel: the connection reconnects with backoff and jitter, the channel upgrades
 * again after every `connected`, and `send()` queues while offline.
 */
import { EMPTY, Observable, Subject, catchError, filter, firstValueFrom, of, race, retry, switchMap, throwError, timer } from 'rxjs';
import type { Subscription } from 'rxjs';
import type { Connection } from '../connection.js';
import { InvalidArgumentError, RxconnError, TimeoutError, UnsupportedError, toConnectionError } from '../errors.js';
import type { ConnectionEvent, ConnectionState } from '../events.js';
import type { ConnectionOptions } from '../options.js';
import type { WebSocketChannel, WebSocketChannelEvent } from './channel.js';
import { WebSocketHandshakeError } from './handshake-error.js';
import type { WebSocketMessage } from './link.js';
import { resolveWebSocketOptions } from './options.js';
import type { WebSocketOptions } from './options.js';

/**
 * Options of {@link webSocket}: the connection's (retry, keepalive, closeTimeout, tls...) and the
 * WebSocket's (protocols, headers, maxQueued, maxPayload, handshakeTimeout). `headers` and
 * `maxQueued` are the WebSocket's: the upgrade's headers and the offline send queue.
 */
export interface WebSocketConnectOptions extends Omit<ConnectionOptions, 'protocols' | 'headers' | 'maxQueued'>, WebSocketOptions {}

/** The events of a {@link ReconnectingWebSocket}: the connection's, plus `open` and `close` of each WebSocket. */
export type ReconnectingWebSocketEvent = ConnectionEvent | WebSocketChannelEvent;

const TERMINAL: ReadonlySet<ConnectionState> = new Set(['closed', 'failed']);

const CHANNEL_KEYS = ['protocols', 'headers', 'maxQueued', 'maxPayload', 'handshakeTimeout'] as const;

/** Errors that no reconnect can fix: the server refuses the WebSocket, or the options are wrong. */
function isFatal(error: unknown): boolean {
  return error instanceof WebSocketHandshakeError || error instanceof UnsupportedError || error instanceof InvalidArgumentError;
}

/** Splits `ws://host:port/path?query` into the connection's origin and the upgrade's path. */
function parseUrl(url: unknown): { origin: string; path: string } {
  let parsed: URL;
  try {
    parsed = new URL(url instanceof URL ? url.href : String(url));
  } catch {
    throw new InvalidArgumentError(`websocket url ${JSON.stringify(String(url))} is not a valid URL`);
  }
  const scheme = { 'ws:': 'http:', 'wss:': 'https:', 'http:': 'http:', 'https:': 'https:' }[parsed.protocol];
  if (!scheme) throw new InvalidArgumentError(`websocket url must use ws:, wss:, http: or https: (got ${JSON.stringify(parsed.protocol)})`);
  if (parsed.hash) throw new InvalidArgumentError('websocket url must not have a fragment (#...)');
  if (parsed.username || parsed.password) throw new InvalidArgumentError('websocket url must not carry credentials: send an authorization header instead');
  return { origin: `${scheme}//${parsed.host}`, path: `${parsed.pathname || '/'}${parsed.search}` };
}

/**
 * A WebSocket that survives reconnects (see {@link webSocket}). It is itself a **hot** Observable
 * of lifecycle events: the connection's (`connecting`, `connected`, `upgraded`, `disconnected`,
 * `retrying`, `closing`, `closed`) and, per WebSocket, `open` (with the chosen subprotocol) and
 * `close` (code, reason, error). The events complete after `closed`, and error when the
 * connection gives up or the server refuses the WebSocket.
 */
export class ReconnectingWebSocket extends Observable<ReconnectingWebSocketEvent> {
  /**
   * Hot: every incoming message (text as `string`, binary as `Uint8Array`) of every WebSocket,
   * from subscribe time on, across reconnects. Completes after `shutdown()`/`close()`; errors
   * when the connection gives up (`RXCONN_RETRIES_EXHAUSTED`...) or when the server refuses the
   * WebSocket ({@link WebSocketHandshakeError}: a refusal is not retried).
   */
  readonly messages: Observable<WebSocketMessage>;
  /** The connection's state; replays it on subscribe. */
  readonly state$: Observable<ConnectionState>;
  /** The underlying connection. */
  readonly connection: Connection;
  readonly #channel: WebSocketChannel;
  readonly #loop: Subscription;
  #fatal: RxconnError | undefined;

  /** @internal Use `webSocket(url, options)`; `open` is the runtime's. */
  constructor(url: string | URL, options: WebSocketConnectOptions = {}, open: (origin: string, options: ConnectionOptions) => Connection) {
    const { origin, path } = parseUrl(url);
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('websocket options must be an object');
    const channelOptions: Record<string, unknown> = {};
    const connectionOptions: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(options)) {
      if ((CHANNEL_KEYS as readonly string[]).includes(key)) channelOptions[key] = value;
      else connectionOptions[key] = value;
    }
    if ('protocols' in connectionOptions) delete connectionOptions.protocols;
    // Validate the WebSocket options before open() starts dialing.
    resolveWebSocketOptions(path, channelOptions, { keepalive: false, closeTimeout: 0 });
    const events = new Subject<ReconnectingWebSocketEvent>();
    super(subscriber => events.subscribe(subscriber));
    const messages = new Subject<WebSocketMessage>();
    // WebSocket needs HTTP/1.1 (no RFC 8441): on TLS, ALPN offers only http/1.1.
    const conn = open(origin, { ...(connectionOptions as ConnectionOptions), protocols: ['http1'] });
    const channel = conn.websocket(path, channelOptions as WebSocketOptions);
    this.connection = conn;
    this.#channel = channel;
    this.messages = messages.asObservable();
    this.state$ = conn.state$;
    conn.subscribe({
      next: event => events.next(event),
      error: (error: unknown) => {
        const failure = this.#fatal ?? toConnectionError(error);
        messages.error(failure);
        events.error(failure);
      },
      complete: () => {
        this.#loop.unsubscribe();
        messages.complete();
        if (this.#fatal) events.error(this.#fatal);
        else events.complete();
      },
    });
    channel.events.subscribe(event => events.next(event));
    // Upgrade after every `connected`; a WebSocket that ends for any reason but a refusal (its
    // socket is closed by then, so the connection reconnects) waits for the next one.
    this.#loop = conn
      .pipe(
        filter(event => event.type === 'connected'),
        switchMap(() =>
          channel.pipe(
            // A handshake that timed out may leave the connection up (the server can still answer
            // late): ask again at once, as the next request on it. Other ends close the socket.
            retry({ delay: (error: unknown) => (error instanceof TimeoutError ? of(0) : throwError(() => error)) }),
            catchError((error: unknown) => (isFatal(error) ? throwError(() => error) : EMPTY)),
          ),
        ),
      )
      .subscribe({
        next: message => messages.next(message),
        error: (error: unknown) => {
          if (!isFatal(error)) return; // the connection's own failure: reported by the subscription above
          this.#fatal = toConnectionError(error);
          messages.error(error);
          conn.close();
        },
      });
  }

  /** How many messages wait for the next WebSocket. */
  get queued(): number {
    return this.#channel.queued;
  }

  /**
   * Sends one message (text or bytes). Offline (connecting, reconnecting, upgrading), it is
   * queued, in order, up to `maxQueued` (default 1 000), and sent as soon as the next WebSocket
   * opens. Throws `RXCONN_QUEUE_FULL` when the queue is full and `RXCONN_CONNECTION_CLOSED`
   * after `shutdown()`/`close()`: a message is never dropped silently.
   */
  send(data: WebSocketMessage): void {
    this.#channel.send(data);
  }

  /**
   * Graceful: messages sent before it go out first — if they are still queued (the WebSocket is
   * connecting or upgrading), it waits for the WebSocket to open and flush them, bounded by
   * `closeTimeout` — then sends close 1001, waits for the server's close frame (same bound), and
   * closes the connection; never reconnects. Messages that could not be sent are reported on
   * `events` as `unsent`, never dropped silently. Resolves when everything is closed.
   */
  async shutdown(): Promise<void> {
    const channel = this.#channel;
    if (channel.queued > 0 && !this.#fatal && !TERMINAL.has(this.connection.state)) {
      await firstValueFrom(
        race(channel.events.pipe(filter(event => event.type === 'open')), this.connection.state$.pipe(filter(state => TERMINAL.has(state))), timer(channel.closeTimeout)),
        { defaultValue: undefined },
      );
    }
    return this.connection.shutdown();
  }

  /** Abrupt: the socket is destroyed now; `messages` completes. Idempotent. */
  close(): void {
    this.connection.close();
  }
}
