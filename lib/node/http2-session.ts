/**
 * The HTTP/2 session: one `node:http2` client session on an already connected socket (TLS with
 * ALPN `h2`, or cleartext prior-knowledge h2c), every request one stream on it.
 *
 * It reports facts to the core through its {@link SessionListener}: ready when the server's
 * SETTINGS arrived, a free slot whenever a stream closes (or the server raises its
 * `maxConcurrentStreams`), draining on a server GOAWAY, and its close, exactly once and last.
 */
import http2 from 'node:http2';
import type { ClientHttp2Session, Settings } from 'node:http2';
import type { Socket } from 'node:net';
import { Observable } from 'rxjs';
import type { RxconnError } from '../core/errors.js';
import {
  ConnectionClosedError,
  ConnectionDownError,
  KeepaliveTimeoutError,
  ProtocolError,
  StreamRefusedError,
  describe,
} from '../core/errors.js';
import type { GoawayInfo } from '../core/events.js';
import { errorCodeName } from './http2-headers.js';
import { foreignAckError, sendPing } from './http2-ping.js';
import { PingClock } from './ping-clock.js';
import type { PingPort } from './ping-clock.js';
import { watchSettingsAck } from './http2-settings-ack.js';
import { startHttp2Request } from './http2-stream.js';
import type { Http2Request, Http2StreamOwner } from './http2-stream.js';
import type { ResolvedOptions } from '../core/options.js';
import type { PreparedRequest } from '../core/request-init.js';
import { NOT_STARTED } from '../core/session.js';
import type { Session, SessionListener, StreamHandle, StreamSink, UpgradeSink } from '../core/session.js';
import { startExtendedConnect } from './websocket/extended-connect.js';
import type { SessionFactory } from './protocols.js';
import { OwnerTag } from './owner-tag.js';

/** Client stream ids are odd and end at 2^31-1: past this many streams the session drains. */
const MAX_STREAMS_PER_SESSION = 2 ** 30 - 1;
/** SETTINGS_INITIAL_WINDOW_SIZE we advertise: how far ahead the server may send on one stream. */
const STREAM_WINDOW = 1024 * 1024;
/** Our connection-level receive window, across all streams. */
const CONNECTION_WINDOW = 16 * 1024 * 1024;

/** Where node's session's listeners, static methods shared by every session, find their session. */
const SESSION = new OwnerTag<Http2Session>('rxconn.http2Session');

class Http2Session implements Session, Http2StreamOwner, PingPort {
  readonly protocol = 'http2';
  readonly socket: Socket;
  readonly session: ClientHttp2Session;
  readonly scheme: 'http' | 'https';
  readonly authority: string;
  readonly maxHeaderSize: number;
  readonly sendTimeout: number;
  readonly #listener: SessionListener;
  readonly #streams = new Set<Http2Request>();
  /** Extended CONNECT streams handed over (WebSockets, RFC 8441): they hold a slot and keep a draining session open. */
  #tunnels: Set<object> | undefined;
  /** The server's SETTINGS_MAX_CONCURRENT_STREAMS, cached (node's getter reads the native state each time). */
  #maxStreams = 0;
  #started = 0;
  #ready = false;
  /** No new stream may start: our shutdown, a server GOAWAY, or stream ids running out. */
  #draining = false;
  #shuttingDown = false;
  #goaway: GoawayInfo | undefined;
  /** `onClose` was called. */
  #closed = false;
  /** Why the session is ending, first cause wins. */
  #reason: RxconnError | undefined;
  readonly #keepalive: ResolvedOptions['keepalive'];
  #pingClock: PingClock | undefined;
  readonly #lingerMs: number;
  #linger: NodeJS.Timeout | undefined;

  constructor(socket: Socket, options: ResolvedOptions, listener: SessionListener) {
    this.socket = socket;
    this.#listener = listener;
    this.scheme = options.secure ? 'https' : 'http';
    this.authority = options.authority;
    this.maxHeaderSize = options.maxHeaderSize;
    this.sendTimeout = options.sendTimeout;
    this.session = http2.connect(options.origin, {
      createConnection: () => socket,
      // maxSessionMemory stays at node's 10 MB: it bounds all of node's per-session buffers
      // (HPACK tables, queued frames), not one header block, so it is unrelated to maxHeaderSize.
      settings: {
        // Server push is refused: SETTINGS_ENABLE_PUSH=0, so a conforming server never
        // sends PUSH_PROMISE, and node treats one as a connection error.
        enablePush: false,
        // Advertised to the server; node resets a stream whose response headers exceed it
        // (ENHANCE_YOUR_CALM) once the server acknowledged our SETTINGS. Before that,
        // http2-stream.ts checks the size itself.
        maxHeaderListSize: options.maxHeaderSize,
        // Flow control: node's default 64 KiB stream window makes any larger response wait a
        // round trip per window. Data events go to the sink synchronously as they arrive (see
        // http2-stream.ts), so a larger window costs no buffering in rxconn; it only lets the
        // server send further ahead.
        initialWindowSize: STREAM_WINDOW,
      },
    });
    const session = this.session;
    SESSION.set(session, this);
    session.on('remoteSettings', Http2Session.#onRemoteSettings);
    session.on('goaway', Http2Session.#onGoaway);
    session.on('error', Http2Session.#onError);
    session.on('close', Http2Session.#onSessionClose);
    this.#keepalive = options.keepalive;
    this.#lingerMs = Math.min(options.closeTimeout, 1_000);
    const settingsTimeout = options.connectTimeout;
    watchSettingsAck(session, settingsTimeout, () => {
      if (this.#closed) return;
      // GOAWAY(SETTINGS_TIMEOUT), as RFC 9113 §6.5.3 asks, then the session is gone.
      const error = new ProtocolError(`the server did not acknowledge our HTTP/2 SETTINGS within connectTimeout (${settingsTimeout} ms): closed with SETTINGS_TIMEOUT`);
      session.destroy(error, http2.constants.NGHTTP2_SETTINGS_TIMEOUT);
      this.destroy(error);
    });
  }

  canStart(): boolean {
    return this.#ready && !this.#draining && this.#streams.size + (this.#tunnels?.size ?? 0) < this.#maxStreams;
  }

  start(request: PreparedRequest, sink: StreamSink): StreamHandle {
    if (!this.canStart()) {
      // The core only starts streams when canStart() is true; a slip goes back to it unsent.
      sink.unprocessed(new StreamRefusedError(`the HTTP/2 session cannot start a stream now (${this.#streams.size} of ${this.#maxStreams} active${this.#draining ? ', draining' : ''}): the request was not sent`), true);
      return NOT_STARTED;
    }
    const stream = startHttp2Request(this, request, sink);
    if (stream === undefined) return NOT_STARTED;
    this.#streams.add(stream);
    if (++this.#started >= MAX_STREAMS_PER_SESSION) this.#drainOnOurSide('stream ids are running out on this session');
    return stream;
  }

  /** RFC 8441: an upgrade here is an extended CONNECT stream (see `websocket/extended-connect.ts`). */
  upgrade(request: PreparedRequest, protocol: string, sink: UpgradeSink): StreamHandle {
    return startExtendedConnect(this, request, protocol, sink);
  }

  /** An extended CONNECT stream was handed over (`open`) or has closed. */
  tunnel(stream: object, open: boolean): void {
    if (open) (this.#tunnels ??= new Set()).add(stream);
    else if (this.#tunnels?.delete(stream) && !this.isGone()) this.#afterStreamClosed();
  }

  shutdown(): void {
    if (this.#closed || this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.#draining = true;
    this.#reason ??= new ConnectionClosedError('the connection was shut down');
    // GOAWAY(NO_ERROR); node destroys the session once the last active stream has closed. It
    // waits one turn of the event loop: nghttp2 puts control frames ahead of HEADERS still
    // queued from this tick, and a server seeing our GOAWAY first would close with a last
    // stream id below those streams and refuse them. Node flushes queued frames in a native
    // immediate, which runs before ours.
    setImmediate(() => {
      if (this.#closed) return;
      this.session.close();
      this.#lingerWhenIdle();
    });
  }

  destroy(error: RxconnError): void {
    if (this.#closed) return;
    this.#reason = error;
    this.#draining = true;
    for (const stream of this.#streams) stream.completeIfEnded();
    this.session.destroy();
    this.socket.destroy();
    this.#finish();
  }

  ping(): Observable<number> {
    return new Observable<number>(subscriber => {
      if (this.#closed || this.session.destroyed) {
        subscriber.error(new ConnectionClosedError('ping(): the HTTP/2 session is closed'));
        return;
      }
      try {
        sendPing(this.session, (error, duration, foreign) => {
          if (error) subscriber.error(new ConnectionDownError(`ping(): no PING answer: ${describe(error)}`, { cause: error }));
          else if (foreign) {
            const violation = foreignAckError();
            subscriber.error(violation);
            this.destroy(violation);
          } else {
            subscriber.next(duration);
            subscriber.complete();
          }
        });
      } catch (error) {
        subscriber.error(new ConnectionClosedError(`ping(): ${describe(error)}`, { cause: error }));
      }
    });
  }

  /** Keepalive (see `ping-clock.ts`): one PING. */
  sendPing(): boolean {
    try {
      // A closure per ping (one every keepalive interval) rather than one held by every idle session.
      sendPing(this.session, (error, _duration, foreign) => this.#pingAcked(error, foreign));
      return true;
    } catch {
      return false; // already destroyed: its close event reports why
    }
  }

  pingTimedOut(timeout: number): void {
    this.destroy(new KeepaliveTimeoutError(timeout));
  }

  /**
   * A keepalive PING's ACK. An error (ERR_HTTP2_PING_CANCEL) means the session is going away and
   * reports why itself; an ACK that does not echo our payload is a protocol violation.
   */
  #pingAcked(error: Error | null, foreign: boolean): void {
    if (error) this.#pingClock?.stop();
    else if (!foreign) this.#pingClock?.answered();
    else {
      this.#pingClock?.stop();
      this.destroy(foreignAckError());
    }
  }

  isGone(): boolean {
    return this.#closed || this.session.destroyed;
  }

  release(stream: Http2Request): void {
    if (!this.#streams.delete(stream) || this.isGone()) return;
    this.#afterStreamClosed();
  }

  #afterStreamClosed(): void {
    if (this.canStart()) this.#listener.onCapacity();
    else this.#lingerWhenIdle();
  }

  /**
   * Draining and idle: node has ended its side of the socket and waits for the peer to close
   * its own. Wait at most `min(closeTimeout, 1 s)` for that, then destroy the socket, so that a
   * peer that never closes (or keeps streams we no longer have) cannot hold the session open.
   */
  #lingerWhenIdle(): void {
    if (!this.#draining || this.#streams.size + (this.#tunnels?.size ?? 0) > 0 || this.#closed || this.#linger !== undefined) return;
    this.#linger = setTimeout(() => {
      this.#linger = undefined;
      this.session.destroy();
      this.socket.destroy();
    }, this.#lingerMs);
  }

  /** Our own reason to stop starting streams here: finish the active ones, then close. */
  #drainOnOurSide(reason: string): void {
    if (this.#draining) return;
    this.#reason ??= new ConnectionDownError(`the session closed after its last stream: ${reason}`);
    this.shutdown();
    this.#listener.onDraining({ reason });
  }

  static #onRemoteSettings(this: ClientHttp2Session, settings: Settings): void {
    SESSION.of(this).#remoteSettings(settings);
  }

  #remoteSettings(settings: Settings): void {
    const previous = this.#maxStreams;
    this.#maxStreams = settings.maxConcurrentStreams ?? 2 ** 32 - 1;
    if (this.#closed) return;
    if (!this.#ready) {
      this.#ready = true;
      // The connection window bounds all streams together (node's default is 64 KiB as well).
      if (!this.session.destroyed) this.session.setLocalWindowSize(CONNECTION_WINDOW);
      if (this.#keepalive) {
        this.#pingClock = new PingClock(this.#keepalive.interval, this.#keepalive.timeout, this);
      }
      this.#listener.onReady();
    } else if (this.#maxStreams > previous && this.canStart()) {
      this.#listener.onCapacity();
    }
  }

  static #onGoaway(this: ClientHttp2Session, errorCode: number, lastStreamId: number, data?: Buffer): void {
    SESSION.of(this).#goawayReceived(errorCode, lastStreamId, data);
  }

  #goawayReceived(errorCode: number, lastStreamId: number, data?: Buffer): void {
    if (this.#closed) return;
    this.#draining = true;
    // node closes the streams above lastStreamId itself (REFUSED_STREAM) right after this
    // event, or, for an error code, destroys the whole session: settle them first.
    for (const stream of this.#streams) {
      const id = stream.id;
      if (id === undefined || id > lastStreamId) stream.refuse(lastStreamId);
      // An error code makes node destroy the session right after this event.
      else if (errorCode !== 0) stream.completeIfEnded();
    }
    this.#lingerWhenIdle();
    if (this.#goaway !== undefined || this.#shuttingDown) return;
    const goaway: GoawayInfo = { errorCode, lastStreamId, debugData: data?.toString('utf8') ?? '' };
    this.#goaway = goaway;
    const reason = `the server sent GOAWAY with ${errorCodeName(errorCode)}, last stream id ${lastStreamId}${goaway.debugData ? ` (${JSON.stringify(goaway.debugData)})` : ''}`;
    this.#reason ??= new ConnectionDownError(`the server closed the connection: ${reason}`);
    this.#listener.onDraining({ goaway, reason });
  }

  static #onError(this: ClientHttp2Session, error: Error): void {
    SESSION.of(this).#failed(error);
  }

  #failed(error: Error): void {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_HTTP2_ERROR') {
      this.#reason ??= new ProtocolError(
        this.#ready
          ? `the server broke the HTTP/2 protocol: ${error.message}`
          : `the server did not answer with an HTTP/2 preface: ${error.message}`,
        { cause: error },
      );
    } else {
      this.#reason ??= new ConnectionDownError(`the connection was lost: ${describe(error)}`, { cause: error });
    }
  }

  static #onSessionClose(this: ClientHttp2Session): void {
    SESSION.of(this).#closedByNode();
  }

  #closedByNode(): void {
    this.#reason ??= new ConnectionDownError('the server closed the connection');
    this.#finish();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#draining = true;
    this.#pingClock?.stop();
    this.#pingClock = undefined;
    if (this.#linger !== undefined) clearTimeout(this.#linger);
    this.#linger = undefined;
    this.#listener.onClose(this.#reason ?? new ConnectionDownError('the server closed the connection'));
  }
}

/**
 * Creates the HTTP/2 session on a connected socket (see {@link SessionFactory}). Server push is
 * refused (SETTINGS_ENABLE_PUSH=0). `listener.onReady()` follows the server's SETTINGS.
 *
 * @example
 * const session = createHttp2Session(socket, resolveOptions('http://127.0.0.1:8080', { protocols: ['http2'] }), listener);
 */
export const createHttp2Session: SessionFactory = (socket, options, listener) => new Http2Session(socket, options, listener);
