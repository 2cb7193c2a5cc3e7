/**
 * The browser runtime: a "session" is one episode of a monitored link (a probe answered → until
 * the evidence of a loss), requests run on fetch, WebSockets on the native `WebSocket`.
 */
import { EMPTY, Observable, fromEvent, of, take } from 'rxjs';
import { UnsupportedError } from '../core/errors.js';
import type { RxconnError } from '../core/errors.js';
import type { Runtime, SessionHooks } from '../core/runtime.js';
import type { Session } from '../core/session.js';
import { FetchSession } from './fetch-session.js';
import { Monitor } from './monitor.js';
import { NativeLink } from './native-link.js';
import type { ProbeSettings, ResolvedBrowserOptions } from './options.js';
import { probeOnce } from './probe.js';

/** Whether the browser says it is offline (trustworthy only as `false`: `true` proves nothing). */
function offline(): boolean {
  return globalThis.navigator?.onLine === false;
}

/** The window's `online` events (none outside a window). */
function onlineEvents(): Observable<unknown> {
  return typeof globalThis.addEventListener === 'function' ? fromEvent(globalThis as unknown as EventTarget, 'online') : EMPTY;
}

/** The browser runtime of one connection, with its probe. */
export function browserRuntime(probe: ProbeSettings): Runtime {
  const monitor = new Monitor();
  return {
    name: 'browser',
    resolveTls: value => {
      if (value !== undefined) throw new UnsupportedError('options.tls cannot be used in a browser: the browser does TLS itself (certificates come from its trust store)');
      return {};
    },
    sessions: (common, hooks) => episode({ common, probe }, monitor, hooks),
    // Attempts wait while the browser is offline, without spending the retry budget.
    attemptGate: () => (offline() ? onlineEvents().pipe(take(1)) : of(true)),
    // Coming back online ends a backoff wait: probe at once.
    wake: onlineEvents,
    createLink: (connection, wsOptions, sink, hooks) => new NativeLink(connection, monitor, wsOptions, sink, hooks),
  };
}

/** One probe, then the session it proves (see `Runtime.sessions`): emitted and handed over to the core, which hears of its end through `hooks.onClose`. */
function episode(options: ResolvedBrowserOptions, monitor: Monitor, hooks: SessionHooks): Observable<Session> {
  return new Observable<Session>(subscriber => {
    const controller = new AbortController();
    probeOnce(options, controller.signal).then(
      ({ protocol }) => {
        if (subscriber.closed) return;
        const session = new FetchSession(options, protocol, monitor, {
          onReady: () => {},
          onCapacity: () => hooks.onCapacity(session),
          onDraining: detail => hooks.onDraining(session, detail),
          onClose: (error: RxconnError) => hooks.onClose(session, error),
        });
        subscriber.next(session);
        subscriber.complete();
      },
      (error: unknown) => {
        if (!controller.signal.aborted) subscriber.error(error);
      },
    );
    // Cancels a probe still running; a session, once emitted, is the core's.
    return () => controller.abort();
  });
}
