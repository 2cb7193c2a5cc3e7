/**
 * `ConnectionService`: one rxconn connection owned by an Angular injector.
 */
import { DestroyRef, NgZone, PendingTasks, computed, inject } from '@angular/core';
import type { Signal } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { EMPTY, Observable, catchError, finalize, ignoreElements, of } from 'rxjs';
import type { Connection, ConnectionInfo, RequestOptions, ShutdownOptions } from '../core/connection.js';
import { InvalidArgumentError } from '../core/errors.js';
import type { RxconnError } from '../core/errors.js';
import type { ConnectionEvent, ConnectionState, ResponseEvent } from '../core/events.js';
import type { ConnectionOptions } from '../core/options.js';
import type { RequestBody, RequestInit } from '../core/request-init.js';
import type { WebSocketOptions } from '../core/websocket/options.js';
import { ZonedWebSocket } from './zoned-websocket.js';
import { outsideZone, zoneRunner } from './zone.js';
import type { ZoneRunner } from './zone.js';

/** A runtime's `open()`: Node's (sockets) or the browser's (fetch), chosen by the entry point. */
export type Opener = (origin: string | URL, options?: ConnectionOptions) => Connection;

/** An origin, or a function that returns one, called in the injection context (it may `inject()`). */
export type OriginSource = string | URL | (() => string | URL);

/**
 * One permanent rxconn connection owned by an Angular injector; create it with
 * {@link provideConnection} or {@link injectConnection}.
 *
 * - The connection is opened outside the Angular zone, so its sockets, backoff and keepalive
 *   timers never trigger change detection; what it delivers to you (`events$`, responses) is
 *   handed back inside the zone, like `HttpClient` does.
 * - {@link status} is a read-only Signal of the connection state (`toSignal(state$, { requireSync: true })`).
 * - When the injector is destroyed (`DestroyRef`), the connection shuts down gracefully: requests
 *   in flight finish within `closeTimeout`, new ones error with `RXCONN_CONNECTION_CLOSED`.
 * - Requests keep the application unstable (Angular `PendingTasks`) while in flight, so
 *   server-side rendering waits for them as it waits for `HttpClient`.
 *
 * It runs wherever Angular runs: on Node (server-side rendering, Electron, tests) the
 * connection speaks through `node:net`/`node:tls` (one HTTP/2 connection); in a browser it is a
 * monitored link over fetch (see `open()` of the browser build). Each build of `rxconn/angular`
 * brings its own runtime; zone-based and zoneless apps both work (the status is a Signal).
 *
 * @example
 * // app.config.ts
 * providers: [provideConnection('https://api.example.com', { retry: { maxRetries: Infinity } })]
 * // a component
 * readonly api = inject(ConnectionService);
 * readonly online = computed(() => this.api.status() === 'connected');
 * items$ = this.api.get('/items').pipe(json<Item[]>());
 */
export class ConnectionService {
  /**
   * The underlying connection. Subscribing to it directly delivers outside the Angular zone; use
   * {@link events$} and this service's request methods to be called back inside it.
   */
  readonly connection: Connection;
  /** The connection state as a read-only Signal; `'closed'` or `'failed'` at the end. */
  readonly status: Signal<ConnectionState>;
  /** Whether the connection is usable right now (`status() === 'connected'`). */
  readonly connected: Signal<boolean>;
  /** The last lifecycle event, `undefined` until the first one arrives. */
  readonly lastEvent: Signal<ConnectionEvent | undefined>;
  /** Why the connection gave up (`RXCONN_RETRIES_EXHAUSTED`, `RXCONN_TLS`...) once `status()` is `'failed'`. */
  readonly failure: Signal<RxconnError | undefined>;
  /**
   * The hot lifecycle events (`connecting`, `connected`, `disconnected`, `retrying`, `closing`,
   * `closed`...), delivered inside the Angular zone. Completes after `closed`; errors when the
   * connection gives up.
   */
  readonly events$: Observable<ConnectionEvent>;
  /** The connection state, replayed on subscribe and delivered inside the Angular zone. */
  readonly status$: Observable<ConnectionState>;
  readonly #zone: ZoneRunner;
  readonly #pendingTasks: PendingTasks | null;

  /**
   * Opens the connection. Must run in an injection context (a provider factory, a field
   * initializer, `runInInjectionContext`): use {@link provideConnection} or {@link injectConnection}.
   *
   * @param origin - where to connect, as for `open()`
   * @param options - the options of `open()`
   * @param open - the runtime's `open()`; `provideConnection`/`injectConnection` pass it
   */
  constructor(origin: OriginSource, options?: ConnectionOptions, open?: Opener) {
    this.#zone = zoneRunner(inject(NgZone, { optional: true }));
    this.#pendingTasks = inject(PendingTasks, { optional: true });
    const destroyRef = inject(DestroyRef);
    const resolved = typeof origin === 'function' ? origin() : origin;
    if (!open) throw new InvalidArgumentError("ConnectionService needs its runtime's open(): create it with provideConnection() or injectConnection() of rxconn/angular");
    const connection = this.#zone.runOutsideAngular(() => open(resolved, options));
    this.connection = connection;
    this.events$ = outsideZone(this.#zone, connection);
    this.status$ = outsideZone(this.#zone, connection.state$);
    this.status = this.#zone.runOutsideAngular(() => toSignal(connection.state$, { requireSync: true, manualCleanup: true }));
    this.connected = computed(() => this.status() === 'connected');
    this.lastEvent = this.#zone.runOutsideAngular(() => toSignal(connection.pipe(catchError(() => EMPTY)), { initialValue: undefined, manualCleanup: true }));
    this.failure = this.#zone.runOutsideAngular(() =>
      toSignal(connection.pipe(ignoreElements(), catchError((error: RxconnError) => of(error))), { initialValue: undefined, manualCleanup: true }),
    );
    // The signals follow the connection to its end (`closed`/`failed`), past the injector's
    // destruction: their sources complete then, so `manualCleanup` leaks nothing.
    destroyRef.onDestroy(() => {
      void connection.shutdown().catch(() => undefined);
    });
  }

  /**
   * A request on the connection: **cold** (sent on subscribe, again on each subscribe, cancelled on
   * unsubscribe), delivered inside the Angular zone. See `Connection.request`.
   */
  request(init: RequestInit): Observable<ResponseEvent> {
    return this.#wrap(this.connection.request(init));
  }

  /** `GET path`. See {@link request}. */
  get(path: string, options?: RequestOptions): Observable<ResponseEvent> {
    return this.#wrap(this.connection.get(path, options));
  }

  /** `HEAD path`. See {@link request}. */
  head(path: string, options?: RequestOptions): Observable<ResponseEvent> {
    return this.#wrap(this.connection.head(path, options));
  }

  /** `DELETE path`. See {@link request}. */
  delete(path: string, options?: RequestOptions): Observable<ResponseEvent> {
    return this.#wrap(this.connection.delete(path, options));
  }

  /** `POST path` with a body. See {@link request}. */
  post(path: string, body?: RequestBody, options?: RequestOptions): Observable<ResponseEvent> {
    return this.#wrap(this.connection.post(path, body, options));
  }

  /** `PUT path` with a body. See {@link request}. */
  put(path: string, body?: RequestBody, options?: RequestOptions): Observable<ResponseEvent> {
    return this.#wrap(this.connection.put(path, body, options));
  }

  /** `PATCH path` with a body. See {@link request}. */
  patch(path: string, body?: RequestBody, options?: RequestOptions): Observable<ResponseEvent> {
    return this.#wrap(this.connection.patch(path, body, options));
  }

  /**
   * A WebSocket on this connection (`conn.websocket(path, options)`), delivering inside the
   * Angular zone. It takes over the HTTP/1.1 connection while open (HTTP requests on it error
   * with `RXCONN_UNSUPPORTED` until the connection reconnects after the close), so give a
   * WebSocket its own `provideConnection` (with a token) when the app also makes requests.
   * See {@link ZonedWebSocket}.
   */
  websocket(path: string, options?: WebSocketOptions): ZonedWebSocket {
    return new ZonedWebSocket(this.connection.websocket(path, options), this.#zone);
  }

  /** A snapshot of the connection (state, protocol, ports, active streams...). */
  info(): ConnectionInfo {
    return this.connection.info();
  }

  /**
   * Graceful close before the injector is destroyed (which does the same). Idempotent; resolves
   * when the connection is closed.
   */
  shutdown(options?: ShutdownOptions): Promise<void> {
    return this.#zone.runOutsideAngular(() => this.connection.shutdown(options));
  }

  /** Abrupt close: the socket is destroyed now, active requests error. Idempotent. */
  close(): void {
    this.#zone.runOutsideAngular(() => this.connection.close());
  }

  /** Outside the zone, back inside for delivery, and a pending task while in flight. */
  #wrap(request: Observable<ResponseEvent>): Observable<ResponseEvent> {
    const tasks = this.#pendingTasks;
    const zoned = outsideZone(this.#zone, request);
    if (!tasks) return zoned;
    return new Observable<ResponseEvent>(subscriber => {
      const done = tasks.add();
      return zoned.pipe(finalize(done)).subscribe(subscriber);
    });
  }
}
