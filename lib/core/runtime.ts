/**
 * The runtime seam: what a {@link Connection} needs from the platform it runs on (Node's sockets,
 * or a browser's fetch and WebSocket). The core imports no runtime; each entry point (`lib/node`,
 * `lib/browser`) builds a `Runtime` and hands it to the connection it opens.
 */
import type { Observable, Observer } from 'rxjs';
import type { Connection } from './connection.js';
import type { RxconnError } from './errors.js';
import type { GoawayInfo, Headers } from './events.js';
import type { ResolvedOptions } from './options.js';
import type { Session } from './session.js';
import type { ResolvedWebSocketOptions } from './websocket/options.js';

/** Something the runtime opened that the connection must see closed before `closed` (a Node socket). */
export interface Closable {
  destroy(): void;
  once(event: 'close', listener: () => void): unknown;
}

/** What the core hears from a live session besides its end. */
export interface SessionHooks {
  /** A socket was created (for the core's account of what is still open). */
  onSocket(socket: Closable): void;
  onCapacity(session: Session): void;
  onDraining(session: Session, detail: { readonly goaway?: GoawayInfo; readonly reason: string }): void;
  /** The session closed; called before the lifetime errors, and also for released sessions. */
  onClose(session: Session, error: RxconnError): void;
}

/** A message of a WebSocket: a text frame as a `string`, a binary one as a `Uint8Array`. */
export type WebSocketMessage = string | Uint8Array;

/** How a WebSocket link that opened has ended. */
export interface LinkEnd {
  /** The close code: the server's close frame, or 1006 when none arrived. */
  readonly code: number;
  readonly reason: string;
  /** The channel's error, or `undefined` when it completed. */
  readonly error: RxconnError | undefined;
}

/** What a link tells its channel. */
export interface LinkHooks {
  /** The WebSocket is open (called before any incoming message): flush what waited. */
  onOpen(link: WebSocketLink, headers: Headers): void;
  /** The link is over, just before its subscribers complete or error. `end` is set if it had opened. */
  onEnd(link: WebSocketLink, end: LinkEnd | undefined): void;
}

/** One WebSocket of a channel, from its opening handshake to its close: what a channel needs of it. */
export interface WebSocketLink {
  /** Bytes handed to the WebSocket and not yet written. */
  readonly bufferedAmount: number;
  /** The subprotocol the server chose (`''` if none, or not open yet). */
  readonly subprotocol: string;
  /** Whether it is over (closed, failed, or released before it started). */
  readonly done: boolean;
  /** Starts the opening handshake (once the connection is up). */
  start(): void;
  /** Sends one message; `false` if the WebSocket is not open (the channel queues it). */
  send(data: WebSocketMessage): boolean;
  /** The user's `close(code, reason)`. */
  close(code: number, reason: string): void;
  /** The last subscriber left: cancel the handshake, or close with 1000. */
  release(): void;
}

/** Creates the link of one shared channel subscription. */
export type LinkFactory = (
  connection: Connection,
  options: ResolvedWebSocketOptions,
  sink: Observer<WebSocketMessage>,
  hooks: LinkHooks,
) => WebSocketLink;

/** The platform under a connection. */
export interface Runtime {
  /**
   * One session's whole life. Cold: each subscription dials, emits the session once ready, and
   * errors when it closes (with why). Unsubscribing destroys the session unless `release` was
   * called for it.
   */
  sessions(options: ResolvedOptions, hooks: SessionHooks): Observable<Session>;
  /** Lets a draining session outlive its lifetime subscription: its own `onClose` ends it. */
  release(session: Session): void;
  /**
   * Emits (at least once) when an attempt may start; a browser holds attempts while it is
   * offline. The connection waits for the first emission before each attempt. Omitted: at once.
   */
  attemptGate?(): Observable<unknown>;
  /** Emits when a backoff wait should end early (a browser's `online` event). Omitted: never. */
  wake?(): Observable<unknown>;
  /** Creates a WebSocket link for `conn.websocket()`. */
  createLink: LinkFactory;
}
