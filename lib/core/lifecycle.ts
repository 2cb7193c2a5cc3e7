/**
 * The life of one connection: the dial-and-reconnect loop, its sessions and sockets, the state
 * and the lifecycle events, rotations, and the two ways to end (graceful shutdown, abrupt close).
 * Protocol-agnostic: sessions come from the runtime (see `runtime.ts`); the requests are the
 * {@link StreamTable}'s. `Connection` is its public face.
 */
import { EMPTY, asyncScheduler, Observable, Subject, catchError, defer, switchMap, take, throwError, timeout } from 'rxjs';
import type { Subscriber, Subscription } from 'rxjs';
import { ConnectTimeoutError, ConnectionClosedError, ConnectionDownError, ProtocolError, RxconnError, UnsupportedError, toConnectionError } from './errors.js';
import type { ConnectionEvent, GoawayInfo, Intermediary } from './events.js';
import type { ConnectWait } from './errors.js';
import type { ResolvedOptions } from './options.js';
import { reconnect } from './reconnect.js';
import type { SessionHooks } from './runtime.js';
import type { Endpoint, Session, UpgradeOwner } from './session.js';
import { waitForDrain } from './drain-wait.js';
import { Signals } from './signals.js';
import { PROVEN_AFTER, RotationError, RotationRule, SessionLoss } from './rotation.js';
import type { HeldSession } from './rotation.js';
import { StreamTable } from './stream-table.js';
import type { StreamTableHooks } from './stream-table.js';
import { ConnectionDiagnostics } from './diagnostics.js';

/**
 * It is its sessions' hooks and its stream table's too (methods rather than closures: an idle
 * connection should weigh little), and its state and events are {@link Signals} it extends.
 */
export class Lifecycle extends Signals implements SessionHooks, StreamTableHooks {
  readonly streams: StreamTable;
  readonly options: ResolvedOptions;
  /** The instrumentation channels, when the runtime has a publisher. */
  readonly diagnostics: ConnectionDiagnostics | undefined;
  /** The session new requests go to. */
  session: Session | undefined;
  /** The attempt number of the current outage (0 once connected). */
  attempt = 0;
  /**
   * Every session not yet closed: the current one and those draining. An array of exactly its
   * length, made anew on each change (one or two sessions; a Map weighs ~185 B with one).
   */
  sessions: readonly HeldSession[] = [];
  ending: 'shutdown' | 'close' | undefined;
  failure: RxconnError | undefined;
  finished = false;
  /**
   * The sockets dialled, for a leak-free `closed`: those closed are let go at the next dial (no
   * listener on each socket for its whole life, for an idle connection's sake). An array made
   * anew each time, of exactly its length (an empty Set weighs ~150 B).
   */
  #sockets: readonly Endpoint[] = [];
  /** The adopted session whose loss (a planned or unplanned close) starts the next attempt. */
  #live: Session | undefined;
  /** The attempt waiting for its adopted session to prove itself (see #adoptAndProve). */
  #unproven: { readonly session: Session; readonly subscriber: Subscriber<Session> } | undefined;
  /** What the dial in progress reported: its proxies, and the step it waits on (for a timeout's message). */
  #dialIntermediaries: readonly Intermediary[] | undefined;
  #dialWaiting: ConnectWait | undefined;
  #endError: RxconnError | undefined;
  /** A dial is in progress (not waiting for a retry, not connected). */
  #dialing = false;
  /** The session whose planned close is being replaced; set until the replacement is up (or fails). */
  #rotating: Session | undefined;
  /** Made at the first planned close: most connections never see one. */
  #rotations: RotationRule | undefined;
  /** The reconnect loop, while it runs: from a loss (or `open()`) until a session proves itself. */
  #loop: Subscription | undefined;
  /** `#run` has happened (the first attempt started, or the connection ended before it). */
  #started = false;
  /** The graceful shutdown's wait (see #beginShutdown), and what tells it that something changed. */
  #shutdown: Subscription | undefined;
  #shutdownProgress: Subject<void> | undefined;
  /** `closed`, made when first asked for; `#over` once it has resolved. */
  #closed: Promise<void> | undefined;
  #resolveClosed: (() => void) | undefined;
  #over = false;

  constructor(options: ResolvedOptions) {
    super();
    this.options = options;
    this.diagnostics = options.runtime.diagnostics && new ConnectionDiagnostics(options.runtime.diagnostics, options.origin);
    this.streams = new StreamTable(options.maxQueued, options.scheduler, this);
    queueMicrotask(() => this.#run());
  }

  /** Resolves once everything is closed (every socket too). */
  get closed(): Promise<void> {
    this.#closed ??= this.#over ? Promise.resolve() : new Promise(resolve => (this.#resolveClosed = resolve));
    return this.#closed;
  }

  /** What is kept of `session` while it is open. */
  held(session: Session): HeldSession | undefined {
    // Called twice per request: an indexed loop allocates nothing (find() makes a closure, and
    // for-of an iterator that V8 does not always optimize away).
    const sessions = this.sessions;
    for (let i = 0; i < sessions.length; i++) if (sessions[i]!.session === session) return sessions[i];
    return undefined;
  }

  /** The protocol the socket of `session` was upgraded to, if it was. */
  upgradedTo(session: Session | undefined): string | undefined {
    return session && this.held(session)?.upgradedTo;
  }

  // ---- what the stream table asks and tells (StreamTableHooks) ----

  currentSession(): Session | undefined {
    return this.session;
  }

  completions(session: Session): number {
    return this.held(session)?.completions ?? 0;
  }

  onSettled(session: Session | undefined, completed: boolean): void {
    const held = session && this.held(session);
    if (completed && held) {
      held.completions++;
      if (this.#unproven?.session === session) this.#proved();
    }
    if (this.ending) this.#advanceShutdown();
  }

  // ---- what sessions tell (SessionHooks) ----

  onSocket(socket: Endpoint): void {
    // concat, not a spread: it allocates exactly the length (a spread grows the array to 17 slots).
    this.#sockets = this.#sockets.filter(old => !old.closed).concat(socket);
  }

  onCapacity(): void {
    this.streams.pump();
    this.#advanceShutdown();
  }

  onIntermediaries(intermediaries: readonly Intermediary[]): void {
    this.#dialIntermediaries = intermediaries;
  }

  onProgress(waiting: ConnectWait): void {
    this.#dialWaiting = waiting;
  }

  /** The server began a planned close of `session`: a rotation, or an outage when it is not one. */
  onDraining(session: Session, detail: { readonly goaway?: GoawayInfo; readonly reason: string }): void {
    const rotation = session === this.#live && this.#isRotation(session, detail.goaway);
    if (this.session === session) this.session = undefined;
    if (!this.ending) this.#emit({ type: 'closing', activeStreams: this.streams.activeOn(session), initiator: 'server', rotation, ...(detail.goaway && { goaway: detail.goaway }) });
    const reason = `the server is closing the connection: ${detail.reason}`;
    const held = this.held(session);
    if (held) this.#lost(new SessionLoss(session, rotation ? new RotationError(reason) : new ConnectionDownError(reason), detail.goaway, 0, held.upgradedTo !== undefined));
  }

  onClose(session: Session, error: RxconnError): void {
    if (this.session === session) this.session = undefined;
    const held = this.held(session);
    if (held) this.sessions = this.sessions.filter(other => other !== held);
    const killed = this.streams.failActive(() => this.#streamError(error), session);
    // The connection reports the loss (`disconnected`) unless it is ending: then it closed the socket itself.
    held?.owner?.onClosed(error, !this.ending);
    if (held) this.#lost(new SessionLoss(session, error, undefined, killed, held.upgradedTo !== undefined));
    this.#advanceShutdown();
  }

  /** Why a new request cannot be accepted, if it cannot. */
  refusal(): RxconnError | undefined {
    if (this.failure) return this.failure;
    const upgradedTo = this.upgradedTo(this.session);
    if (upgradedTo) return new UnsupportedError(`the connection was upgraded to ${upgradedTo}: no HTTP requests until it reconnects`);
    if (this.ending || this.finished) return new ConnectionClosedError(`the connection is ${this.ending === 'shutdown' && !this.finished ? 'shutting down' : 'closed'}: no new requests`);
    return undefined;
  }

  /**
   * A socket was handed to an upgrade (a WebSocket): the current HTTP/1.1 session's own socket, or
   * an HTTP/2 stream. `owner`, if given, is told at once of a shutdown under way; of the
   * connection's own socket it is also told of a later shutdown, and of the socket's close.
   */
  onUpgraded(socket: Endpoint, protocol: string, owner?: UpgradeOwner): void {
    if (this.ending === 'shutdown') owner?.onShutdown();
    const held = this.sessions.find(({ session }) => session.socket === socket);
    if (!held) return;
    held.upgradedTo = protocol;
    held.owner = owner;
    this.#emit({ type: 'upgraded', protocol });
    const refusal = this.refusal();
    if (refusal) this.streams.rejectQueued(refusal);
  }

  // ---- ending ----

  /**
   * Graceful close: requests already made are still sent and answered (queued ones go out on the
   * current session, or on the dial in progress if it succeeds), new ones are refused; then each
   * session closes once its streams are done. Bounded by `limit` ms, after which the rest are killed.
   */
  shutdown(limit: number): Promise<void> {
    if (this.ending || this.finished) return this.closed;
    this.ending = 'shutdown';
    // A protocol upgrade still waiting would only open to be closed again: it is refused.
    this.streams.rejectQueued(new ConnectionClosedError('the connection shut down before this upgrade was sent'), request => request.upgrade !== undefined);
    if (!this.#started) return this.closed; // not started yet: #run sends what is queued, then ends
    this.#beginShutdown(limit);
    return this.closed;
  }

  /** Abrupt close: every socket is destroyed now; active and queued requests error. */
  close(): void {
    if (this.ending === 'close' || this.finished) return;
    this.ending = 'close';
    this.#endError = new ConnectionClosedError('the connection was closed');
    this.setState('closed');
    this.streams.rejectQueued(this.#endError);
    if (this.#started) this.#finish();
  }

  /**
   * The shutdown itself: a `finalize` that waits for the active-stream count (streams, sessions
   * and a dial in progress) to reach zero, bounded by `limit` (see `drain-wait.ts`); it exists
   * only while shutting down.
   */
  #beginShutdown(limit: number): void {
    if (this.sessions.length > 0 || this.#dialing) {
      this.setState('closing');
      // An upgraded socket (a WebSocket) counts as one active stream: shutdown waits for its close.
      const upgraded = this.sessions.filter(held => held.upgradedTo).length;
      this.#emit({ type: 'closing', activeStreams: this.streams.active + this.streams.queued + upgraded, initiator: 'client' });
      for (const held of this.sessions) held.owner?.onShutdown();
    }
    // Otherwise waiting for a retry: nothing to close gracefully, nothing can send what is queued.
    const progress = (this.#shutdownProgress = new Subject<void>());
    this.#shutdown = waitForDrain({
      progress,
      drained: () => this.streams.active + this.sessions.length === 0 && !this.#dialing,
      limit,
      scheduler: this.options.scheduler ?? asyncScheduler,
      timedOut: () => (this.#endError = new ConnectionClosedError(`shutdown did not finish within its timeout (${limit} ms): the stream was killed`)),
      done: () => this.#finish(),
    });
    this.#advanceShutdown();
  }

  /** The next step of a shutdown, after anything changed: send what waits, close what is done. */
  #advanceShutdown(): void {
    if (this.ending !== 'shutdown' || this.finished || !this.#started) return;
    if (this.streams.queued > 0) {
      // They go out on the current session (as slots free up) or on the dial in progress.
      if ((this.session && !this.upgradedTo(this.session)) || this.#dialing) return;
      this.streams.rejectQueued(new ConnectionClosedError('the connection shut down before this request could be sent: it was not connected'));
    }
    for (const held of this.sessions) {
      // One that closed during an earlier one's shutdown() is out of the list already.
      if (held.shut || !this.sessions.includes(held)) continue;
      held.shut = true;
      held.session.shutdown();
    }
    this.#shutdownProgress?.next();
  }

  // ---- the dial loop ----

  #run(): void {
    this.#started = true;
    if (this.ending === 'close' || (this.ending === 'shutdown' && this.streams.queued === 0)) {
      this.#finish();
      return;
    }
    this.#startLoop(undefined);
    if (this.ending === 'shutdown') this.#beginShutdown(this.options.closeTimeout);
  }

  /**
   * Runs the reconnect loop: attempts with backoff (RxJS `retry`, see `reconnect.ts`) until a
   * session proves itself, then the loop completes and nothing of it lives while the connection
   * is up. A loss starts it again, `lost` being the failure its first retry waits on (a rotation
   * redials at once).
   */
  #startLoop(lost: RxconnError | undefined): void {
    const { runtime } = this.options;
    // A runtime may hold attempts (a browser while offline) and cut a backoff wait short (online).
    const gate = runtime.attemptGate?.bind(runtime);
    let failure = lost;
    const attempts = defer(() => {
      if (failure) {
        const error = failure;
        failure = undefined;
        return throwError(() => error);
      }
      return gate ? gate().pipe(take(1), switchMap(() => this.#attemptOnce())) : this.#attemptOnce();
    });
    this.#loop = attempts
      .pipe(
        reconnect<Session>(this.options.retry, (attempt, delay, error) => this.#onRetry(attempt, delay, error), this.options.scheduler, {
          ...(runtime.wake && { wake: runtime.wake() }),
          isRotation: error => error instanceof RotationError,
          // A draining session still serves streams: the connection lives on until they are done.
          mayGiveUp: () => !this.sessions.some(held => this.streams.activeOn(held.session) > 0 || held.upgradedTo),
        }),
      )
      .subscribe({
        // Connected and proven, or a shutdown's dial failed: either way the loop is done.
        complete: () => {
          this.#loop = undefined;
          this.#advanceShutdown();
        },
        error: (error: unknown) => {
          this.#fail(toConnectionError(error));
          this.#finish();
        },
      });
  }

  /** One attempt: dial, adopt the session, wait for it to prove itself. Emits it once then, and errors when it is lost first. */
  #attemptOnce(): Observable<Session> {
    const attempt = this.attempt;
    const { connectTimeout, scheduler } = this.options;
    // A rotation keeps `connected`: the old session still serves, the new one is on its way.
    if (!this.#rotating && !this.ending) this.setState('connecting');
    this.#emit({ type: 'connecting', attempt });
    this.#dialIntermediaries = undefined;
    this.#dialWaiting = undefined;
    this.#dialing = true;
    const dialed = this.options.runtime.sessions(this.options, this);
    return (connectTimeout === Infinity ? dialed : dialed.pipe(timeout({ first: connectTimeout, scheduler, with: () => throwError(() => new ConnectTimeoutError(connectTimeout, this.#dialWaiting)) }))).pipe(
      take(1),
      switchMap(session => this.#adoptAndProve(session, attempt)),
      catchError((raw: unknown) => (raw instanceof SessionLoss ? (this.#afterLoss(raw) ?? EMPTY) : this.#dialFailed(toConnectionError(raw)))),
    );
  }

  /**
   * Adopts `session`, then waits for it to prove itself: a complete response, or PROVEN_AFTER ms
   * up. The retry budget resets then, not at connect: a peer that accepts and drops at once must
   * not make the connection redial forever. Emits `session` once proven; errors with its loss if
   * that comes first (even during the adoption itself).
   */
  #adoptAndProve(session: Session, attempt: number): Observable<Session> {
    return new Observable<Session>(subscriber => {
      this.#unproven = { session, subscriber };
      this.#adopt(session, attempt);
      const proofTimer = subscriber.closed ? undefined : (this.options.scheduler ?? asyncScheduler).schedule(() => this.#proved(), PROVEN_AFTER);
      return () => {
        proofTimer?.unsubscribe();
        if (this.#unproven?.subscriber === subscriber) this.#unproven = undefined;
      };
    });
  }

  /** The session the attempt waits on proved itself: the loop ends. */
  #proved(): void {
    const unproven = this.#unproven;
    if (!unproven) return;
    this.#unproven = undefined;
    this.#rotations?.proved();
    unproven.subscriber.next(unproven.session);
    unproven.subscriber.complete();
  }

  /** A dial failed (before any session was adopted). Emits the error the retry waits on, if any. */
  #dialFailed(error: RxconnError): Observable<never> {
    this.#dialing = false;
    if (this.ending) {
      // Shutdown starts no new dial after a failed one: what waited for it is refused.
      this.#endError ??= new ConnectionClosedError(`the connection shut down before this request could be sent: the connection could not be established (${error.message})`, { cause: error });
      this.streams.rejectQueued(this.#endError);
      return EMPTY; // the loop completes, and the shutdown goes on
    }
    const replaced = this.#rotating;
    this.#rotating = undefined;
    if (replaced) {
      // The replacement of a rotated session cannot be dialled: now it is an outage.
      this.setState('disconnected');
      this.#emit({ type: 'disconnected', protocol: replaced.protocol, error, killedStreams: 0 });
    }
    return throwError(() => error);
  }

  /**
   * The live session was lost: a planned close (a rotation, or an outage when it was not one) or
   * an unplanned one. While its attempt waits for the proof, that attempt fails with it; otherwise
   * the reconnect loop starts again.
   */
  #lost(loss: SessionLoss): void {
    const { session, error } = loss;
    if (this.#live !== session) return;
    this.#live = undefined;
    const unproven = this.#unproven;
    if (unproven?.session === session) {
      this.#unproven = undefined;
      unproven.subscriber.error(loss);
    } else if (this.#afterLoss(loss)) {
      this.#startLoop(error);
    }
  }

  /** After the loss of an adopted session: the events, and the error to retry with (none while ending). */
  #afterLoss({ session, error, goaway, killedStreams, upgraded }: SessionLoss): Observable<never> | undefined {
    if (this.session === session) this.session = undefined;
    if (this.ending) return undefined; // a shutdown in progress ends the connection, not a reconnect
    if (error instanceof RotationError) {
      this.#rotating = session;
      return throwError(() => error);
    }
    this.setState('disconnected');
    this.#emit({ type: 'disconnected', protocol: upgraded ? 'websocket' : session.protocol, error, killedStreams, ...(goaway && { goaway }) });
    return throwError(() => error);
  }

  /** Whether the planned close of `session` is a rotation (see `rotation.ts`). */
  #isRotation(session: Session, goaway: GoawayInfo | undefined): boolean {
    const now = this.#now();
    const lived = now - (this.held(session)?.adoptedAt ?? now) >= PROVEN_AFTER;
    return (this.#rotations ??= new RotationRule()).isRotation(goaway, lived, this.streams.served(session));
  }

  #adopt(session: Session, attempt: number): void {
    const intermediaries = this.#dialIntermediaries;
    this.#dialing = false;
    this.#rotating = undefined;
    this.session = session;
    this.#live = session;
    // concat, not a spread: it allocates exactly the length.
    this.sessions = this.sessions.concat({ session, adoptedAt: this.#now(), intermediaries, completions: 0, shut: false, upgradedTo: undefined, owner: undefined });
    if (!this.ending) this.setState('connected');
    this.#emit({ type: 'connected', protocol: session.protocol, attempt, ...(intermediaries && { intermediaries }) });
    this.attempt = 0;
    this.streams.pump();
    this.#advanceShutdown();
  }

  #onRetry(attempt: number, delay: number, error: RxconnError): void {
    this.attempt = attempt;
    this.setState('disconnected');
    this.#emit({ type: 'retrying', attempt, delay, error });
  }

  /** What an active stream errors with when its session closes because of `cause`. */
  #streamError(cause: RxconnError): RxconnError {
    if (this.ending && !this.failure) return this.#endError ?? new ConnectionClosedError(`the connection closed during shutdown: ${cause.message}`, { cause });
    const message = `the connection was lost while this stream was active: ${cause.message}`;
    // A peer that broke the protocol keeps its code, as a malformed HTTP/1.1 response does.
    return cause instanceof ProtocolError ? new ProtocolError(message, { cause }) : new ConnectionDownError(message, { cause });
  }

  /** The loop gave up: the failure goes to queued requests and to the event stream. */
  #fail(error: RxconnError): void {
    this.failure = error;
    this.setState('failed');
    this.streams.rejectQueued(error);
  }

  /** The end, after a close, a shutdown or a failure: tears everything down, then `closed`. */
  #finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.#loop?.unsubscribe();
    this.#shutdown?.unsubscribe();
    this.session = undefined;
    const error = this.failure ?? this.#endError ?? new ConnectionClosedError('the connection was closed');
    this.ending ??= 'close';
    this.streams.rejectQueued(error);
    for (const { session } of this.sessions) session.destroy(error);
    this.streams.failActive(() => error);
    // Listening before destroying: a socket may close at once (a TLS socket over a proxy's tunnel that was destroyed first).
    const sockets = this.#sockets.filter(socket => !socket.closed).map(socket => new Promise<void>(resolve => socket.once('close', () => resolve())));
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets = [];
    void Promise.all(sockets).then(() => {
      this.#over = true;
      if (this.failure) this.setState('failed');
      else {
        this.setState('closed');
        this.#emit({ type: 'closed' });
      }
      this.endSignals(this.failure);
      this.#resolveClosed?.();
    });
  }

  // ---- plumbing ----

  /** The connection's clock: its scheduler's, so that TestScheduler drives it too. */
  #now(): number {
    return (this.options.scheduler ?? asyncScheduler).now();
  }

  #emit(event: ConnectionEvent): void {
    this.diagnostics?.event(event);
    this.emit(event);
  }
}
