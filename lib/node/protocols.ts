/**
 * The one place where a protocol is chosen: from the dialed socket to a ready session.
 */
import type { Socket } from 'node:net';
import { Observable, switchMap } from 'rxjs';
import type { RxconnError } from '../core/errors.js';
import { ConnectionClosedError } from '../core/errors.js';
import type { Protocol } from '../core/events.js';
import { createHttp1Session } from './http1-session.js';
import { createHttp2Session } from './http2-session.js';
import type { ResolvedOptions } from '../core/options.js';
import type { Session, SessionListener } from '../core/session.js';
import { isReleased } from '../core/runtime.js';
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
 * One session's whole life. Cold: each subscription dials, creates the session for the
 * negotiated protocol, emits it once ready, and errors when it closes (with why). Unsubscribing
 * destroys the session, unless `release` was called for it (a draining session finishing its
 * streams on its own).
 */
export function sessionLifetime(options: ResolvedOptions, hooks: SessionHooks): Observable<Session> {
  return dial(options, hooks.onSocket, hooks.onProgress).pipe(
    switchMap(dialed => {
      if (dialed.intermediaries) hooks.onIntermediaries?.(dialed.intermediaries);
      return runSession(dialed, options, hooks);
    }),
  );
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
      if (session && !box.closed && !isReleased(session)) session.destroy(new ConnectionClosedError('the connection was closed'));
    };
  });
}
