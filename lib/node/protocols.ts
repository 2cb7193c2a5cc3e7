/**
 * The one place where a protocol is chosen: from the dialed socket to a ready session.
 */
import type { Socket } from 'node:net';
import { Observable, switchMap } from 'rxjs';
import type { Subscriber } from 'rxjs';
import type { RxconnError } from '../core/errors.js';
import { ConnectionClosedError } from '../core/errors.js';
import type { GoawayInfo, Protocol } from '../core/events.js';
import { createHttp1Session } from './http1-session.js';
import { createHttp2Session } from './http2-session.js';
import type { ResolvedOptions } from '../core/options.js';
import type { Session, SessionListener } from '../core/session.js';
import type { SessionHooks } from '../core/runtime.js';
import { dial } from './transport.js';
import type { Dialed } from './transport.js';

const FACTORIES: Record<Protocol, SessionFactory> = {
  http1: createHttp1Session,
  http2: createHttp2Session,
};

/** Creates a session on a connected socket; the one signature every protocol module exports. */
export type SessionFactory = (socket: Socket, options: ResolvedOptions, listener: SessionListener) => Session;

/**
 * One session, from the dial to ready (see `Runtime.sessions`): each subscription dials, creates
 * the session for the negotiated protocol, emits it once ready and completes; from then on the
 * core owns it and hears of its end through `hooks.onClose`. Unsubscribing before that destroys
 * whatever was dialled.
 */
export function sessionLifetime(options: ResolvedOptions, hooks: SessionHooks): Observable<Session> {
  return dial(options, socket => hooks.onSocket(socket), waiting => hooks.onProgress?.(waiting)).pipe(
    switchMap(dialed => {
      if (dialed.intermediaries) hooks.onIntermediaries?.(dialed.intermediaries);
      return runSession(dialed, options, hooks);
    }),
  );
}

function runSession({ socket, protocol }: Dialed, options: ResolvedOptions, hooks: SessionHooks): Observable<Session> {
  return new Observable<Session>(subscriber => {
    const handOver = new HandOver(subscriber, hooks);
    handOver.created(FACTORIES[protocol](socket, options, handOver));
    return () => handOver.cancel();
  });
}

/**
 * A session's listener: until the session is ready it belongs to the dial's subscriber; then it
 * is emitted, and from then on its events go to the core's hooks only (the subscriber is let go,
 * so that nothing of the dial stays reachable from a session that lives for hours).
 */
class HandOver implements SessionListener {
  #subscriber: Subscriber<Session> | undefined;
  readonly #hooks: SessionHooks;
  /** Set once the factory returns (the listener may be called during `create`, before that). */
  #session: Session | undefined;
  #ready = false;
  #closed = false;

  constructor(subscriber: Subscriber<Session>, hooks: SessionHooks) {
    this.#subscriber = subscriber;
    this.#hooks = hooks;
  }

  created(session: Session): void {
    this.#session = session;
    if (this.#ready) this.#handOver();
  }

  onReady(): void {
    this.#ready = true;
    this.#handOver();
  }

  onCapacity(): void {
    if (this.#session) this.#hooks.onCapacity(this.#session);
  }

  onDraining(detail: { readonly goaway?: GoawayInfo; readonly reason: string }): void {
    if (this.#session) this.#hooks.onDraining(this.#session, detail);
  }

  onClose(error: RxconnError): void {
    this.#closed = true;
    if (this.#session) this.#hooks.onClose(this.#session, error);
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    subscriber?.error(error);
  }

  /** The dial was cancelled (or timed out) before the hand-over: the session is ours to end. */
  cancel(): void {
    if (this.#subscriber && this.#session && !this.#closed) this.#session.destroy(new ConnectionClosedError('the connection was closed'));
    this.#subscriber = undefined;
  }

  #handOver(): void {
    const subscriber = this.#subscriber;
    if (!this.#session || this.#closed || !subscriber) return;
    this.#subscriber = undefined;
    subscriber.next(this.#session);
    subscriber.complete();
  }
}
