/**
 * One WebSocket of a channel on the browser's native `WebSocket`: opened once the connection is
 * `connected`, to the same origin (`ws:`/`wss:`). A close without a close frame (1006) is
 * evidence that the origin is gone: the connection's current episode ends with it, as a Node
 * connection ends with its WebSocket, and it reconnects.
 */
import type { Observer, Subscription } from 'rxjs';
import { ConnectionClosedError, ConnectionDownError, TimeoutError, UnsupportedError } from '../core/errors.js';
import type { RxconnError } from '../core/errors.js';
import type { ConnectionEvent } from '../core/events.js';
import type { LinkConnection, LinkHooks, WebSocketLink, WebSocketMessage } from '../core/websocket/link.js';
import { ABNORMAL_CLOSURE, closeOutcome } from '../core/websocket/close-outcome.js';
import type { CloseInitiator } from '../core/websocket/close-outcome.js';
import type { ResolvedWebSocketOptions } from '../core/websocket/options.js';
import type { Monitor } from './monitor.js';

/** Close codes a page may send (the WebSocket API refuses the others). */
function sendable(code: number): boolean {
  return code === 1000 || (code >= 3000 && code <= 4999);
}

export class NativeLink implements WebSocketLink {
  readonly #connection: LinkConnection;
  readonly #url: string;
  readonly #monitor: Monitor;
  readonly #options: ResolvedWebSocketOptions;
  readonly #sink: Observer<WebSocketMessage>;
  readonly #hooks: LinkHooks;
  #events: Subscription | undefined;
  #ws: WebSocket | undefined;
  #opened = false;
  #initiator: CloseInitiator | undefined;
  #pendingClose: { readonly code: number; readonly reason: string } | undefined;
  #failure: RxconnError | undefined;
  #handshakeTimer: ReturnType<typeof setTimeout> | undefined;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #unhold: (() => void) | undefined;
  #done = false;

  constructor(connection: LinkConnection, monitor: Monitor, options: ResolvedWebSocketOptions, sink: Observer<WebSocketMessage>, hooks: LinkHooks) {
    this.#connection = connection;
    const origin = new URL(connection.info().origin);
    this.#url = (origin.protocol === 'https:' ? 'wss://' : 'ws://') + origin.host + options.path;
    this.#monitor = monitor;
    this.#options = options;
    this.#sink = sink;
    this.#hooks = hooks;
  }

  get bufferedAmount(): number {
    return this.#ws?.bufferedAmount ?? 0;
  }

  get isOpen(): boolean {
    return !this.#done && this.#opened && this.#initiator === undefined && this.#ws?.readyState === WebSocket.OPEN;
  }

  get subprotocol(): string {
    return this.#opened ? (this.#ws?.protocol ?? '') : '';
  }

  get done(): boolean {
    return this.#done;
  }

  /** Opens the WebSocket as soon as the connection is `connected`. */
  start(): void {
    if (this.#done) return;
    if (Object.keys(this.#options.headers).length > 0) {
      this.#end(new UnsupportedError('websocket options.headers cannot be sent from a browser: the WebSocket API sets the handshake headers itself'));
      return;
    }
    this.#events = this.#connection.subscribe({ next: this.#onConnectionEvent, error: () => this.#onConnectionEnd(), complete: () => this.#onConnectionEnd() });
    if (!this.#done && this.#connection.info().state === 'connected') this.#open();
  }

  send(data: WebSocketMessage): boolean {
    if (!this.isOpen) return false;
    this.#ws!.send(data);
    return true;
  }

  close(code: number, reason: string): void {
    if (!sendable(code)) throw new UnsupportedError(`close code ${code} cannot be sent from a browser: the WebSocket API allows only 1000 and 3000–4999`);
    if (this.#done) return;
    if (!this.#opened) this.#pendingClose ??= { code, reason };
    else this.#beginClose(code, reason, 'user');
  }

  release(): void {
    if (this.#done) return;
    if (!this.#opened) {
      this.#ws?.close();
      this.#end(undefined);
      return;
    }
    this.#beginClose(1000, '', 'release');
  }

  #open(): void {
    if (this.#ws || this.#done) return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.#url, [...this.#options.protocols]);
    } catch (error) {
      this.#end(new ConnectionDownError(`the WebSocket to ${this.#url} could not be created: ${(error as Error).message}`, { cause: error }));
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.#ws = ws;
    this.#unhold = this.#monitor.hold();
    ws.addEventListener('open', this.#onOpen);
    ws.addEventListener('message', this.#onMessage);
    ws.addEventListener('close', this.#onClose);
    const { handshakeTimeout } = this.#options;
    if (handshakeTimeout !== undefined) {
      this.#handshakeTimer = setTimeout(() => {
        this.#failure ??= new TimeoutError(handshakeTimeout);
        ws.close();
      }, handshakeTimeout);
    }
  }

  #beginClose(code: number, reason: string, initiator: CloseInitiator): void {
    const ws = this.#ws;
    if (this.#done || !ws) return;
    if (this.#initiator === undefined && ws.readyState === WebSocket.OPEN) {
      this.#initiator = initiator;
      ws.close(code, reason);
    }
    // A closing handshake has a bound; after it the link ends without the server's answer.
    this.#closeTimer ??= setTimeout(() => {
      this.#failure ??= new ConnectionClosedError(`the server did not answer the close frame within closeTimeout (${this.#options.closeTimeout} ms)`);
      this.#end(this.#failure, { code: ABNORMAL_CLOSURE, reason: '', error: this.#failure });
    }, this.#options.closeTimeout);
  }

  readonly #onConnectionEvent = (event: ConnectionEvent): void => {
    if (event.type === 'connected') this.#open();
    else if (event.type === 'closing' && event.initiator === 'client') {
      // The connection's graceful shutdown: close 1000 (a page may not send 1001) and wait for the echo.
      if (this.#opened) this.#beginClose(1000, 'shutdown', 'shutdown');
      else this.#pendingClose ??= { code: 1000, reason: 'shutdown' };
    }
  };

  /** The connection is closed or failed: nothing of the link may stay. */
  readonly #onConnectionEnd = (): void => {
    if (this.#done) return;
    this.#ws?.close();
    const error = new ConnectionClosedError('the connection was closed');
    this.#end(error, this.#opened ? { code: ABNORMAL_CLOSURE, reason: '', error } : undefined);
  };

  readonly #onOpen = (): void => {
    clearTimeout(this.#handshakeTimer);
    this.#opened = true;
    // The handshake's response headers are not visible to a page.
    this.#hooks.onOpen(this, {});
    const pending = this.#pendingClose;
    if (pending) this.#beginClose(pending.code, pending.reason, pending.reason === 'shutdown' ? 'shutdown' : 'user');
  };

  readonly #onMessage = (event: MessageEvent): void => {
    const data: unknown = event.data;
    this.#sink.next(typeof data === 'string' ? data : new Uint8Array(data as ArrayBuffer));
  };

  readonly #onClose = (event: CloseEvent): void => {
    clearTimeout(this.#handshakeTimer);
    if (!this.#opened) {
      // Refused or unreachable: a page learns nothing more (no status, no reason).
      this.#end(this.#failure ?? new ConnectionDownError(`the WebSocket to ${this.#url} closed before it opened (${event.code}): refused or unreachable`));
      return;
    }
    const { code, reason } = event;
    const lost = code === ABNORMAL_CLOSURE && this.#initiator === undefined;
    const error = closeOutcome({ code, reason, initiator: this.#initiator, failure: this.#failure, connectionLost: lost });
    this.#end(error, { code, reason, error });
    // No close frame: the origin (or the network) dropped it. That is evidence for the whole link.
    if (lost) this.#monitor.lost(new ConnectionDownError('a WebSocket of the connection closed abnormally (1006): the server closed it without a close frame'));
  };

  #end(error: RxconnError | undefined, end?: { readonly code: number; readonly reason: string; readonly error: RxconnError | undefined }): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#handshakeTimer);
    clearTimeout(this.#closeTimer);
    this.#events?.unsubscribe();
    const ws = this.#ws;
    if (ws) {
      ws.removeEventListener('open', this.#onOpen);
      ws.removeEventListener('message', this.#onMessage);
      ws.removeEventListener('close', this.#onClose);
    }
    this.#unhold?.();
    this.#hooks.onEnd(this, end);
    if (error) this.#sink.error(error);
    else this.#sink.complete();
  }
}
