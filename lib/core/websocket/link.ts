/**
 * What a WebSocket channel needs of one WebSocket (a "link"), and what a link needs of its
 * connection. The runtime makes links (see `Runtime.createLink`): in Node an upgraded HTTP/1.1
 * socket driven by ws (`lib/node/websocket/link.ts`).
 */
import type { Observable, Observer, Subscription } from 'rxjs';
import type { RxconnError } from '../errors.js';
import type { ConnectionEvent, ConnectionState, Headers, Protocol, ResponseEvent } from '../events.js';
import type { RequestInit } from '../request-init.js';
import type { Switched, UpgradeOwner } from '../session.js';

/** A message: a text frame as a `string`, a binary one as a `Uint8Array` (incoming in Node: a `Buffer`). */
export type WebSocketMessage = string | Uint8Array;

/** How a link that opened has ended. */
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

/** One WebSocket of a channel, from its handshake to its close. */
export interface WebSocketLink {
  /** Whether messages can be sent now. */
  readonly isOpen: boolean;
  /** Bytes queued and not yet written. */
  readonly bufferedAmount: number;
  /** The subprotocol the server chose (`''` if none, or not open yet). */
  readonly subprotocol: string;
  /** Whether it is over (closed, failed, or released before it started). */
  readonly done: boolean;
  /** Starts the handshake (once the connection is up and idle). */
  start(): void;
  /** Sends one message; `false` if the WebSocket is not open (the channel queues it). */
  send(data: WebSocketMessage): boolean;
  /** `close(code, reason)` from the user: once open (and flushed), send the close frame; complete on the echo. */
  close(code: number, reason: string): void;
  /** The last subscriber left: cancel the handshake, or close with 1000 and let it finish on its own. */
  release(): void;
  /**
   * Optional (Node): stops reading incoming messages off the socket until `resume`, so that the
   * server's sends block (asked for before the WebSocket opens, it applies once open). A browser's
   * WebSocket cannot: it has no backpressure on incoming messages.
   */
  pause?(): void;
  resume?(): void;
}

/** What a link needs of its connection (a narrow view of `Connection`, which satisfies it). */
export interface LinkConnection {
  subscribe(observer: Partial<Observer<ConnectionEvent>>): Subscription;
  /**
   * `Connection.upgrade()`, except that it completes right after `switched` (the socket is then
   * the link's, and its close is the link's to hear); unsubscribing before that cancels it.
   * `owner` is told of a shutdown under way at the switch; when the socket is the HTTP/1.1
   * connection's own, also of a later shutdown and of the socket's loss.
   */
  handOff(protocol: string, init: Omit<RequestInit, 'method' | 'body'>, owner: UpgradeOwner): Observable<ResponseEvent | Switched>;
  info(): { readonly protocol: Protocol | undefined; readonly state: ConnectionState; readonly origin: string };
}
