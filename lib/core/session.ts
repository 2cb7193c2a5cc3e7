/**
 * The one interface between the protocol-agnostic connection core and a protocol module
 * (HTTP/1.1, HTTP/2). Protocol modules report facts through a {@link SessionListener}; the core
 * decides about queues, retries and events.
 */
import type { Observable } from 'rxjs';
import type { RxconnError } from './errors.js';
import type { GoawayInfo, Headers, Protocol, ResponseEvent } from './events.js';
import type { PreparedRequest } from './request-init.js';

/**
 * What the core needs of a runtime's transport handle (a Node socket satisfies it): its
 * addresses for `info()`, ending it, and hearing that it has ended.
 */
export interface Endpoint {
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  /** Whether it has closed; a handle without it counts as open until its `close`. */
  readonly closed?: boolean;
  /** Ends it now. */
  destroy(): void;
  /** Calls `listener` once it has ended. */
  once(event: 'close', listener: () => void): unknown;
}

/**
 * Pauses and resumes the delivery of one stream's response data (Gun's `flow`). While paused the
 * session stops reading it off the wire (HTTP/1.1: the socket is paused; HTTP/2: the stream is
 * paused, so no WINDOW_UPDATE is sent), and the server's sends block once the window or socket
 * buffers are full. Both are idempotent; calls after the stream ended are ignored. A cancel
 * resumes reading by itself when the session needs to (to drop the rest of a response).
 */
export interface StreamFlow {
  /** Stops reading the stream's data off the wire. */
  pause(): void;
  /** Reads it again. */
  resume(): void;
}

/** Where a session delivers one stream's events. Calls after `error`/`complete` are ignored. */
export interface StreamSink {
  /**
   * Optional: a session that can pause a stream hands its {@link StreamFlow} here once, when it
   * starts a stream, before any event; it may skip it for a request without a `flow` (nothing
   * would use it). Sessions that cannot pause never call it.
   */
  flow?(control: StreamFlow): void;
  /**
   * Optional: `false` when nobody hears informational responses (1xx, `inform` events), as
   * when a collecting operator receives the stream. A session may then not listen for them at
   * all; absent means they are heard.
   */
  readonly informs?: boolean;
  next(event: ResponseEvent): void;
  /** A stream-level failure (reset, refused, protocol error of this response), or the request body Observable's own error, passed through unchanged. */
  error(error: Error): void;
  /** The response ended. */
  complete(): void;
  /**
   * The server did not process this stream, so the core may send it again on another session.
   * `certain` when the protocol guarantees it (HTTP/2: above a GOAWAY's last-stream-id, or
   * REFUSED_STREAM); otherwise it is likely but unproven (HTTP/1.1: a reused idle socket closed
   * before any response byte), and the core re-sends only an idempotent request. The core errors
   * the stream with `error` when it does not send it again (body not replayable, method not
   * idempotent, re-send budget spent). The session must have stopped the stream on the wire.
   */
  unprocessed(error: RxconnError, certain: boolean): void;
}

/** A socket handed over by a protocol upgrade (HTTP/1.1 101 Switching Protocols). */
export interface Switched {
  readonly type: 'switched';
  /** The protocol of the session that switched: `http1` (a 101), or `http2` (an RFC 8441 extended CONNECT, whose stream is the socket). */
  readonly protocol: Protocol;
  /** The socket, now speaking the new protocol; whoever holds it owns it (in Node, a `net.Socket`). */
  readonly socket: Endpoint;
  /** Bytes already read past the 101 response: the first bytes of the new protocol. */
  readonly head: Uint8Array;
  /** The 101 response's headers. */
  readonly headers: Headers;
}

/**
 * Who holds an upgraded socket (a WebSocket link), told directly by the connection what concerns
 * it: methods on an object it already has, rather than a subscription to the connection's events
 * that an idle WebSocket would carry for hours. A shutdown under way at the switch is told at
 * once; a later one, and the socket's close, only when the socket is the HTTP/1.1 connection's
 * own (an HTTP/2 stream's holder listens to the connection's events and to its stream).
 */
export interface UpgradeOwner {
  /** The connection began a graceful shutdown: the upgraded protocol's own closing handshake is due. */
  onShutdown(): void;
  /**
   * The socket's session closed with `error` (whose `cause` is the socket's own error, when one
   * ended it); `lost` when the connection reports the loss (`disconnected`), rather than having
   * closed the socket itself.
   */
  onClosed(error: RxconnError, lost: boolean): void;
}

/** Where an upgrade request's events go: a 101 ends in `switched`; any other response flows as usual. */
export interface UpgradeSink extends StreamSink {
  switched(switched: Switched): void;
}

/** What a session tells the core. Every method may be called synchronously from any session call. */
export interface SessionListener {
  /** The session is ready for streams (HTTP/2: the server's SETTINGS arrived). Called once. */
  onReady(): void;
  /** A stream slot became free: the core may start queued requests. */
  onCapacity(): void;
  /**
   * The peer began a planned close (HTTP/2 GOAWAY, HTTP/1.1 `connection: close`, or the server
   * closing an idle HTTP/1.1 socket, or the session retiring an idle socket before the server's
   * keep-alive timeout): no new stream may start here; the active ones may finish. The core
   * treats it as a rotation (dials the replacement at once, no backoff) rather than an outage.
   * Streams the server will never process have already been handed back with
   * `StreamSink.unprocessed`. Call it before `onClose` for a close that was planned.
   */
  onDraining(detail: { readonly goaway?: GoawayInfo; readonly reason: string }): void;
  /**
   * The session is gone (socket closed, protocol error, keepalive timeout, or after
   * `shutdown`/`destroy`). Called exactly once, last. Streams still active are the core's to
   * fail: the session does not error them.
   */
  onClose(error: RxconnError): void;
}

/** What a session returns for a stream it started: how the core stops it. */
export interface StreamHandle {
  /**
   * Called only while the stream is still in flight (after the core has settled it): stops it
   * on the wire (HTTP/2: RST_STREAM(CANCEL)) and keeps the session usable.
   */
  cancel(): void;
}

/** The handle of a stream that did not start (it was refused or failed at once): nothing to stop. */
export const NOT_STARTED: StreamHandle = Object.freeze({ cancel: () => undefined });

/** One protocol session over one socket. */
export interface Session {
  readonly protocol: Protocol;
  /** The transport handle (a socket in Node; a stand-in in the browser). */
  readonly socket: Endpoint;
  /** Whether a new stream may start now (a free slot, not draining, not closed). */
  canStart(): boolean;
  /**
   * Starts one stream for a validated request; its events go to `sink`. Only called when
   * {@link canStart} is true. Returns the stream's handle (an object the session has anyway,
   * such as its stream: no closure per request).
   */
  start(request: PreparedRequest, sink: StreamSink): StreamHandle;
  /** Graceful close: refuse new streams, let active ones finish, then close (HTTP/2: GOAWAY(NO_ERROR)). The core bounds it with `closeTimeout`. */
  shutdown(): void;
  /** Abrupt close: the socket is destroyed now; `onClose(error)` follows. Idempotent. */
  destroy(error: RxconnError): void;
  /**
   * HTTP/1.1 only: sends `request` with `connection: upgrade` and `upgrade: <protocol>`. On a
   * 101 it stops reading the socket and hands it to `sink.switched`; from then on it starts no
   * stream and reports `onClose` when the socket closes. Any other response is delivered as a
   * normal stream and the session stays usable. Returns the stream's handle, as `start` does.
   */
  upgrade?(request: PreparedRequest, protocol: string, sink: UpgradeSink): StreamHandle;
  /** Round-trip time of one keepalive ping, in ms, where the protocol has one. */
  ping?(): Observable<number>;
}
