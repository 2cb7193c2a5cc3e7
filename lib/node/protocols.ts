/**
 * The one place where a protocol is chosen: from the dialed socket to a ready session.
 */
import type { Socket } from 'node:net';
import { Observable, switchMap } from 'rxjs';
import type { RxconnError } from '../core/errors.js';
import { ConnectionClosedError } from '../core/errors.js';
import type { GoawayInfo, Intermediary, Protocol } from '../core/events.js';
import { createHttp1Session } from './http1-session.js';
import { createHttp2Session } from './http2-session.js';
import type { ResolvedOptions } from '../core/options.js';
import type { Session, SessionFactory } from '../core/session.js';
import { dial } from './transport.js';
import type { Dialed } from './transport.js';

const FACTORIES: Record<Protocol, SessionFactory> = {
  http1: createHttp1Session,
  http2: createHttp2Session,
};

/** What the core hears from a live session besides its end. */
export interface SessionHooks {
  /** A socket was created (for the core's account of what is still open). */
  onSocket(socket: Socket): void;
  onCapacity(session: Session): void;
  onDraining(session: Session, detail: { readonly goaway?: GoawayInfo; readonly reason: string }): void;
  /** The session closed; called before the lifetime errors, and also for released sessions. */
  onClose(session: Session, error: RxconnError): void;
  /** The dial went through proxies: these, first dialled first (called before the session is created). */
  onIntermediaries?(intermediaries: readonly Intermediary[]): void;
}

/**
 * One session's whole life. Cold: each subscription dials, creates the session for the
 * negotiated protocol, emits it once ready, and errors when it closes (with why). Unsubscribing
 * destroys the session, unless `release` was called for it (a draining session finishing its
 * streams on its own).
 */
export function sessionLifetime(options: ResolvedOptions, hooks: SessionHooks): Observable<Session> {
  return dial(options, hooks.onSocket).pipe(
    switchMap(dialed => {
      if (dialed.intermediaries) hooks.onIntermediaries?.(dialed.intermediaries);
      return runSession(dialed, options, hooks);
    }),
  );
}

/** Sessions whose lifetime no longer owns them (see {@link sessionLifetime}). */
const released = new WeakSet<Session>();

/** Lets a draining session outlive its lifetime subscription: its own `onClose` ends it. */
export function release(session: Session): void {
  released.add(session);
}

function runSession({ socket, protocol }: Dialed, options: ResolvedOptions, hooks: SessionHooks): Observable<Session> {
  return new Observable<Session>(subscriber => {
    // The listener may be called during `create`, before the session is returned: hold it in a box.
    const box: { session?: Session; ready?: boolean; closed?: boolean } = {};
    box.session = FACTORIES[protocol](socket, options, {
      onReady: () => {
        box.ready = true;
        if (box.session && !box.closed) subscriber.next(box.session);
      },
      onCapacity: () => box.session && hooks.onCapacity(box.session),
      onDraining: detail => box.session && hooks.onDraining(box.session, detail),
      onClose: (error: RxconnError) => {
        box.closed = true;
        if (box.session) hooks.onClose(box.session, error);
        subscriber.error(error);
      },
    });
    if (box.ready && !box.closed) subscriber.next(box.session);
    return () => {
      const session = box.session;
      if (session && !box.closed && !released.has(session)) session.destroy(new ConnectionClosedError('the connection was closed'));
    };
  });
}
