/**
 * Every error rxconn raises, each with a stable `code`. Messages name the option or the peer
 * behaviour at fault; `cause` carries the lower-level error where one exists.
 */

/** The stable codes of {@link RxconnError}. */
export type RxconnErrorCode =
  | 'RXCONN_INVALID_ARGUMENT'
  | 'RXCONN_CONNECT_TIMEOUT'
  | 'RXCONN_TLS'
  | 'RXCONN_DNS'
  | 'RXCONN_RETRIES_EXHAUSTED'
  | 'RXCONN_CONNECTION_DOWN'
  | 'RXCONN_CONNECTION_CLOSED'
  | 'RXCONN_STREAM_RESET'
  | 'RXCONN_STREAM_REFUSED'
  | 'RXCONN_NO_RESPONSE'
  | 'RXCONN_TIMEOUT'
  | 'RXCONN_SEND_TIMEOUT'
  | 'RXCONN_PROTOCOL'
  | 'RXCONN_KEEPALIVE_TIMEOUT'
  | 'RXCONN_WEBSOCKET_CLOSED'
  | 'RXCONN_QUEUE_FULL'
  | 'RXCONN_UNSUPPORTED'
  | 'RXCONN_INVALID_BODY'
  | 'RXCONN_PROXY';

/** Base class of every rxconn error. */
export abstract class RxconnError extends Error {
  abstract readonly code: RxconnErrorCode;
  /** Whether a new connection attempt may fix this failure (used by the reconnect loop). */
  readonly retryable: boolean = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** A bad origin, option, method, path or header. Thrown by `open()`; a request errors with it before anything is sent. */
export class InvalidArgumentError extends RxconnError {
  readonly code = 'RXCONN_INVALID_ARGUMENT';
  override readonly retryable = false;
}

/** Where a connect attempt through proxies was waiting (see {@link ConnectTimeoutError}). */
export interface ConnectWait {
  /** The proxy waited for (0 is the first), absent when waiting for the origin. */
  readonly hop?: number;
  /** That proxy, as `scheme://host:port` (no credentials). */
  readonly proxy?: string;
  /** What was awaited, in words (`for proxy 2 (http://…) to answer CONNECT host:443`). */
  readonly step: string;
}

/**
 * One connection attempt took longer than `connectTimeout` (which bounds the whole chain when
 * there are proxies: then `hop` and `proxy` name the silent proxy, and the message says what was
 * awaited).
 */
export class ConnectTimeoutError extends RxconnError {
  readonly code = 'RXCONN_CONNECT_TIMEOUT';
  /** The proxy that did not answer in time (0 is the first); absent when direct or waiting for the origin. */
  declare readonly hop?: number;
  /** That proxy, as `scheme://host:port` (no credentials). */
  declare readonly proxy?: string;
  constructor(
    readonly timeout: number,
    waiting?: ConnectWait,
  ) {
    super(`connect attempt exceeded connectTimeout (${timeout} ms)${waiting ? ` waiting ${waiting.step}` : ''}`);
    if (waiting?.hop !== undefined) Object.defineProperty(this, 'hop', { value: waiting.hop, enumerable: true });
    if (waiting?.proxy !== undefined) Object.defineProperty(this, 'proxy', { value: waiting.proxy, enumerable: true });
  }
}

/** The TLS handshake or the certificate check failed. Not retried: a new attempt cannot fix a certificate. */
export class TlsError extends RxconnError {
  readonly code = 'RXCONN_TLS';
  override readonly retryable = false;
}

/**
 * The origin's host name could not be resolved. `lookupCode` is the resolver's code:
 * `ENOTFOUND` (the name does not exist) is not retried, since a redial finds the same answer;
 * any other (`EAI_AGAIN`, a resolver timeout or failure) is an ordinary failed attempt, retried.
 */
export class DnsError extends RxconnError {
  readonly code = 'RXCONN_DNS';
  override readonly retryable: boolean;
  constructor(
    /** The name that was looked up. */
    readonly host: string,
    /** The resolver's error code (`ENOTFOUND`, `EAI_AGAIN`, ...). */
    readonly lookupCode: string,
    options?: { cause?: unknown },
  ) {
    super(`DNS lookup of ${JSON.stringify(host)} failed: ${lookupCode === 'ENOTFOUND' ? 'no such name (ENOTFOUND)' : lookupCode === 'EAI_AGAIN' ? 'the resolver did not answer in time (EAI_AGAIN)' : lookupCode}`, options);
    this.retryable = lookupCode !== 'ENOTFOUND';
  }
}

/** The connection gave up reconnecting; `cause` is the last failure. */
export class RetriesExhaustedError extends RxconnError {
  readonly code = 'RXCONN_RETRIES_EXHAUSTED';
  constructor(
    /** How many attempts were made in the outage that ended it. */
    readonly attempts: number,
    cause: unknown,
  ) {
    super(`connection gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${describe(cause)}`, { cause });
  }
}

/** The connection was lost while this stream was active. */
export class ConnectionDownError extends RxconnError {
  readonly code = 'RXCONN_CONNECTION_DOWN';
}

/** The request was made after `shutdown()`/`close()`, or the close killed it. */
export class ConnectionClosedError extends RxconnError {
  readonly code = 'RXCONN_CONNECTION_CLOSED';
  override readonly retryable = false;
}

/** The peer reset the stream (HTTP/2 RST_STREAM); `errorCode` is the HTTP/2 error code. */
export class StreamResetError extends RxconnError {
  readonly code = 'RXCONN_STREAM_RESET';
  constructor(
    readonly errorCode: number,
    message = `the peer reset the stream (HTTP/2 error code ${errorCode})`,
  ) {
    super(message);
  }
}

/** The server never processed the request (GOAWAY above last-stream-id, REFUSED_STREAM): safe to retry. */
export class StreamRefusedError extends RxconnError {
  readonly code = 'RXCONN_STREAM_REFUSED';
}

/**
 * The server closed the connection after this request was written and before any byte of its
 * response (HTTP/1.1, typically a reused idle socket the server was closing): it may or may not
 * have been processed. rxconn re-sends such a request once by itself only when its method is
 * idempotent and its body can be sent again; this error is for the others.
 */
export class NoResponseError extends RxconnError {
  readonly code = 'RXCONN_NO_RESPONSE';
}

/** A request's `timeout` elapsed. */
export class TimeoutError extends RxconnError {
  readonly code = 'RXCONN_TIMEOUT';
  constructor(readonly timeout: number) {
    super(`request exceeded its timeout (${timeout} ms)`);
  }
}

/**
 * A streamed request body waited longer than `sendTimeout` for the peer to take more bytes (a
 * peer that stopped reading). On HTTP/1.1 the connection goes with the request; on HTTP/2 only
 * the stream is reset.
 */
export class SendTimeoutError extends RxconnError {
  readonly code = 'RXCONN_SEND_TIMEOUT';
  constructor(readonly timeout: number) {
    super(`the peer took no more request body bytes for sendTimeout (${timeout} ms)`);
  }
}

/** The peer broke the protocol: malformed response, bad preface, oversized headers. */
export class ProtocolError extends RxconnError {
  readonly code = 'RXCONN_PROTOCOL';
}

/** No PING/pong answer within `keepalive.timeout`: the connection is treated as dead. */
export class KeepaliveTimeoutError extends RxconnError {
  readonly code = 'RXCONN_KEEPALIVE_TIMEOUT';
  constructor(readonly timeout: number) {
    super(`no keepalive answer within keepalive.timeout (${timeout} ms)`);
  }
}

/** The WebSocket closed abnormally. */
export class WebSocketClosedError extends RxconnError {
  readonly code = 'RXCONN_WEBSOCKET_CLOSED';
  constructor(
    readonly closeCode: number,
    readonly reason: string,
    message = `websocket closed with code ${closeCode}${reason ? ` (${reason})` : ''}`,
  ) {
    super(message);
  }
}

/** A bounded queue (waiting requests, queued WebSocket messages) is full. */
export class QueueFullError extends RxconnError {
  readonly code = 'RXCONN_QUEUE_FULL';
  override readonly retryable = false;
}

/** The operation does not exist on this connection's protocol (e.g. `ping()` on HTTP/1.1, a request on an upgraded socket). */
export class UnsupportedError extends RxconnError {
  readonly code = 'RXCONN_UNSUPPORTED';
  override readonly retryable = false;
}

/** A response body could not be decoded as asked (`json()` on text that is not JSON, `body({ maxBytes })` exceeded). */
export class InvalidBodyError extends RxconnError {
  readonly code = 'RXCONN_INVALID_BODY';
  override readonly retryable = false;
}

/** Why a proxy hop failed (see {@link ProxyError}). */
export type ProxyFailure =
  /** The first proxy could not be reached (refused, DNS, unreachable). */
  | 'unreachable'
  /** An HTTP proxy answered CONNECT with a status that is not 2xx (`status`). */
  | 'status'
  /** A SOCKS5 proxy answered CONNECT with a reply code that is not 0 (`socksReply`). */
  | 'socks-reply'
  /** A SOCKS5 proxy accepted none of the offered authentication methods. */
  | 'no-acceptable-method'
  /** A SOCKS5 proxy refused the username and password. */
  | 'auth-failed'
  /** The proxy closed the connection (or reset the stream) before the tunnel was up. */
  | 'closed'
  /** The proxy's answer broke its protocol (malformed, oversized). */
  | 'protocol';

/**
 * A proxy of the chain failed while the tunnel was being built. An ordinary failed attempt: the
 * connection retries it under its retry policy. `hop` is the proxy's index in the chain (0 is the
 * first one dialled); `proxy` names it without credentials. Credentials never appear in it.
 */
export class ProxyError extends RxconnError {
  readonly code = 'RXCONN_PROXY';
  /** What went wrong. */
  readonly reason: ProxyFailure;
  /** Index of the proxy in the chain, from 0. */
  readonly hop: number;
  /** The proxy, as `scheme://host:port` (no credentials). */
  readonly proxy: string;
  /** The HTTP status of a refused CONNECT (`reason: 'status'`). */
  declare readonly status?: number;
  /**
   * The SOCKS5 reply code REP (`reason: 'socks-reply'`): 1 general failure, 2 not allowed by
   * ruleset, 3 network unreachable, 4 host unreachable, 5 connection refused, 6 TTL expired,
   * 7 command not supported, 8 address type not supported.
   */
  declare readonly socksReply?: number;

  constructor(
    message: string,
    detail: { reason: ProxyFailure; hop: number; proxy: string; status?: number; socksReply?: number },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.reason = detail.reason;
    this.hop = detail.hop;
    this.proxy = detail.proxy;
    // Only the field that applies is present.
    if (detail.status !== undefined) Object.defineProperty(this, 'status', { value: detail.status, enumerable: true });
    if (detail.socksReply !== undefined) Object.defineProperty(this, 'socksReply', { value: detail.socksReply, enumerable: true });
  }
}

/** A short human description of any thrown value, for messages. */
export function describe(error: unknown): string {
  if (error instanceof RxconnError) return error.message;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|HOSTNAME_|ERR_OSSL_)/;

/** Maps a transport-level error (ECONNREFUSED, TLS alerts...) to an rxconn error, leaving rxconn errors as they are. */
export function toConnectionError(error: unknown): RxconnError {
  if (error instanceof RxconnError) return error;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && TLS_CODES.test(code)) {
    return new TlsError(`TLS handshake failed: ${describe(error)}`, { cause: error });
  }
  // A failed lookup: node's getaddrinfo errors carry `hostname` and a `syscall` of getaddrinfo.
  const { hostname, syscall } = (error ?? {}) as { hostname?: unknown; syscall?: unknown };
  if (typeof code === 'string' && syscall === 'getaddrinfo' && typeof hostname === 'string') {
    return new DnsError(hostname, code, { cause: error });
  }
  return new ConnectionDownError(`connection failed: ${describe(error)}`, { cause: error });
}
