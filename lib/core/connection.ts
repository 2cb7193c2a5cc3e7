/**
 * The public face of a connection: one permanent, monitored connection to an origin, its
 * requests, upgrades and WebSockets. The life behind it (the dial loop, sessions, state, events)
 * is `lifecycle.ts`; the requests are `stream-table.ts`'s; the wire is the runtime's.
 */
import { Observable, defer, throwError } from 'rxjs';
import type { Subscriber, TeardownLogic, Unsubscribable } from 'rxjs';
import { ConnectionDownError, InvalidArgumentError, UnsupportedError } from './errors.js';
import type { ConnectionEvent, ConnectionState, Intermediary, Protocol, ResponseEvent } from './events.js';
import { isToken } from './http-syntax.js';
import { Lifecycle } from './lifecycle.js';
import { OwnedObservable } from './watched.js';
import type { ResolvedOptions } from './options.js';
import type { UpgradeIntent } from './pending-request.js';
import { prepareRequest } from './request-init.js';
import { RequestObservable } from './request-observable.js';
import type { ResponseObserver } from './request-observable.js';
import type { RequestBody, RequestInit } from './request-init.js';
import type { Endpoint, Switched, UpgradeOwner } from './session.js';
import { checkTime } from './time.js';
import { WebSocketChannel } from './websocket/channel.js';
import type { WebSocketOptions } from './websocket/options.js';
import { sse } from './sse/sse.js';
import { ReconnectingEventSource } from './sse/event-source.js';
import type { SseEvent } from './sse/event.js';
import type { EventSourceOptions, SseInit } from './sse/options.js';

/** A request without method and path, for the shorthand methods. */
export type RequestOptions = Omit<RequestInit, 'method' | 'path' | 'body'>;

/** A protocol upgrade request: path, headers and timeout (the method is GET). */
export type UpgradeInit = Omit<RequestInit, 'method' | 'body'>;

/** The events of {@link Connection.upgrade}: a refused upgrade's response, or the switched socket. */
export type UpgradeEvent = ResponseEvent | Switched;

/** Options of {@link Connection.shutdown}. */
export interface ShutdownOptions {
  /** Bound on the shutdown, in ms. Default: the connection's `closeTimeout`. */
  timeout?: number;
}

/** A snapshot of a connection, for logs and dashboards. */
export interface ConnectionInfo {
  readonly state: ConnectionState;
  /** The protocol of the current session, if connected. */
  readonly protocol: Protocol | undefined;
  readonly origin: string;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  /** Streams in flight (sent, response not ended). */
  readonly activeStreams: number;
  /** Requests waiting for a connection or a free stream. */
  readonly queuedRequests: number;
  /** The attempt number of the current outage (0 once connected at first try). */
  readonly attempt: number;
  /** The proxies of the current session, first dialled first; empty when direct or not connected. With proxies, the addresses above are those of the first proxy's socket (none through an HTTP/2 proxy). */
  readonly intermediaries: readonly Intermediary[];
}

/**
 * A connection's subscribe function, set in its class's static block (where `#life` can be
 * read). RxJS calls it as a method of the Observable, so `this` is the connection: one function
 * for every connection, no closure each.
 */
let subscribeConnection: (this: Observable<ConnectionEvent>, subscriber: Subscriber<ConnectionEvent>) => TeardownLogic;

/** `state$`'s subscribe, shared by every connection. */
const watchState = (life: Lifecycle, subscriber: Subscriber<ConnectionState>): TeardownLogic => life.watchState(subscriber);

/**
 * One permanent connection to an origin. It is a **hot** Observable of {@link ConnectionEvent}s:
 * dialing starts at once (in a microtask of `open()`, so a subscriber added in the same
 * synchronous block sees every event). It emits `closed` and completes after
 * `close()`/`shutdown()`, and errors only when it gives up (`RXCONN_RETRIES_EXHAUSTED` once its
 * retry budget is spent, or a failure that is not retried such as `RXCONN_TLS`): give every
 * subscription an error handler.
 *
 * @example
 * const conn = open('http://127.0.0.1:8080');
 * conn.subscribe({ next: event => console.log(event.type), error: error => console.error(error.code) });
 * conn.get('/health').pipe(text()).subscribe({ next: r => console.log(r.status, r.body), error: console.error });
 * await conn.shutdown();
 */
export class Connection extends Observable<ConnectionEvent> {
  static {
    subscribeConnection = function (this: Observable<ConnectionEvent>, subscriber: Subscriber<ConnectionEvent>): TeardownLogic {
      return (this as Connection).#life.watchEvents(subscriber);
    };
  }

  readonly #life: Lifecycle;
  #state$: Observable<ConnectionState> | undefined;

  /** @internal Use {@link open}. */
  constructor(options: ResolvedOptions) {
    super(subscribeConnection);
    this.#life = new Lifecycle(options);
  }

  /**
   * The current state; replays it on subscribe (BehaviorSubject semantics, so
   * `toSignal(conn.state$, { requireSync: true })` works) and completes after `closed`/`failed`.
   */
  get state$(): Observable<ConnectionState> {
    return (this.#state$ ??= new OwnedObservable(this.#life, watchState));
  }

  /** The current state, synchronously. */
  get state(): ConnectionState {
    return this.#life.state;
  }

  /**
   * A request on this connection: a **cold** Observable of {@link ResponseEvent}s. Nothing is sent
   * until subscribe; each subscription sends it anew; it completes when the response ends;
   * unsubscribing cancels it. It waits for `connected` while the connection is (re)connecting.
   * It errors with `RXCONN_INVALID_ARGUMENT` (nothing sent), `RXCONN_CONNECTION_CLOSED` (after
   * `shutdown()`/`close()`), `RXCONN_CONNECTION_DOWN` (the connection was lost mid-stream: never
   * retried silently, resubscribe to retry), `RXCONN_TIMEOUT`, or the connection's failure.
   *
   * @example
   * conn.request({ method: 'PUT', path: '/items/1', body: JSON.stringify(item) }).pipe(json()).subscribe();
   */
  request(init: RequestInit): Observable<ResponseEvent> {
    return new RequestObservable(observer => this.#submit(init, observer));
  }

  /**
   * A protocol upgrade of this HTTP/1.1 connection (Gun's `ws_upgrade`; what `websocket()` is
   * built on). Cold: subscribing sends `GET path` with `connection: upgrade` and
   * `upgrade: protocol` once the connection is up and idle. A 101 emits one `switched` event
   * carrying the socket, which then belongs to the subscriber: the connection emits `upgraded`,
   * refuses HTTP requests with `RXCONN_UNSUPPORTED` until it reconnects, and this Observable
   * completes when the socket closes (the connection then reconnects as plain HTTP).
   * Unsubscribing destroys the socket. Any other status arrives as normal response events and
   * the connection stays as it was. On HTTP/2 it errors with `RXCONN_UNSUPPORTED`.
   */
  upgrade(protocol: string, init: UpgradeInit = {}): Observable<UpgradeEvent> {
    return this.#upgrade(protocol, init);
  }

  /**
   * @internal What a WebSocket link upgrades with: {@link upgrade}, except that it completes
   * right after `switched`, so that nothing of it stays reachable for the socket's life; the
   * socket's close is not watched (the link hears it from its own protocol). `owner` is told of
   * a shutdown (see `UpgradeOwner`). Unsubscribing before `switched` cancels the upgrade.
   */
  handOff(protocol: string, init: UpgradeInit, owner: UpgradeOwner): Observable<UpgradeEvent> {
    return this.#upgrade(protocol, init, owner);
  }

  /** `upgrade()`, completing when the switched socket closes, or right after `switched` when it has an `owner`. */
  #upgrade(protocol: string, init: UpgradeInit, owner?: UpgradeOwner): Observable<UpgradeEvent> {
    return new Observable<UpgradeEvent>(subscriber => {
      if (typeof protocol !== 'string' || !isToken(protocol)) {
        subscriber.error(new InvalidArgumentError(`upgrade protocol ${JSON.stringify(protocol)} is not a valid token`));
        return undefined;
      }
      let socket: Endpoint | undefined;
      let teardown = this.#submit({ ...init, method: 'GET' }, subscriber, {
        protocol,
        onSwitched: switched => {
          const upgraded = switched.socket;
          socket = upgraded;
          // The request is settled: nothing of it needs to stay reachable for the socket's life.
          teardown = undefined;
          this.#life.onUpgraded(upgraded, protocol, owner);
          if (!owner) upgraded.once('close', () => subscriber.complete());
          subscriber.next(switched);
          if (!owner) return;
          // Handed off: the socket is the subscriber's now, completing must not destroy it.
          socket = undefined;
          subscriber.complete();
        },
      });
      return () => {
        teardown?.unsubscribe();
        socket?.destroy();
      };
    });
  }

  /**
   * A WebSocket on this HTTP/1.1 connection (Gun's `ws_upgrade`): a shared, lazy
   * {@link WebSocketChannel} of incoming messages with `send()` and `close()`. Nothing happens
   * until the first subscribe, which upgrades the connection; see {@link WebSocketChannel} for
   * completion and errors. Throws `RXCONN_INVALID_ARGUMENT` for a bad path or option.
   *
   * @example
   * const chat = conn.websocket('/chat');
   * chat.subscribe(message => console.log(message));
   * chat.send('hello');
   */
  websocket(path: string, options?: WebSocketOptions): WebSocketChannel {
    return new WebSocketChannel(this, path, options, this.#life.options);
  }

  /** One Server-Sent Events request, cold; see {@link sse} in `sse/sse.ts`. */
  sse(path: string, init?: SseInit): Observable<SseEvent> {
    return sse(this, path, init);
  }

  /** A shared, reconnecting Server-Sent Events source; see {@link ReconnectingEventSource}. */
  eventSource(path: string, options?: EventSourceOptions): ReconnectingEventSource {
    return new ReconnectingEventSource(this, path, options, this.#life.options.scheduler);
  }

  /** Validates one request and hands it to the stream table; returns its teardown. */
  #submit(init: RequestInit, subscriber: ResponseObserver, upgrade?: UpgradeIntent): Unsubscribable | undefined {
    let request;
    try {
      request = prepareRequest(init, this.#life.options.headers);
    } catch (error) {
      subscriber.error(error);
      return undefined;
    }
    const trace = this.#life.diagnostics?.request(request);
    if (trace) request = trace.request;
    const refusal = this.#life.refusal();
    if (refusal) {
      trace?.settled(false, refusal);
      subscriber.error(refusal);
      return undefined;
    }
    return this.#life.streams.submit(request, subscriber, upgrade, trace);
  }

  /** `GET path`. See {@link request}. */
  get(path: string, options?: RequestOptions): Observable<ResponseEvent> {
    return this.request(options === undefined ? { method: 'GET', path } : { ...options, method: 'GET', path });
  }

  /** `HEAD path`. See {@link request}. */
  head(path: string, options?: RequestOptions): Observable<ResponseEvent> {
    return this.request(options === undefined ? { method: 'HEAD', path } : { ...options, method: 'HEAD', path });
  }

  /** `DELETE path`. See {@link request}. */
  delete(path: string, options?: RequestOptions): Observable<ResponseEvent> {
    return this.request(options === undefined ? { method: 'DELETE', path } : { ...options, method: 'DELETE', path });
  }

  /** `POST path` with a body. See {@link request}. */
  post(path: string, body?: RequestBody, options?: RequestOptions): Observable<ResponseEvent> {
    return this.request({ ...options, method: 'POST', path, body });
  }

  /** `PUT path` with a body. See {@link request}. */
  put(path: string, body?: RequestBody, options?: RequestOptions): Observable<ResponseEvent> {
    return this.request({ ...options, method: 'PUT', path, body });
  }

  /** `PATCH path` with a body. See {@link request}. */
  patch(path: string, body?: RequestBody, options?: RequestOptions): Observable<ResponseEvent> {
    return this.request({ ...options, method: 'PATCH', path, body });
  }

  /**
   * The round-trip time of one protocol ping, in ms (HTTP/2 PING). Cold. Errors with
   * `RXCONN_UNSUPPORTED` on HTTP/1.1 (the connection is not touched) and with
   * `RXCONN_CONNECTION_DOWN` when not connected.
   */
  ping(): Observable<number> {
    return defer(() => {
      const session = this.#life.session;
      if (!session) return throwError(() => this.#life.refusal() ?? new ConnectionDownError(`ping() needs a connected connection (state: ${this.state})`));
      if (!session.ping) return throwError(() => new UnsupportedError(`ping() needs HTTP/2; this connection speaks ${session.protocol === 'http1' ? 'HTTP/1.1' : session.protocol}`));
      return session.ping();
    });
  }

  /** A snapshot of the connection. */
  info(): ConnectionInfo {
    const life = this.#life;
    const session = life.session;
    const socket = session?.socket;
    return {
      state: this.state,
      protocol: session?.protocol,
      origin: life.options.origin,
      localAddress: socket?.localAddress,
      localPort: socket?.localPort,
      remoteAddress: socket?.remoteAddress,
      remotePort: socket?.remotePort,
      activeStreams: life.streams.active,
      queuedRequests: life.streams.queued,
      attempt: life.attempt,
      intermediaries: (session && life.held(session)?.intermediaries) ?? [],
    };
  }

  /**
   * Graceful close, as Gun's guide promises it: a request made before `shutdown()` is still sent
   * and answered — the queued ones go out on the current session (HTTP/1.1 one after another,
   * HTTP/2 before our GOAWAY), or on the dial in progress if it succeeds — then each session
   * closes once its streams are done (HTTP/2 GOAWAY(NO_ERROR), HTTP/1.1 after the last
   * response, a WebSocket with 1001). Requests made after it error with
   * `RXCONN_CONNECTION_CLOSED`; queued ones too when there is no connection and no dial in
   * progress (shutdown starts no new dial). After `timeout` (default `closeTimeout`; `Infinity`
   * to wait for everything) what is left is killed with `RXCONN_CONNECTION_CLOSED`. Never
   * reconnects. Idempotent; resolves when the connection is closed (nothing of it remains).
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    let limit: number;
    try {
      limit = checkTime('shutdown timeout', options.timeout, this.#life.options.closeTimeout, 0, true);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#life.shutdown(limit);
  }

  /**
   * Abrupt close: the socket is destroyed now; active and queued requests error with
   * `RXCONN_CONNECTION_CLOSED`; `state` reads `closed` at once, and the events end with
   * `closed` once every socket has closed. Idempotent.
   */
  close(): void {
    this.#life.close();
  }

  /** Resolves when the connection has closed or failed (nothing of it remains). */
  whenClosed(): Promise<void> {
    return this.#life.closed;
  }
}
