/**
 * The seam between the runtime-free core and a runtime (Node's sockets, or a browser's fetch and
 * WebSocket): what the core asks of the platform it runs on. The Node runtime is
 * `lib/node/runtime.ts`; `open()` of each entry point passes its own.
 */
import type { Observable, Observer } from 'rxjs';
import type { DiagnosticsPublisher } from './diagnostics.js';
import type { ConnectWait, RxconnError } from './errors.js';
import type { GoawayInfo, Intermediary } from './events.js';
import type { ResolvedOptions } from './options.js';
import type { Endpoint, Session } from './session.js';
import type { LinkConnection, LinkHooks, WebSocketLink, WebSocketMessage } from './websocket/link.js';
import type { ResolvedWebSocketOptions } from './websocket/options.js';

/** What the core hears from a live session besides its end. */
export interface SessionHooks {
  /** A transport handle was created (for the core's account of what is still open). */
  onSocket(socket: Endpoint): void;
  onCapacity(session: Session): void;
  onDraining(session: Session, detail: { readonly goaway?: GoawayInfo; readonly reason: string }): void;
  /** The session closed; called before the lifetime errors, and also for released sessions. */
  onClose(session: Session, error: RxconnError): void;
  /** The dial went through proxies: these, first dialled first (called before the session is created). */
  onIntermediaries?(intermediaries: readonly Intermediary[]): void;
  /** A dial through proxies moved on to its next step (for the message of a connect timeout). */
  onProgress?(waiting: ConnectWait): void;
}

/** A platform the connection core runs on. */
export interface Runtime {
  /** `'node'` or `'browser'`, for messages. */
  readonly name: string;
  /**
   * Validates the runtime's own connection options (`options.tls`) at `open()` and returns
   * them resolved; throws `RXCONN_INVALID_ARGUMENT` (or `RXCONN_UNSUPPORTED` where the runtime
   * has no such thing) naming the option.
   */
  resolveTls(value: unknown): object;
  /**
   * Validates the route options (`options.proxy`, `options.socketPath`) at `open()` for `origin`
   * and returns them resolved (kept in `ResolvedOptions.route`); absent where the runtime has no
   * such thing (the core then refuses them with `RXCONN_UNSUPPORTED`).
   */
  resolveRoute?(proxy: unknown, socketPath: unknown, origin: URL): object;
  /**
   * One session, from the dial to ready. Cold: each subscription dials, creates the session for
   * the negotiated protocol, emits it once ready and completes (or errors with why the dial
   * failed). From then on the core owns the session: it hears of its end through
   * `hooks.onClose` and ends it with `shutdown()`/`destroy()`. Unsubscribing before the session
   * is emitted cancels the dial and destroys whatever it opened.
   */
  sessions(options: ResolvedOptions, hooks: SessionHooks): Observable<Session>;
  /**
   * Emits (at least once) when an attempt may start: a browser holds attempts while it is
   * offline, without spending the retry budget. The connection waits for the first emission
   * before each attempt. Omitted: at once.
   */
  attemptGate?(): Observable<unknown>;
  /** Emits when a backoff wait should end early (a browser's `online` event). Omitted: never. */
  wake?(): Observable<unknown>;
  /** One WebSocket of a channel, from its handshake to its close. */
  createLink(connection: LinkConnection, options: ResolvedWebSocketOptions, sink: Observer<WebSocketMessage>, hooks: LinkHooks): WebSocketLink;
  /** Where instrumentation is published (Node: `diagnostics_channel`); none: nothing is published. */
  readonly diagnostics?: DiagnosticsPublisher;
}
