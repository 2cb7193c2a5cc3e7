/**
 * The events of a connection and of a response, as discriminated unions on `type`.
 */
import type { RxconnError } from './errors.js';

/** A wire protocol a connection can speak. */
export type Protocol = 'http1' | 'http2';

/** Where a connection is in its life. `closed` and `failed` are final. */
export type ConnectionState = 'connecting' | 'connected' | 'disconnected' | 'closing' | 'closed' | 'failed';

/** Response or trailer headers: lower-case names; repeated fields become arrays (`set-cookie` always is). */
export type Headers = Record<string, string | string[]>;

/** A dial begins; `attempt` counts the attempts of the current outage (0 is the very first dial). */
export interface ConnectingEvent { readonly type: 'connecting'; readonly attempt: number }
/** The connection is usable. */
export interface ConnectedEvent {
  readonly type: 'connected';
  readonly protocol: Protocol;
  readonly attempt: number;
  /** The proxies the connection goes through, first dialled first; absent on a direct connection. */
  readonly intermediaries?: readonly Intermediary[];
}

/** One proxy of a connection's chain, as `info()` and the `connected` event report it (never its credentials). */
export interface Intermediary {
  /** `connect`: an HTTP proxy (CONNECT); `socks5`: a SOCKS5 proxy. */
  readonly type: 'connect' | 'socks5';
  /** The proxy's host (an IPv6 address without brackets). */
  readonly host: string;
  readonly port: number;
  /** How rxconn reaches the proxy: `tls` for an `https://` proxy. */
  readonly transport: 'tcp' | 'tls';
  /** What rxconn speaks to the proxy: HTTP/1.1 or HTTP/2 CONNECT, or SOCKS5. */
  readonly protocol: 'http1' | 'http2' | 'socks5';
}
/** An established connection was lost; `killedStreams` counts the active streams that errored with it. */
export interface DisconnectedEvent {
  readonly type: 'disconnected';
  readonly protocol: Protocol | 'websocket';
  readonly error: RxconnError;
  readonly killedStreams: number;
  /** Set when the server ended the connection with an HTTP/2 GOAWAY. */
  readonly goaway?: GoawayInfo;
}
/** The next attempt is scheduled `delay` ms from now. */
export interface RetryingEvent { readonly type: 'retrying'; readonly attempt: number; readonly delay: number; readonly error: RxconnError }
/** An HTTP/1.1 connection switched protocol (`'websocket'`, or what `upgrade()` asked for). */
export interface UpgradedEvent { readonly type: 'upgraded'; readonly protocol: 'websocket' | (string & {}) }
/** A graceful close began: by `shutdown()`, or by the server (GOAWAY, `connection: close`, WebSocket close). */
export interface ClosingEvent {
  readonly type: 'closing';
  readonly activeStreams: number;
  /** Who started it. */
  readonly initiator: 'client' | 'server';
  /**
   * The server's close was planned (`connection: close`, GOAWAY(NO_ERROR), an idle close) and the
   * connection proved itself: a rotation. The replacement is dialled at once, without backoff, and
   * `state$` stays `connected` unless that dial fails. Absent for the client's own closes.
   */
  readonly rotation?: boolean;
  readonly goaway?: GoawayInfo;
}
/** The last event; the event stream completes right after it. */
export interface ClosedEvent { readonly type: 'closed' }

/** A connection lifecycle event. */
export type ConnectionEvent =
  | ConnectingEvent
  | ConnectedEvent
  | DisconnectedEvent
  | RetryingEvent
  | UpgradedEvent
  | ClosingEvent
  | ClosedEvent;

/** What a server said in an HTTP/2 GOAWAY frame. */
export interface GoawayInfo {
  /** The HTTP/2 error code (0 is NO_ERROR, a graceful close). */
  readonly errorCode: number;
  /** Streams above this id were never processed. */
  readonly lastStreamId: number;
  /** The opaque debug data, as UTF-8 text. */
  readonly debugData: string;
}

/** A 1xx informational response (100 Continue, 103 Early Hints). */
export interface InformEvent { readonly type: 'inform'; readonly status: number; readonly headers: Headers }
/** The final response head. An HTTP error status is a response, not an error. */
export interface ResponseHeadEvent { readonly type: 'response'; readonly status: number; readonly headers: Headers }
/** A chunk of the response body. */
export interface DataEvent { readonly type: 'data'; readonly data: Uint8Array }
/** Trailer fields after the body. */
export interface TrailersEvent { readonly type: 'trailers'; readonly headers: Headers }

/** An event of one response; the stream completes at the end of the response. */
export type ResponseEvent = InformEvent | ResponseHeadEvent | DataEvent | TrailersEvent;
