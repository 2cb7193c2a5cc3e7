/**
 * HTTP/1.1 over the connection's one socket. One request at a time (no pipelining: a request
 * waits in the core's queue until the previous response has ended), keep-alive between them.
 *
 * Cancelling an in-flight request keeps the socket when it can: once the request is fully
 * written, the rest of the response is read and dropped within bounds (http1-discard.ts); a
 * request cancelled while its body is still being sent closes the socket instead, and the
 * connection reconnects.
 *
 * Never desynchronised: the next request is written only after the read that ended the previous
 * response has been parsed to its end, and any byte of that read (or of a later one) that belongs
 * to no request is a protocol error that closes the socket, the queued requests going to a fresh
 * one.
 *
 * Planned closes: a response that closes the connection, the server closing an idle keep-alive
 * socket, or this session retiring an idle socket shortly before the server's
 * `Keep-Alive: timeout=N` hint expires (http1-keep-alive.ts), are reported with `onDraining` before `onClose`.
 * A request written onto a reused socket that the server closes before any byte of the response
 * goes back to the core with `unprocessed(…, false)`: the server may not have processed it.
 */
import type { Socket } from 'node:net';
import { ConnectionClosedError, ConnectionDownError, NoResponseError, ProtocolError, RxconnError, SendTimeoutError, describe } from '../core/errors.js';
import type { Headers } from '../core/events.js';
import type { ResolvedOptions } from '../core/options.js';
import type { PreparedRequest } from '../core/request-init.js';
import type { Session, SessionListener, StreamHandle, StreamSink, UpgradeSink } from '../core/session.js';
import { DISCARD, DiscardHandler, undrainable } from './http1-discard.js';
import { Exchange } from './http1-exchange.js';
import type { ExchangeSession } from './http1-exchange.js';
import { IDLE_CLOSE_PLANNED_AFTER } from './http1-keep-alive.js';
import { ResponseParser } from './http1-parser.js';
import { writeRequest } from './http1-request.js';
import type { SessionFactory } from './protocols.js';
import { OwnerTag } from './owner-tag.js';

/** Where the socket's listeners, static methods shared by every session, find their session. */
const SESSION = new OwnerTag<Http1Session>('rxconn.http1Session');

class Http1Session implements Session, ExchangeSession {
  readonly protocol = 'http1' as const;
  /** Let go once the socket is handed over after a 101 (it is not read here any more). */
  #parser: ResponseParser | undefined;
  readonly #listener: SessionListener;
  readonly #host: string;
  #current: Exchange | undefined;
  /** A 101 arrived for this upgrade: the socket is handed over once the parser returns. */
  #switching: { exchange: Exchange; headers: Headers } | undefined;
  #upgraded = false;
  #draining = false;
  #closed = false;
  /** The current exchange's consumer paused it (`StreamFlow`): the socket is not read. */
  #paused = false;
  /** Dropping the rest of the current exchange's response after a cancel. */
  #discard: DiscardHandler | undefined;
  /** Responses completed on this socket. */
  #served = 0;
  readonly #openedAt = performance.now();
  /** Inside the parser: the next request waits until the read is parsed to its end. */
  #reading = false;
  /** A response ended during the read: onCapacity is owed once it is parsed. */
  #capacityOwed = false;
  /** Retires the idle socket before the server's keep-alive timeout. */
  #idleTimer: NodeJS.Timeout | undefined;
  /** The socket ended (FIN) or failed: the parser saw its end. */
  #eof = false;
  readonly #sendTimeout: number;

  constructor(
    readonly socket: Socket,
    options: ResolvedOptions,
    listener: SessionListener,
  ) {
    this.#parser = new ResponseParser(options.maxHeaderSize);
    this.#listener = listener;
    this.#host = options.authority;
    this.#sendTimeout = options.sendTimeout;
    if (options.keepalive) socket.setKeepAlive(true, options.keepalive.interval);
    // A request can be several writes (a streamed body): no Nagle wait between them. (HTTP/2 needs
    // no call: node's Http2Session turns Nagle off on any socket it runs on, ours included.)
    socket.setNoDelay(true);
    SESSION.set(socket, this);
    socket.on('data', Http1Session.#onData);
    socket.on('end', Http1Session.#onEnd);
    socket.on('error', Http1Session.#onError);
    socket.on('close', Http1Session.#onSocketClose);
    listener.onReady();
  }

  canStart(): boolean {
    return !this.#current && !this.#draining && !this.#closed && !this.#upgraded && !this.#reading;
  }

  start(request: PreparedRequest, sink: StreamSink): StreamHandle {
    return this.#send(new Exchange(this, sink, this.#served > 0), request, this.#draining ? 'connection: close\r\n' : undefined);
  }

  upgrade(request: PreparedRequest, protocol: string, sink: UpgradeSink): StreamHandle {
    return this.#send(new Exchange(this, sink, this.#served > 0, sink), request, `connection: upgrade\r\nupgrade: ${protocol}\r\n`);
  }

  #send(exchange: Exchange, request: PreparedRequest, connection: string | undefined): StreamHandle {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    this.#current = exchange;
    // Only for a request that pulls (`flow`): nothing is allocated for the others.
    if (request.flow) exchange.sink.flow?.({ pause: () => this.#flow(exchange, true), resume: () => this.#flow(exchange, false) });
    this.#parser!.expect(request.method, exchange);
    writeRequest(this.socket, exchange, request, this.#host, connection, this.#sendTimeout);
    return exchange;
  }

  /** `exchange`'s request body stalled past `sendTimeout`: the request fails and takes the socket. */
  bodyStalled(exchange: Exchange): void {
    if (this.#current !== exchange || exchange.bodyDone) return;
    const error = new SendTimeoutError(this.#sendTimeout);
    exchange.body?.unsubscribe();
    exchange.sink.error(error);
    this.destroy(error);
  }

  /** `exchange`'s request body failed mid-request. */
  bodyFailed(exchange: Exchange, error: Error): void {
    // A half-sent request cannot be taken back: the socket goes with it.
    exchange.sink.error(error);
    this.destroy(new ConnectionDownError(`request body failed mid-request: ${describe(error)}`, { cause: error }));
  }

  shutdown(): void {
    this.#draining = true;
    if (this.#current?.sink === DISCARD) {
      // Only the rest of a cancelled response is left: nobody waits for it.
      this.destroy(new ConnectionClosedError('the connection shut down while dropping a cancelled response'));
      return;
    }
    // An upgraded socket belongs to its new protocol, which runs its own closing handshake.
    if (!this.#current && !this.#upgraded) this.#end();
  }

  /** A 101 arrived for `exchange`. */
  switching(exchange: Exchange, headers: Headers): void {
    if (!exchange.upgrade) throw new ProtocolError('the server switched protocols (101) without being asked to');
    this.#switching = { exchange, headers };
  }

  /** Hands the socket over after a 101: this session no longer reads it, and reports only its close. */
  #handOver(head: Buffer): void {
    const { exchange, headers } = this.#switching!;
    this.#switching = undefined;
    this.#current = undefined;
    this.#upgraded = true;
    this.#stopReading();
    this.socket.pause();
    this.#parser = undefined;
    exchange.upgrade!.switched({ type: 'switched', protocol: 'http1', socket: this.socket, head, headers });
  }

  destroy(error: RxconnError): void {
    if (this.#closed) return;
    this.socket.destroy();
    this.#close(error);
  }

  /** Pauses or resumes reading the socket for `exchange`'s consumer, while it is the current one. */
  #flow(exchange: Exchange, pause: boolean): void {
    if (exchange !== this.#current || exchange.sink === DISCARD || this.#closed || this.#upgraded || this.#switching || this.#paused === pause) return;
    this.#paused = pause;
    if (pause) this.socket.pause();
    else this.socket.resume();
  }

  /** The current exchange is over: a pause of its consumer no longer holds the socket. */
  #unpause(): void {
    if (!this.#paused) return;
    this.#paused = false;
    if (!this.#closed && !this.#upgraded) this.socket.resume();
  }

  /** The core gave up on `exchange` (its {@link Exchange.cancel}). */
  cancel(exchange: Exchange): void {
    if (exchange !== this.#current || this.#closed) return;
    exchange.body?.unsubscribe();
    this.#unpause();
    exchange.stall?.stop();
    exchange.sink = DISCARD;
    if (!exchange.bodyDone) {
      this.destroy(new ConnectionDownError('a request was cancelled while its body was being sent: the socket was closed'));
      return;
    }
    if (this.weighDrain(exchange.headers)) return;
    // Read and drop the rest of the response, within bounds, to keep the socket.
    this.#discard = new DiscardHandler(exchange, this);
    this.#parser!.redirect(this.#discard);
  }

  weighDrain(headers: Headers | undefined): boolean {
    const parser = this.#parser!;
    const left = parser.bodyLeft;
    const refusal = undrainable(left, headers);
    if (!refusal) return false;
    if (left === Infinity && !this.#draining) {
      // The server closes the socket after this response anyway: its planned close, reported as
      // at the end of the response (a rotation stays a rotation), only sooner.
      this.#draining = true;
      this.#listener.onDraining({ reason: Http1Session.#closeReason(parser.closeDelimited) });
    }
    this.destroy(refusal);
    return true;
  }

  /** Why the server closes the socket after a response: it ends the response that way, or it said so. */
  static #closeReason(closeDelimited: boolean): string {
    return closeDelimited ? 'the server closed the connection to end a response' : 'the server asked to close the connection after the response (connection: close)';
  }

  /** The current response ended (delivered or discarded). */
  responseEnded(exchange: Exchange, reusable: boolean): void {
    if (this.#current !== exchange) return;
    this.#discard?.stop();
    this.#discard = undefined;
    this.#current = undefined;
    this.#unpause();
    this.#served++;
    if (!exchange.bodyDone) {
      // The server answered before the request body was sent (e.g. 413): the socket cannot be reused.
      exchange.body?.unsubscribe();
      exchange.stall?.stop();
      this.destroy(new ConnectionDownError('the server responded before the request body was sent: the socket was closed'));
      return;
    }
    if (!reusable && !this.#draining) {
      this.#draining = true;
      this.#listener.onDraining({ reason: Http1Session.#closeReason(this.#eof) });
    }
    if (this.#draining) {
      this.#end();
      return;
    }
    const after = exchange.retireAfter;
    if (after !== undefined) this.#idleTimer = setTimeout(() => this.#retire(after), after).unref();
    // Bytes after the end of this response in the same read belong to no request: the next
    // request is written only once the read is parsed to its end (see #read).
    if (this.#reading) this.#capacityOwed = true;
    else this.#listener.onCapacity();
  }

  /** The keep-alive hint is about to expire on an idle socket: retire it before the server closes it. */
  #retire(after: number): void {
    this.#idleTimer = undefined;
    if (this.#current || this.#draining || this.#closed) return;
    this.#draining = true;
    this.#listener.onDraining({ reason: `the idle connection was retired before the server's keep-alive timeout (after ${after} ms idle)` });
    // Nothing is in flight either way: closing now sends a FIN, as the server would have.
    this.destroy(new ConnectionClosedError(`the idle connection was retired before the server's keep-alive timeout (after ${after} ms idle)`));
  }

  #end(): void {
    if (this.#closed) return;
    this.socket.end();
    // The 'close' event reports it; a peer that never closes its side is cut after the core's closeTimeout.
  }

  #close(error: RxconnError): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#discard?.stop();
    clearTimeout(this.#idleTimer);
    this.#current?.body?.unsubscribe();
    this.#current?.stall?.stop();
    this.#stopReading();
    this.#listener.onClose(error);
  }

  /** Takes the 'data' and 'end' listeners off the socket (a 101 handed it over, or it closed). */
  #stopReading(): void {
    this.socket.off('data', Http1Session.#onData);
    this.socket.off('end', Http1Session.#onEnd);
  }

  #fail(error: RxconnError): void {
    const current = this.#current;
    this.#current = undefined;
    current?.sink.error(error);
    this.destroy(error);
  }

  #read(chunk: Buffer): void {
    if (this.#current) this.#current.answered = true;
    this.#reading = true;
    try {
      const rest = this.#parser!.execute(chunk);
      if (this.#switching) this.#handOver(rest ?? Buffer.alloc(0));
    } catch (error) {
      this.#capacityOwed = false;
      this.#fail(error instanceof RxconnError ? error : new ProtocolError(describe(error)));
    } finally {
      this.#reading = false;
    }
    if (this.#capacityOwed) {
      this.#capacityOwed = false;
      if (!this.#closed) this.#listener.onCapacity();
    }
  }

  #ended(): void {
    this.#eof = true;
    try {
      this.#parser!.finish();
    } catch {
      // Cut mid-response: the core fails the active stream with RXCONN_CONNECTION_DOWN.
    }
    this.socket.end();
    this.#peerClosed(new ConnectionDownError(this.#draining ? 'the connection closed' : 'the server closed the connection'));
  }

  static #onData(this: Socket, chunk: Buffer): void {
    SESSION.of(this).#read(chunk);
  }

  static #onEnd(this: Socket): void {
    SESSION.of(this).#ended();
  }

  static #onError(this: Socket, error: Error): void {
    SESSION.of(this).#peerClosed(new ConnectionDownError(`socket error: ${describe(error)}`, { cause: error }));
  }

  static #onSocketClose(this: Socket): void {
    SESSION.of(this).#peerClosed(new ConnectionDownError('the connection closed'));
  }

  /**
   * The server closed the socket (FIN, RST or an error). A request written onto a reused socket
   * with no byte of its response yet may not have been processed: it goes back to the core. An
   * idle keep-alive socket closed by the server is a planned close.
   */
  #peerClosed(error: RxconnError): void {
    if (this.#closed) return;
    const current = this.#current;
    if (current && current.reused && !current.answered && !this.#upgraded && current.sink !== DISCARD) {
      this.#current = undefined;
      current.body?.unsubscribe();
      current.stall?.stop();
      current.sink.unprocessed(
        new NoResponseError(`the server closed a reused keep-alive connection before responding (${error.message}): the request may not have been processed`, { cause: error }),
        false,
      );
      // The server closed what was, on its side, an idle socket that had served: a planned close,
      // which our request merely raced.
      if (!this.#draining) {
        this.#draining = true;
        this.#listener.onDraining({ reason: 'the server closed the idle keep-alive connection as a request was written to it' });
      }
    } else if (!current && !this.#draining && !this.#upgraded && (this.#served > 0 || performance.now() - this.#openedAt >= IDLE_CLOSE_PLANNED_AFTER)) {
      this.#draining = true;
      this.#listener.onDraining({ reason: 'the server closed an idle keep-alive connection' });
    }
    this.#close(error);
  }
}

/** Creates an HTTP/1.1 session on a connected socket. */
export const createHttp1Session: SessionFactory = (socket, options, listener) => new Http1Session(socket, options, listener);
