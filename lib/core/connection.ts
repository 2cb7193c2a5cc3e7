/**
 * The connection core: one permanent, monitored connection to an origin. Protocol-agnostic: it
 * keeps the request queue, the active streams, the dial-and-reconnect loop and the lifecycle
 * events; protocol sessions (see `session.ts`) do the wire work.
 */
import {
  BehaviorSubject,
  NEVER,
  Observable,
  Subject,
  Subscription,
  type Subscriber,
  catchError,
  defer,
  filter,
  finalize,
  first,
  map,
  mergeWith,
  of,
  race,
  startWith,
  switchMap,
  take,
  takeUntil,
  tap,
  throwError,
  timeout,
  timer,
} from 'rxjs';
import {
  ConnectTimeoutError,
  ConnectionClosedError,
  ConnectionDownError,
  InvalidArgumentError,
  ProtocolError,
  RxconnError,
  UnsupportedError,
  toConnectionError,
} from './errors.js';
import type { ConnectionEvent, ConnectionState, GoawayInfo, Protocol, ResponseEvent } from './events.js';
import type { ResolvedOptions } from './options.js';
import type { UpgradeIntent } from './pending-request.js';
import { StreamTable } from './stream-table.js';
import { release } from './runtime.js';
import type { SessionHooks } from './runtime.js';
import { reconnect } from './reconnect.js';
import { isToken } from './http-syntax.js';
import { prepareRequest } from './request-init.js';
import type { RequestBody, RequestInit } from './request-init.js';
import type { Endpoint, Session, Switched } from './session.js';
import { WebSocketChannel } from './websocket/channel.js';
import type { WebSocketOptions } from './websocket/options.js';

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
}

/** How long a connection must stay up, without a complete response, to count as a success for the retry budget, in ms. */
export const PROVEN_AFTER = 1_000;

const TERMINAL: ReadonlySet<ConnectionState> = new Set(['closed', 'failed']);

/**
 * One permanent connection to an origin. It is a **hot** Observable of {@link ConnectionEvent}s:
 * dialing starts at once (in a microtask of `open()`, so a subscriber added in the same
 * synchronous block sees every event). It emits `closed` and completes after
 * `close()`/`shutdown()`, and errors only when it gives up (`RXCONN_RETRIES_EXHAUSTED`, or a
 * failure that is not retried such as `RXCONN_TLS`).
 *
 * @example
 * const conn = open('http://127.0.0.1:8080');
 * conn.subscribe(event => console.log(event.type));
 * conn.get('/health').pipe(text()).subscribe(r => console.log(r.status, r.body));
 * await conn.shutdown();
 */
export class Connection extends Observable<ConnectionEvent> {
  /**
   * The current state; replays it on subscribe (BehaviorSubject semantics, so
   * `toSignal(conn.state$, { requireSync: true })` works) and completes after `closed`/`failed`.
   */
  readonly state$: Observable<ConnectionState>;
  readonly #options: ResolvedOptions;
  readonly #events: Subject<ConnectionEvent>;
  readonly #state = new BehaviorSubject<ConnectionState>('connecting');
  /** The session new requests go to. */
  #session: Session | undefined;
  /** Every session not yet closed: the current one and those draining after a GOAWAY. */
  readonly #sessions = new Set<Session>();
  /** Every socket not yet closed, for a leak-free `closed`. */
  readonly #sockets = new Set<Endpoint>();
  /** Sessions whose socket was handed to an upgrade, and the protocol it speaks now. */
  readonly #upgraded = new WeakMap<Session, string>();
  readonly #streams: StreamTable;
  /** Ticks when the active-stream count or the session count changes. */
  readonly #changed = new Subject<void>();
  readonly #stop = new Subject<void>();
  /** A session served a complete response: it proved itself (see #attemptOnce). */
  readonly #proven = new Subject<Session>();
  #attempt = 0;
  #ending: 'shutdown' | 'close' | undefined;
  #endError: RxconnError | undefined;
  #failure: RxconnError | undefined;
  /** How many active streams each closed session took down with it, for its `disconnected` event. */
  readonly #killed = new WeakMap<Session, number>();
  #loop: Subscription | undefined;
  #finished = false;
  readonly #closed: Promise<void>;
  #resolveClosed!: () => void;

  /** @internal Use {@link open}. */
  constructor(options: ResolvedOptions) {
    const events = new Subject<ConnectionEvent>();
    super(subscriber => events.subscribe(subscriber));
    this.#events = events;
    this.#options = options;
    this.#streams = new StreamTable(options.maxQueued, options.scheduler, {
      currentSession: () => this.#session,
      onSettled: (session, completed) => {
        if (completed && session) this.#proven.next(session);
        if (this.#ending) this.#changed.next();
      },
    });
    this.#closed = new Promise(resolve => (this.#resolveClosed = resolve));
    const state = this.#state;
    this.state$ = new Observable<ConnectionState>(subscriber => {
      if (state.closed || state.isStopped) {
        subscriber.next(state.getValue());
        subscriber.complete();
        return undefined;
      }
      return state.subscribe(subscriber);
    });
    queueMicrotask(() => this.#run());
  }

  /** The current state, synchronously. */
  get state(): ConnectionState {
    return this.#state.getValue();
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
    return new Observable<ResponseEvent>(subscriber => this.#submit(init, subscriber));
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
    return new Observable<UpgradeEvent>(subscriber => {
      if (typeof protocol !== 'string' || !isToken(protocol)) {
        subscriber.error(new InvalidArgumentError(`upgrade protocol ${JSON.stringify(protocol)} is not a valid token`));
        return undefined;
      }
      let socket: Endpoint | undefined;
      const teardown = this.#submit({ ...init, method: 'GET' }, subscriber, {
        protocol,
        onSwitched: switched => {
          const upgraded = switched.socket;
          socket = upgraded;
          this.#onUpgraded(upgraded, protocol);
          upgraded.once('close', () => subscriber.complete());
          subscriber.next(switched);
        },
      });
      return () => {
        teardown?.();
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
    return new WebSocketChannel(this, path, options, this.#options);
  }

  /** Validates one request and hands it to the stream table; returns its teardown. */
  #submit(init: RequestInit, subscriber: Subscriber<ResponseEvent>, upgrade?: UpgradeIntent): (() => void) | undefined {
    let request;
    try {
      request = prepareRequest(init, this.#options.headers);
    } catch (error) {
      subscriber.error(error);
      return undefined;
    }
    const refusal = this.#refusal();
    if (refusal) {
      subscriber.error(refusal);
      return undefined;
    }
    return this.#streams.submit(request, subscriber, upgrade);
  }

  /** `GET path`. See {@link request}. */
  get(path: string, options?: RequestOptions): Observable<ResponseEvent> {
    return this.request({ ...options, method: 'GET', path });
  }

  /** `HEAD path`. See {@link request}. */
  head(path: string, options?: RequestOptions): Observable<ResponseEvent> {
    return this.request({ ...options, method: 'HEAD', path });
  }

  /** `DELETE path`. See {@link request}. */
  delete(path: string, options?: RequestOptions): Observable<ResponseEvent> {
    return this.request({ ...options, method: 'DELETE', path });
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
      const session = this.#session;
      if (!session) return throwError(() => this.#refusal() ?? new ConnectionDownError(`ping() needs a connected connection (state: ${this.state})`));
      if (!session.ping) return throwError(() => new UnsupportedError(`ping() needs HTTP/2; this connection speaks ${session.protocol === 'http1' ? 'HTTP/1.1' : session.protocol}`));
      return session.ping();
    });
  }

  /** A snapshot of the connection. */
  info(): ConnectionInfo {
    const session = this.#session;
    const socket = session?.socket;
    return {
      state: this.state,
      protocol: session?.protocol,
      origin: this.#options.origin.origin,
      localAddress: socket?.localAddress,
      localPort: socket?.localPort,
      remoteAddress: socket?.remoteAddress,
      remotePort: socket?.remotePort,
      activeStreams: this.#streams.active,
      queuedRequests: this.#streams.queued,
      attempt: this.#attempt,
    };
  }

  /**
   * Graceful close: new requests error at once with `RXCONN_CONNECTION_CLOSED`, queued ones too;
   * active streams finish (HTTP/1.1: the current response; HTTP/2: GOAWAY(NO_ERROR), every open
   * stream), then the socket closes. After `timeout` (default `closeTimeout`) the rest are killed
   * with `RXCONN_CONNECTION_CLOSED`. While (re)connecting it closes at once. Never reconnects.
   * Idempotent; resolves when the connection is closed (nothing of it remains).
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    const limit = options.timeout ?? this.#options.closeTimeout;
    if (typeof limit !== 'number' || !(limit >= 0) || !Number.isFinite(limit)) {
      return Promise.reject(new InvalidArgumentError(`shutdown timeout must be a finite number ≥ 0 (got ${String(limit)})`));
    }
    if (this.#ending || this.#finished) return this.#closed;
    this.#ending = 'shutdown';
    this.#rejectQueue(new ConnectionClosedError('the connection shut down before this request was sent'));
    if (!this.#loop) return this.#closed; // not started yet: #run finishes it
    if (this.#sessions.size === 0) {
      this.#stop.next();
      return this.#closed;
    }
    this.#setState('closing');
    // An upgraded socket (a WebSocket) counts as one active stream: shutdown waits for its close.
    const upgraded = [...this.#sessions].filter(session => this.#upgraded.has(session)).length;
    this.#emit({ type: 'closing', activeStreams: this.#streams.active + upgraded, initiator: 'client' });
    for (const session of this.#sessions) session.shutdown();
    // The finalize of the dial loop runs once this emits: the active streams and sessions are gone, or time is up.
    this.#changed
      .pipe(
        startWith(undefined),
        first(() => this.#streams.active + this.#sessions.size === 0),
        timeout({
          first: limit,
          scheduler: this.#options.scheduler,
          with: () => {
            this.#endError = new ConnectionClosedError(`shutdown did not finish within its timeout (${limit} ms): the stream was killed`);
            return of(0);
          },
        }),
        takeUntil(this.#stop),
      )
      .subscribe(() => this.#stop.next());
    return this.#closed;
  }

  /**
   * Abrupt close: the socket is destroyed now; active and queued requests error with
   * `RXCONN_CONNECTION_CLOSED`; the events end with `closed`. Idempotent.
   */
  close(): void {
    if (this.#ending === 'close' || this.#finished) return;
    this.#ending = 'close';
    this.#endError = new ConnectionClosedError('the connection was closed');
    this.#rejectQueue(this.#endError);
    if (this.#loop) this.#stop.next();
  }

  /** Resolves when the connection has closed or failed (nothing of it remains). */
  whenClosed(): Promise<void> {
    return this.#closed;
  }

  // ---- the dial loop ----

  #run(): void {
    if (this.#ending) {
      this.#finish();
      return;
    }
    const { runtime } = this.#options;
    const gate = runtime.attemptGate?.bind(runtime);
    this.#loop = defer(() => (gate ? gate().pipe(take(1), switchMap(() => this.#attemptOnce())) : this.#attemptOnce()))
      .pipe(
        reconnect<Session>(this.#options.retry, (attempt, delay, error) => this.#onRetry(attempt, delay, error), this.#options.scheduler, runtime.wake?.()),
        takeUntil(this.#stop),
        finalize(() => this.#finish()),
      )
      .subscribe({ error: (error: unknown) => this.#fail(toConnectionError(error)) });
  }

  /** One attempt: dial, adopt the session, run it until it is lost. Emits once (connected). */
  #attemptOnce(): Observable<Session> {
    const attempt = this.#attempt;
    const { connectTimeout, scheduler } = this.#options;
    this.#setState('connecting');
    this.#emit({ type: 'connecting', attempt });
    let adopted: Session | undefined;
    let goaway: GoawayInfo | undefined;
    const draining = new Subject<never>();
    const hooks: SessionHooks = {
      onSocket: socket => this.#track(socket),
      onCapacity: () => this.#streams.pump(),
      onDraining: (session, detail) => {
        goaway = detail.goaway;
        this.#onDraining(session, detail);
        if (session === adopted) {
          release(session);
          draining.error(new ConnectionDownError(`the server is closing the connection: ${detail.reason}`));
        }
      },
      onClose: (session, error) => this.#onSessionClose(session, error),
    };
    return this.#options.runtime.sessions(this.#options, hooks).pipe(
      timeout({ first: connectTimeout, scheduler, with: () => throwError(() => new ConnectTimeoutError(connectTimeout)) }),
      tap(session => {
        adopted = session;
        this.#adopt(session, attempt);
      }),
      // The retry budget resets once the connection proves itself (a complete response, or
      // PROVEN_AFTER ms up), not at connect: a peer that accepts and drops at once must not
      // make the connection redial forever.
      switchMap(session =>
        race(this.#proven.pipe(filter(s => s === session)), timer(PROVEN_AFTER, scheduler)).pipe(
          take(1),
          map(() => session),
        ),
      ),
      mergeWith(draining),
      catchError((raw: unknown) => {
        const error = toConnectionError(raw);
        if (!adopted) return throwError(() => error);
        if (this.#session === adopted) this.#session = undefined;
        if (this.#ending) return NEVER; // a shutdown in progress ends the loop, not a reconnect
        const killedStreams = this.#killed.get(adopted) ?? 0;
        this.#setState('disconnected');
        this.#emit({ type: 'disconnected', protocol: this.#upgraded.has(adopted) ? 'websocket' : adopted.protocol, error, killedStreams, ...(goaway && { goaway }) });
        return throwError(() => error);
      }),
    );
  }

  #adopt(session: Session, attempt: number): void {
    this.#session = session;
    this.#sessions.add(session);
    this.#changed.next();
    this.#setState('connected');
    this.#emit({ type: 'connected', protocol: session.protocol, attempt });
    this.#attempt = 0;
    this.#streams.pump();
  }

  #onUpgraded(socket: Endpoint, protocol: string): void {
    const session = [...this.#sessions].find(s => s.socket === socket);
    if (!session) return;
    this.#upgraded.set(session, protocol);
    this.#emit({ type: 'upgraded', protocol });
    const refusal = this.#refusal();
    if (refusal) this.#rejectQueue(refusal);
  }

  #onRetry(attempt: number, delay: number, error: RxconnError): void {
    this.#attempt = attempt;
    this.#setState('disconnected');
    this.#emit({ type: 'retrying', attempt, delay, error });
  }

  #onDraining(session: Session, detail: { readonly goaway?: GoawayInfo }): void {
    if (this.#session === session) this.#session = undefined;
    if (this.#ending) return;
    const activeStreams = this.#streams.activeOn(session);
    this.#emit({ type: 'closing', activeStreams, initiator: 'server', ...(detail.goaway && { goaway: detail.goaway }) });
  }

  #onSessionClose(session: Session, error: RxconnError): void {
    if (this.#session === session) this.#session = undefined;
    this.#sessions.delete(session);
    this.#killed.set(session, this.#streams.failActive(() => this.#streamError(error), session));
    this.#changed.next();
  }

  /** What an active stream errors with when its session closes because of `cause`. */
  #streamError(cause: RxconnError): RxconnError {
    if (this.#ending) return this.#endError ?? new ConnectionClosedError(`the connection closed during shutdown: ${cause.message}`, { cause });
    const message = `the connection was lost while this stream was active: ${cause.message}`;
    // A peer that broke the protocol keeps its code, as a malformed HTTP/1.1 response does.
    return cause instanceof ProtocolError ? new ProtocolError(message, { cause }) : new ConnectionDownError(message, { cause });
  }

  /** The loop gave up: the failure goes to queued requests and to the event stream. */
  #fail(error: RxconnError): void {
    this.#failure = error;
    this.#rejectQueue(error);
  }

  /** The end, after a close, a shutdown or a failure: tears everything down, then `closed`. */
  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#session = undefined;
    const error = this.#failure ?? this.#endError ?? new ConnectionClosedError('the connection was closed');
    this.#ending ??= 'close';
    this.#rejectQueue(error);
    for (const session of [...this.#sessions]) session.destroy(error);
    this.#streams.failActive(() => error);
    for (const socket of this.#sockets) socket.destroy();
    const sockets = [...this.#sockets].map(socket => new Promise<void>(resolve => socket.once('close', () => resolve())));
    void Promise.all(sockets).then(() => {
      if (this.#failure) {
        this.#setState('failed');
        this.#events.error(this.#failure);
      } else {
        this.#setState('closed');
        this.#emit({ type: 'closed' });
        this.#events.complete();
      }
      this.#state.complete();
      this.#changed.complete();
      this.#resolveClosed();
    });
  }

  // ---- requests ----

  /** Why a new request cannot be accepted, if it cannot. */
  #refusal(): RxconnError | undefined {
    if (this.#failure) return this.#failure;
    const upgradedTo = this.#session && this.#upgraded.get(this.#session);
    if (upgradedTo) return new UnsupportedError(`the connection was upgraded to ${upgradedTo}: no HTTP requests until it reconnects`);
    if (this.#ending || this.#finished) return new ConnectionClosedError(`the connection is ${this.#ending === 'shutdown' && !this.#finished ? 'shutting down' : 'closed'}: no new requests`);
    return undefined;
  }

  #rejectQueue(error: RxconnError): void {
    this.#streams.rejectQueued(error);
  }

  // ---- plumbing ----

  #track(socket: Endpoint): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  #emit(event: ConnectionEvent): void {
    this.#events.next(event);
  }

  #setState(state: ConnectionState): void {
    if (this.#state.getValue() !== state && !TERMINAL.has(this.#state.getValue())) this.#state.next(state);
  }
}

