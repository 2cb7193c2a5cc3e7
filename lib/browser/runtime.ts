/**
 * The browser runtime: a "session" is one episode of a monitored link (a probe answered → until
 * the evidence of a loss), requests run on fetch, WebSockets on the native `WebSocket`.
 */
import { EMPTY, Observable, fromEvent, of, take } from 'rxjs';
import { ConnectionClosedError } from '../core/errors.js';
import type { RxconnError } from '../core/errors.js';
import type { Runtime, SessionHooks } from '../core/runtime.js';
import type { Session } from '../core/session.js';
import { FetchSession } from './fetch-session.js';
import { Monitor } from './monitor.js';
import { NativeLink } from './native-link.js';
import type { ResolvedBrowserOptions } from './options.js';
import { probeOnce } from './probe.js';

/** Whether the browser says it is offline (trustworthy only as `false`: `true` proves nothing). */
function offline(): boolean {
  return globalThis.navigator?.onLine === false;
}

/** The window's `online` events (none outside a window). */
function onlineEvents(): Observable<unknown> {
  return typeof globalThis.addEventListener === 'function' ? fromEvent(globalThis as unknown as EventTarget, 'online') : EMPTY;
}

/** The browser runtime for one connection's options. */
export function browserRuntime(options: ResolvedBrowserOptions): Runtime {
  const released = new WeakSet<Session>();
  const monitor = new Monitor();
  return {
    sessions: (_common, hooks) => episode(options, monitor, hooks, released),
    release: session => released.add(session),
    // Attempts wait while the browser is offline, without spending the retry budget.
    attemptGate: () => (offline() ? onlineEvents().pipe(take(1)) : of(true)),
    // Coming back online ends a backoff wait: probe at once.
    wake: onlineEvents,
    createLink: (connection, wsOptions, sink, hooks) => new NativeLink(connection, options.common.origin, monitor, wsOptions, sink, hooks),
  };
}

/** One probe, then the session it proves, until the session closes (the Observable then errors with why). */
function episode(options: ResolvedBrowserOptions, monitor: Monitor, hooks: SessionHooks, released: WeakSet<Session>): Observable<Session> {
  return new Observable<Session>(subscriber => {
    const controller = new AbortController();
    const box: { session?: FetchSession; closed?: boolean } = {};
    probeOnce(options, controller.signal).then(
      ({ protocol }) => {
        if (subscriber.closed) return;
        const session = new FetchSession(options, protocol, monitor, {
          onReady: () => {},
          onCapacity: () => hooks.onCapacity(session),
          onDraining: detail => hooks.onDraining(session, detail),
          onClose: (error: RxconnError) => {
            box.closed = true;
            hooks.onClose(session, error);
            subscriber.error(error);
          },
        });
        box.session = session;
        subscriber.next(session);
      },
      (error: unknown) => {
        if (!controller.signal.aborted) subscriber.error(error);
      },
    );
    return () => {
      controller.abort();
      const session = box.session;
      if (session && !box.closed && !released.has(session)) session.destroy(new ConnectionClosedError('the connection was closed'));
    };
  });
}
