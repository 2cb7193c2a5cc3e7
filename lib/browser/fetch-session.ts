/**
 * A browser "session": one episode of a monitored link to the origin, from a successful probe to
 * the evidence that the origin is gone. Requests run on `fetch` (one `AbortController` per
 * stream); the browser owns the connections underneath. The evidence of a loss: a network
 * `TypeError` from one of our requests or body reads, a keepalive probe missed (wall-clock time),
 * the window's `offline` event.
 */
import { Observable, isObservable } from 'rxjs';
import type { Subscription } from 'rxjs';
import { ConnectionClosedError, ConnectionDownError, KeepaliveTimeoutError, UnsupportedError, describe } from '../core/errors.js';
import type { RxconnError } from '../core/errors.js';
import type { Protocol } from '../core/events.js';
import type { PreparedRequest } from '../core/request-init.js';
import { NOT_STARTED } from '../core/session.js';
import type { Endpoint, Session, SessionListener, StreamHandle, StreamSink, UpgradeSink } from '../core/session.js';
import { forbiddenInRequest } from './forbidden.js';
import type { Losable, Monitor } from './monitor.js';
import { probeOnce } from './probe.js';
import { ReadGate } from './read-gate.js';
import type { ResolvedBrowserOptions } from './options.js';
import { responseHeaders } from './response-headers.js';

/** Whether `error` is fetch's network failure (as opposed to an abort or a bug of ours). */
export function isNetworkError(error: unknown): error is TypeError {
  return error instanceof TypeError;
}

/** A `string | Uint8Array` Observable as a ReadableStream (a streamed upload). */
function toStream(body: Observable<string | Uint8Array>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let subscription: Subscription | undefined;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      subscription = body.subscribe({
        next: chunk => controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk),
        error: (error: unknown) => controller.error(error),
        complete: () => controller.close(),
      });
    },
    cancel() {
      subscription?.unsubscribe();
    },
  });
}

/** A page has no socket: the session's transport handle is a stand-in with no address. */
const NO_SOCKET: Endpoint = {
  destroy: () => {},
  once: () => undefined,
};

export class FetchSession implements Session, Losable {
  readonly protocol: Protocol;
  readonly socket = NO_SOCKET;
  readonly #options: ResolvedBrowserOptions;
  readonly #listener: SessionListener;
  readonly #monitor: Monitor;
  readonly #stopWatchingHolds: () => void;
  /** The abort of every stream in flight. */
  readonly #active = new Set<AbortController>();
  #closed = false;
  #draining = false;
  /** Wall-clock time of the last sign of life (a response head, a body chunk, a probe answer). */
  #lastActivity = Date.now();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #probe: AbortController | undefined;
  #probeDeadline = 0;

  constructor(options: ResolvedBrowserOptions, protocol: Protocol, monitor: Monitor, listener: SessionListener) {
    this.#options = options;
    this.protocol = protocol;
    this.#listener = listener;
    this.#monitor = monitor;
    monitor.current = this;
    this.#stopWatchingHolds = monitor.onRelease(() => this.#maybeDrained());
    globalThis.addEventListener?.('offline', this.#onOffline);
    globalThis.document?.addEventListener('visibilitychange', this.#check);
    this.#schedule();
  }

  canStart(): boolean {
    return !this.#closed && !this.#draining;
  }

  start(request: PreparedRequest, sink: StreamSink): StreamHandle {
    const refusal = forbiddenInRequest(request.method, request.headers) ?? this.#bodyRefusal(request);
    if (refusal) {
      sink.error(refusal);
      return NOT_STARTED;
    }
    const controller = new AbortController();
    this.#active.add(controller);
    const init: RequestInit & { duplex?: 'half' } = {
      method: request.method,
      headers: request.headers.map(([name, value]): [string, string] => [name, value]),
      signal: controller.signal,
      cache: 'no-store',
    };
    const { body } = request;
    if (isObservable(body)) {
      init.body = toStream(body);
      init.duplex = 'half';
    } else if (body !== undefined) {
      init.body = body as BodyInit;
    }
    const settled = (): void => {
      this.#active.delete(controller);
      this.#maybeDrained();
    };
    void this.#run(this.#url(request.path), init, controller, sink).then(settled, (error: unknown) => {
      settled();
      if (controller.signal.aborted) return; // our cancel, a timeout, or this session's close
      if (isNetworkError(error)) this.#lost(new ConnectionDownError(`a request failed on the network: ${describe(error)}`, { cause: error }));
      else sink.error(error instanceof Error ? error : new Error(String(error)));
    });
    return {
      cancel: () => {
        this.#active.delete(controller);
        controller.abort();
        this.#maybeDrained();
      },
    };
  }

  /** `upgrade()` cannot exist in a browser: a page never holds the connection. */
  upgrade(_request: PreparedRequest, _protocol: string, sink: UpgradeSink): StreamHandle {
    sink.error(new UnsupportedError('upgrade() cannot work in a browser: a page cannot take over a connection (use websocket() for a WebSocket)'));
    return NOT_STARTED;
  }

  /** The round-trip time of one probe exchange, in ms (a browser has no protocol ping). */
  ping(): Observable<number> {
    return new Observable<number>(subscriber => {
      const controller = new AbortController();
      const started = performance.now();
      probeOnce(this.#options, controller.signal).then(
        () => {
          this.#lastActivity = Date.now();
          subscriber.next(performance.now() - started);
          subscriber.complete();
        },
        (error: unknown) => subscriber.error(error),
      );
      return () => controller.abort();
    });
  }

  shutdown(): void {
    this.#draining = true;
    this.#maybeDrained();
  }

  destroy(error: RxconnError): void {
    this.#close(error);
  }

  /** Evidence of a loss found outside this session (a WebSocket closed abnormally). */
  lose(error: RxconnError): void {
    this.#lost(error);
  }

  // ---- streams ----

  #url(path: string): string {
    return this.#options.common.origin + path;
  }

  #bodyRefusal(request: PreparedRequest): RxconnError | undefined {
    if (!isObservable(request.body) || this.protocol === 'http2') return undefined;
    return new UnsupportedError('a streamed request body (an Observable) needs HTTP/2 in a browser (fetch with duplex: "half", Chromium only); this origin is not known to speak HTTP/2: send a string or bytes');
  }

  async #run(url: string, init: RequestInit, controller: AbortController, sink: StreamSink): Promise<void> {
    const gate = new ReadGate();
    sink.flow?.(gate);
    const response = await fetch(url, init);
    if (controller.signal.aborted) return;
    this.#lastActivity = Date.now();
    sink.next({ type: 'response', status: response.status, headers: responseHeaders(response.headers) });
    const reader = response.body?.getReader();
    if (reader) {
      controller.signal.addEventListener('abort', () => {
        gate.resume();
        void reader.cancel().catch(() => {});
      }, { once: true });
      for (;;) {
        // A paused Flow: the body is not read until it resumes.
        const paused = gate.passed();
        if (paused) await paused;
        if (controller.signal.aborted) return;
        const { done, value } = await reader.read();
        if (controller.signal.aborted) return;
        this.#lastActivity = Date.now();
        if (done) break;
        if (value.byteLength > 0) sink.next({ type: 'data', data: value });
      }
    }
    this.#active.delete(controller);
    sink.complete();
  }

  #maybeDrained(): void {
    if (this.#draining && this.#active.size === 0 && this.#monitor.holds === 0) this.#close(new ConnectionClosedError('the connection was shut down'));
  }

  // ---- liveness ----

  /** Arms the next look at the link: when `keepalive.interval` will have passed without traffic. */
  #schedule(): void {
    clearTimeout(this.#timer);
    const { keepalive } = this.#options.common;
    if (this.#closed || !keepalive) return;
    const wait = this.#probe ? this.#probeDeadline - Date.now() : this.#lastActivity + keepalive.interval - Date.now();
    this.#timer = setTimeout(this.#check, Math.max(0, wait));
  }

  /**
   * Looks at the link by the wall clock (timers of a background tab fire late; the clock does
   * not lie): a probe past its deadline means the origin is gone; a link quiet for
   * `keepalive.interval` gets a probe.
   */
  readonly #check = (): void => {
    const { keepalive } = this.#options.common;
    if (this.#closed || !keepalive) return;
    const now = Date.now();
    if (this.#probe) {
      if (now >= this.#probeDeadline) {
        this.#lost(new KeepaliveTimeoutError(keepalive.timeout));
        return;
      }
    } else if (now - this.#lastActivity >= keepalive.interval) {
      this.#sendProbe(keepalive.timeout);
    }
    this.#schedule();
  };

  #sendProbe(timeout: number): void {
    const controller = new AbortController();
    this.#probe = controller;
    this.#probeDeadline = Date.now() + timeout;
    probeOnce(this.#options, controller.signal).then(
      () => {
        if (this.#probe !== controller) return;
        this.#probe = undefined;
        this.#lastActivity = Date.now();
        this.#schedule();
      },
      (error: unknown) => {
        if (this.#probe !== controller || controller.signal.aborted) return;
        this.#probe = undefined;
        this.#lost(error instanceof ConnectionDownError ? error : new ConnectionDownError(`the keepalive probe failed: ${describe(error)}`, { cause: error }));
      },
    );
  }

  readonly #onOffline = (): void => {
    this.#lost(new ConnectionDownError("the browser went offline (the window's offline event)"));
  };

  /** The origin is gone: every stream is aborted (the core counts them as killed), then `onClose`. */
  #lost(error: RxconnError): void {
    this.#close(error);
  }

  #close(error: RxconnError): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#monitor.current === this) this.#monitor.current = undefined;
    this.#stopWatchingHolds();
    clearTimeout(this.#timer);
    this.#probe?.abort();
    this.#probe = undefined;
    for (const controller of this.#active) controller.abort();
    this.#active.clear();
    globalThis.removeEventListener?.('offline', this.#onOffline);
    globalThis.document?.removeEventListener('visibilitychange', this.#check);
    this.#listener.onClose(error);
  }
}
