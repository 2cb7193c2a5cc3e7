/**
 * One WebSocket on the connection, from the upgrade request to the socket's close: the
 * handshake, ws on the switched socket, keepalive, the closing handshakes (ours, the server's,
 * the connection's graceful shutdown) and the mapping of how it ended to complete or error.
 * A {@link WebSocketChannel} runs one link per shared subscription.
 */
import type { Socket } from 'node:net';
import type { Observer, Subscription } from 'rxjs';
import type WebSocket from 'ws';
import { ConnectionDownError, KeepaliveTimeoutError, ProtocolError, RxconnError, WebSocketClosedError, describe, toConnectionError } from '../../core/errors.js';
import type { ConnectionEvent, Headers } from '../../core/events.js';
import type { Switched, UpgradeOwner } from '../../core/session.js';
import type { LinkConnection, LinkEnd, LinkHooks, WebSocketLink, WebSocketMessage } from '../../core/websocket/link.js';
import { clientWebSocket } from './client-socket.js';
import { ABNORMAL_CLOSURE, closeCodeOf, closeOutcome } from '../../core/websocket/close-outcome.js';
import type { CloseInitiator } from '../../core/websocket/close-outcome.js';
import { checkNegotiated, checkSwitched, createKey, handshakeHeaders } from './handshake.js';
import { MAX_REFUSAL_BODY, WebSocketHandshakeError } from '../../core/websocket/handshake-error.js';
import { PingClock } from '../ping-clock.js';
import { OwnerTag } from '../owner-tag.js';
import type { PingPort } from '../ping-clock.js';
import type { ResolvedWebSocketOptions } from '../../core/websocket/options.js';


/** ws send options (no compression is negotiated); ws copies them, so they are shared. */
const TEXT = { binary: false, compress: false } as const;
const BINARY = { binary: true, compress: false } as const;
/** The connection's error is not the link's: its end reaches the link through the socket. */
const NOOP = (): void => {};
/** Where ws's (and the HTTP/2 stream's) listeners, static methods shared by every link, find their link. */
const LINK = new OwnerTag<Link>('rxconn.link');


/** The failure of a WebSocket whose socket failed with `error`. */
function connectionLost(error: Error): ConnectionDownError {
  return new ConnectionDownError(`the connection was lost: ${describe(error)}`, { cause: error });
}

/** A refused upgrade's answer, as it arrives. */
interface Refusal {
  readonly status: number;
  readonly headers: Headers;
  readonly chunks: Buffer[];
  size: number;
}

/** A WebSocket over an upgraded HTTP/1.1 socket, driven by ws in client mode. */
export class Link implements WebSocketLink, PingPort, UpgradeOwner {
  readonly #connection: LinkConnection;
  readonly #options: ResolvedWebSocketOptions;
  readonly #sink: Observer<WebSocketMessage>;
  readonly #hooks: LinkHooks;
  #upgrade: Subscription | undefined;
  /** The connection's events, over HTTP/2 only: on HTTP/1.1 the connection tells this link, its socket's owner, itself (see {@link onShutdown}). */
  #events: Subscription | undefined;
  #socket: Socket | undefined;
  #ws: WebSocket | undefined;
  #subprotocol = '';
  #pingClock: PingClock | undefined;
  #closeTimer: NodeJS.Timeout | undefined;
  /** Who started the closing handshake, if we did. */
  #initiator: CloseInitiator | undefined;
  /** A `close()` asked for before the WebSocket opened: done right after the queue is flushed. */
  #pendingClose: { readonly code: number; readonly reason: string } | undefined;
  #shutdown = false;
  #failure: RxconnError | undefined;
  #connectionLost = false;
  #done = false;
  /** A pull view is behind (see `WebSocketChannel.pull`): the socket is not read. */
  #paused = false;

  constructor(connection: LinkConnection, options: ResolvedWebSocketOptions, sink: Observer<WebSocketMessage>, hooks: LinkHooks) {
    this.#connection = connection;
    this.#options = options;
    this.#sink = sink;
    this.#hooks = hooks;
  }

  /** Whether messages can be sent now. */
  get isOpen(): boolean {
    return !this.#done && this.#initiator === undefined && this.#ws?.readyState === 1;
  }

  /** Bytes queued in ws and the socket, not yet written. */
  get bufferedAmount(): number {
    return this.#ws?.bufferedAmount ?? 0;
  }

  /** The subprotocol the server chose (`''` if none, or not open yet). */
  get subprotocol(): string {
    return this.#subprotocol;
  }

  /** Whether it is over (closed, failed, or released before it started). */
  get done(): boolean {
    return this.#done;
  }

  /** Sends the upgrade request (once the connection is up and idle). */
  start(): void {
    if (this.#done) return;
    const { path, headers, protocols, handshakeTimeout } = this.#options;
    const key = createKey();
    let refusal: Refusal | undefined;
    this.#upgrade = this.#connection
      .handOff('websocket', { path, headers: handshakeHeaders(key, protocols, headers), ...(handshakeTimeout !== undefined && { timeout: handshakeTimeout }) }, this)
      .subscribe({
        next: event => {
          switch (event.type) {
            case 'switched':
              this.#onSwitched(event, key);
              break;
            case 'response':
              refusal = { status: event.status, headers: event.headers, chunks: [], size: 0 };
              break;
            case 'data':
              if (refusal && refusal.size < MAX_REFUSAL_BODY) {
                const room = MAX_REFUSAL_BODY - refusal.size;
                const chunk = Buffer.from(event.data.buffer, event.data.byteOffset, Math.min(room, event.data.byteLength));
                refusal.chunks.push(Buffer.from(chunk));
                refusal.size += chunk.length;
              }
              break;
            default:
              break; // 1xx and trailers of a refusal: nothing to keep
          }
        },
        error: (error: unknown) => this.#end(this.#upgradeError(error)),
        complete: () => {
          // After a 101 the upgrade completes at once, the socket being ours: ws's 'close' ends the link.
          if (this.#socket) {
            this.#upgrade = undefined;
            return;
          }
          this.#end(
            refusal
              ? new WebSocketHandshakeError(`websocket handshake refused: the server answered ${refusal.status} instead of ${this.#overHttp2() ? '2xx' : '101'}`, refusal.status, refusal.headers, Buffer.concat(refusal.chunks))
              : new ProtocolError('websocket handshake failed: the upgrade ended without a response'),
          );
        },
      });
  }

  /** Stops reading the socket (ws's `pause()`): messages already read are still delivered. */
  pause(): void {
    this.#paused = true;
    this.#ws?.pause();
  }

  /** Reads the socket again. */
  resume(): void {
    this.#paused = false;
    this.#ws?.resume();
  }

  /** Sends one message; `false` if the WebSocket is not open (the channel queues it). */
  send(data: WebSocketMessage): boolean {
    if (!this.isOpen) return false;
    this.#ws!.send(data, typeof data === 'string' ? TEXT : BINARY);
    return true;
  }

  /** `close(code, reason)` from the user: once open (and flushed), send the close frame; complete on the echo. */
  close(code: number, reason: string): void {
    if (this.#done) return;
    if (!this.#ws) this.#pendingClose ??= { code, reason };
    else this.#beginClose(code, reason, 'user');
  }

  /** The last subscriber left: cancel the upgrade, or close with 1000 and let it finish on its own. */
  release(): void {
    if (this.#done) return;
    if (!this.#ws) {
      this.#end(undefined); // unsubscribing the upgrade cancels it
      return;
    }
    this.#beginClose(1000, '', 'release');
  }

  // ---- the handshake ----

  #upgradeError(raw: unknown): RxconnError {
    return toConnectionError(raw);
  }

  /** Whether the WebSocket runs as an RFC 8441 extended CONNECT stream of an HTTP/2 connection. */
  #overHttp2(): boolean {
    return this.#connection.info().protocol === 'http2';
  }

  #onSwitched(switched: Switched, key: string): void {
    const { head, headers } = switched;
    // The Node runtime's sessions hand over the net.Socket they were given (lib/node/http1-session.ts),
    // or on HTTP/2 the extended CONNECT's stream, a Duplex that ws runs on the same way.
    const socket = switched.socket as Socket;
    this.#socket = socket;
    let ws: WebSocket;
    try {
      // The switch's own protocol, not info(): that would read (and cache on the socket) its addresses.
      this.#subprotocol = switched.protocol === 'http2' ? checkNegotiated(headers, this.#options.protocols, 200) : checkSwitched(headers, key, this.#options.protocols);
      ws = clientWebSocket(socket, Buffer.from(head.buffer, head.byteOffset, head.byteLength), { maxPayload: this.#options.maxPayload });
    } catch (error) {
      // The socket is ours and speaks nothing we accept: destroy it (the connection reconnects).
      socket.destroy();
      this.#end(error instanceof RxconnError ? error : new ProtocolError(describe(error)));
      return;
    }
    this.#ws = ws;
    LINK.set(ws, this);
    ws.on('message', Link.#onMessage);
    ws.on('error', Link.#onWsError);
    ws.on('close', Link.#onWsClose);
    if (switched.protocol === 'http2') {
      // A stream is not the connection's socket: the connection's shutdown and loss come as
      // events, a reset as the stream's error. (An HTTP/1.1 socket's come through onShutdown and onClosed.)
      this.#events = this.#connection.subscribe({ next: event => this.#onConnectionEvent(event), error: NOOP });
      LINK.set(socket, this);
      socket.on('error', Link.#onSocketError);
    }
    const { keepalive } = this.#options;
    if (keepalive) {
      ws.on('pong', Link.#onPong);
      this.#pingClock = new PingClock(keepalive.interval, keepalive.timeout, this);
    }
    socket.resume();
    if (this.#paused) ws.pause();
    this.#hooks.onOpen(this, headers);
    if (this.#shutdown) this.#beginClose(1001, '', 'shutdown');
    else if (this.#pendingClose) this.#beginClose(this.#pendingClose.code, this.#pendingClose.reason, 'user');
  }

  // ---- keepalive (see `ping-clock.ts`) ----

  sendPing(): boolean {
    const ws = this.#ws;
    if (!ws || ws.readyState !== ws.OPEN) return false;
    ws.ping();
    return true;
  }

  pingTimedOut(timeout: number): void {
    const error = new KeepaliveTimeoutError(timeout);
    this.#failure ??= error;
    // Through the socket's 'error', the connection reports the loss with this cause, then reconnects.
    this.#socket?.destroy(error);
  }

  static #onPong(this: WebSocket): void {
    LINK.of(this).#pingClock?.answered();
  }

  // ---- closing ----

  #beginClose(code: number, reason: string, initiator: CloseInitiator): void {
    const ws = this.#ws;
    if (this.#done || !ws) return;
    if (this.#initiator === undefined && ws.readyState === 1) {
      this.#initiator = initiator;
      this.#pingClock?.stop();
      ws.close(code, reason);
    }
    this.#armCloseTimer();
  }

  /** A closing handshake always has a bound: `closeTimeout`, then the socket is destroyed. */
  #armCloseTimer(): void {
    if (this.#closeTimer || this.#done) return;
    const socket = this.#socket;
    this.#closeTimer = setTimeout(() => socket?.destroy(), this.#options.closeTimeout);
  }

  /** The connection's graceful shutdown: WebSocket's step is close 1001 and wait for the echo. */
  onShutdown(): void {
    if (this.#ws) this.#beginClose(1001, '', 'shutdown');
    else this.#shutdown = true;
  }

  /**
   * The HTTP/1.1 socket's session closed. A loss the connection reports means that a close without
   * a close frame is the server's doing; a socket error that ended it is this link's failure.
   */
  onClosed(error: RxconnError, lost: boolean): void {
    if (lost) this.#connectionLost = true;
    if (error.cause instanceof Error) this.#failure ??= connectionLost(error.cause);
  }

  /** Over HTTP/2 (see #onSwitched). */
  #onConnectionEvent(event: ConnectionEvent): void {
    if (event.type === 'closing' && event.initiator === 'client') this.onShutdown();
    else if (event.type === 'disconnected') this.#connectionLost = true;
  }

  // ---- the WebSocket's events (shared listeners: `this` is the ws object, or the HTTP/2 stream) ----

  static #onMessage(this: WebSocket, data: WebSocket.RawData, isBinary: boolean): void {
    // binaryType is ws's default, 'nodebuffer': `data` is one Buffer (fragments already joined).
    const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? Buffer.from(data) : data;
    // Binary: the Buffer itself (a Uint8Array), no copy, as the connection's `data` events do.
    LINK.of(this).#sink.next(isBinary ? bytes : bytes.toString('utf8'));
  }

  static #onWsError(this: WebSocket, error: Error): void {
    const link = LINK.of(this);
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('WS_ERR_')) {
      // The server broke the protocol; ws answers with a close frame (1002, 1007, 1009...).
      const closeCode = closeCodeOf(code);
      link.#failure ??= new WebSocketClosedError(closeCode, error.message, `websocket protocol error: ${error.message} (closed with ${closeCode})`);
      link.#pingClock?.stop();
      link.#armCloseTimer();
    } else {
      link.#failure ??= connectionLost(error);
    }
  }

  /** The HTTP/2 stream's error (see #onSwitched). */
  static #onSocketError(this: Socket, error: Error): void {
    // A reset of the WebSocket's stream (RST_STREAM) ends this WebSocket, not the connection.
    const reset = (error as { code?: unknown }).code === 'ERR_HTTP2_STREAM_ERROR';
    LINK.of(this).#failure ??= reset ? new WebSocketClosedError(ABNORMAL_CLOSURE, '', `websocket closed abnormally (1006): the server reset its HTTP/2 stream: ${describe(error)}`) : connectionLost(error);
  }

  static #onWsClose(this: WebSocket, code: number, reasonBytes: Buffer): void {
    const link = LINK.of(this);
    const reason = reasonBytes.toString('utf8');
    if (code === ABNORMAL_CLOSURE && link.#initiator === undefined && !link.#connectionLost && link.#overHttp2()) {
      // The stream ended (END_STREAM, or RST_STREAM(CANCEL), which node reports without an error) before any close frame.
      link.#failure ??= new WebSocketClosedError(code, '', 'websocket closed abnormally (1006): the server ended its HTTP/2 stream without a close frame');
    }
    const error = closeOutcome({ code, reason, initiator: link.#initiator, failure: link.#failure, connectionLost: link.#connectionLost });
    link.#end(error, { code, reason, error });
  }

  /** The link is over: release everything, tell the channel, then the subscribers. */
  #end(error: RxconnError | undefined, end?: LinkEnd): void {
    if (this.#done) return;
    this.#done = true;
    this.#pingClock?.stop();
    clearTimeout(this.#closeTimer);
    this.#events?.unsubscribe();
    this.#upgrade?.unsubscribe();
    this.#socket?.off('error', Link.#onSocketError);
    this.#hooks.onEnd(this, end);
    if (error) this.#sink.error(error);
    else this.#sink.complete();
  }
}
