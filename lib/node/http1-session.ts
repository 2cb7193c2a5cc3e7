/**
 * HTTP/1.1 over the connection's one socket. One request at a time (no pipelining: a request
 * waits in the core's queue until the previous response has ended), keep-alive between them.
 *
 * Cancelling an in-flight request keeps the socket when it can: once the request is fully
 * written, the rest of the response is read and discarded, up to {@link DRAIN_LIMIT} bytes and
 * {@link DRAIN_TIMEOUT} ms; a larger or slower remainder, or a request cancelled while its body
 * is still being sent, closes the socket instead, and the connection reconnects.
 *
 * Never desynchronised: the next request is written only after the read that ended the previous
 * response has been parsed to its end, and any byte of that read (or of a later one) that belongs
 * to no request is a protocol error that closes the socket, the queued requests going to a fresh
 * one.
 *
 * Planned closes: a response that closes the connection, the server closing an idle keep-alive
 * socket, or this session retiring an idle socket {@link KEEP_ALIVE_MARGIN} ms before the
 * server's `Keep-Alive: timeout=N` hint expires, are reported with `onDraining` before `onClose`.
 * A request written onto a reused socket that the server closes before any byte of the response
 * goes back to the core with `unprocessed(…, false)`: the server may not have processed it.
 */
import type { Socket } from 'node:net';
import type { Subscription } from 'rxjs';
import { announcesLength, fixedLength, sendBody } from '../core/body-source.js';
import { ConnectionClosedError, ConnectionDownError, NoResponseError, ProtocolError, RxconnError, SendTimeoutError, describe } from '../core/errors.js';
import type { Headers } from '../core/events.js';
import { ResponseParser } from './http1-parser.js';
import type { ResponseHandler } from './http1-parser.js';
import type { ResolvedOptions } from '../core/options.js';
import { watchSendStall } from './send-stall.js';
import type { SendStallWatch } from './send-stall.js';
import type { PreparedRequest } from '../core/request-init.js';
import type { Session, SessionListener, StreamSink, UpgradeSink } from '../core/session.js';
import type { SessionFactory } from './protocols.js';

/** Most bytes read and discarded to keep the socket after a cancel. */
export const DRAIN_LIMIT = 64 * 1024;
/** Longest wait for the rest of a cancelled response before closing the socket instead, in ms. */
export const DRAIN_TIMEOUT = 2_000;
/**
 * An idle socket is retired this many ms before the server's `Keep-Alive: timeout=N` hint
 * expires (at N s minus the margin, and never later than half of N), so that a request is never
 * written onto a socket the server is closing.
 */
export const KEEP_ALIVE_MARGIN = 1_000;
/** An idle socket the server closes counts as a planned close once it served a response or was open this long, in ms. */
export const IDLE_CLOSE_PLANNED_AFTER = 1_000;
/** Longest delay a timer holds (2^31 - 1 ms); a longer keep-alive hint is not acted on. */
const MAX_TIMER = 2_147_483_647;
const KEEP_ALIVE_TIMEOUT = /(?:^|[,;\s])timeout\s*=\s*(\d+)/i;

/** The idle time, in ms, after which a socket answered with `keep-alive: <value>` is retired; undefined without a usable hint. */
export function retireAfter(value: string | string[] | undefined): number | undefined {
  const match = KEEP_ALIVE_TIMEOUT.exec(Array.isArray(value) ? value.join(', ') : (value ?? ''));
  if (!match) return undefined;
  const hint = Number(match[1]) * 1000;
  const delay = Math.max(hint - KEEP_ALIVE_MARGIN, hint / 2);
  return delay <= MAX_TIMER ? delay : undefined;
}

const CHUNK_END = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

/** The request head: request line, host, the request's headers and the body framing. */
function serializeHead(request: PreparedRequest, host: string, length: number | undefined, connection: string | undefined): string {
  let head = `${request.method} ${request.path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [name, value] of request.headers) head += `${name}: ${value}\r\n`;
  if (length === undefined) head += 'transfer-encoding: chunked\r\n';
  else if (announcesLength(request.method, length)) head += `content-length: ${length}\r\n`;
  if (connection) head += connection;
  return head + '\r\n';
}

/** One request/response on the socket. */
class Exchange implements ResponseHandler {
  body: Subscription | undefined;
  bodyDone = false;
  /** The bound on a request body the peer stopped taking (`sendTimeout`). */
  stall: SendStallWatch | undefined;
  /** A byte arrived while this exchange was current. */
  answered = false;
  /** The idle time after which the server said it closes the socket (keep-alive hint), in ms. */
  retireAfter: number | undefined;
  constructor(
    readonly session: Http1Session,
    public sink: StreamSink,
    /** Written onto a socket that had carried a response before. */
    readonly reused: boolean,
    /** Set for an upgrade request: where the socket goes on a 101. */
    readonly upgrade?: UpgradeSink,
  ) {}
  onInform(status: number, headers: Headers): void {
    this.sink.next({ type: 'inform', status, headers });
  }
  onHead(status: number, headers: Headers): void {
    if (status === 101) {
      this.session.switching(this, headers);
      return;
    }
    this.retireAfter = retireAfter(headers['keep-alive']);
    this.sink.next({ type: 'response', status, headers });
  }
  onData(chunk: Buffer): void {
    this.sink.next({ type: 'data', data: chunk });
  }
  onTrailers(headers: Headers): void {
    this.sink.next({ type: 'trailers', headers });
  }
  onEnd(reusable: boolean): void {
    this.sink.complete();
    this.session.responseEnded(this, reusable);
  }
}

const DISCARD: StreamSink = { next: () => {}, error: () => {}, complete: () => {}, unprocessed: () => {} };

class Http1Session implements Session {
  readonly protocol = 'http1' as const;
  readonly #parser: ResponseParser;
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
  #drainTimer: NodeJS.Timeout | undefined;
  #discarded = 0;
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
    this.#host = options.origin.host;
    this.#sendTimeout = options.sendTimeout;
    if (options.keepalive) socket.setKeepAlive(true, options.keepalive.interval);
    // A request can be several writes (a streamed body): no Nagle wait between them. HTTP/2 keeps
    // Nagle on, as node does: nghttp2 writes each tick's frames at once, and at high concurrency
    // the batching is worth ~8% throughput with no latency cost (measured at c=1: same p50/p99).
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onSocketClose);
    listener.onReady();
  }

  canStart(): boolean {
    return !this.#current && !this.#draining && !this.#closed && !this.#upgraded && !this.#reading;
  }

  start(request: PreparedRequest, sink: StreamSink): () => void {
    return this.#send(new Exchange(this, sink, this.#served > 0), request, this.#draining ? 'connection: close\r\n' : undefined);
  }

  upgrade(request: PreparedRequest, protocol: string, sink: UpgradeSink): () => void {
    return this.#send(new Exchange(this, sink, this.#served > 0, sink), request, `connection: upgrade\r\nupgrade: ${protocol}\r\n`);
  }

  #send(exchange: Exchange, request: PreparedRequest, connection: string | undefined): () => void {
    const length = fixedLength(request.body);
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    this.#current = exchange;
    exchange.sink.flow?.({ pause: () => this.#flow(exchange, true), resume: () => this.#flow(exchange, false) });
    this.#parser.expect(request.method, exchange);
    const socket = this.socket;
    socket.cork();
    // latin1: header values may carry obs-text (\x80-\xff), one byte each, as node:http sends them.
    socket.write(serializeHead(request, this.#host, length, connection), 'latin1');
    const stall = watchSendStall(socket, this.#sendTimeout, () => {
      if (this.#current !== exchange || exchange.bodyDone) return;
      const error = new SendTimeoutError(this.#sendTimeout);
      exchange.body?.unsubscribe();
      exchange.sink.error(error);
      this.destroy(error);
    });
    exchange.stall = stall;
    exchange.body = sendBody(request.body, {
      write: chunk => {
        if (length !== undefined) {
          stall.wrote(socket.write(chunk));
          return;
        }
        socket.write(`${chunk.length.toString(16)}\r\n`);
        socket.write(chunk);
        stall.wrote(socket.write(CHUNK_END));
      },
      end: () => {
        stall.stop();
        exchange.bodyDone = true;
        if (length === undefined) socket.write(LAST_CHUNK);
      },
      fail: error => {
        stall.stop();
        // A half-sent request cannot be taken back: the socket goes with it.
        exchange.sink.error(error);
        this.destroy(new ConnectionDownError(`request body failed mid-request: ${describe(error)}`, { cause: error }));
      },
    });
    process.nextTick(uncork, socket);
    return () => this.#cancel(exchange);
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
    this.socket.off('data', this.#onData);
    this.socket.off('end', this.#onEnd);
    this.socket.pause();
    exchange.upgrade!.switched({ type: 'switched', socket: this.socket, head, headers });
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

  #cancel(exchange: Exchange): void {
    if (exchange !== this.#current || this.#closed) return;
    exchange.body?.unsubscribe();
    this.#unpause();
    exchange.stall?.stop();
    exchange.sink = DISCARD;
    if (!exchange.bodyDone) {
      this.destroy(new ConnectionDownError('a request was cancelled while its body was being sent: the socket was closed'));
      return;
    }
    // Read and drop the rest of the response, within bounds, to keep the socket.
    this.#parser.redirect(new DiscardHandler(exchange, this));
    this.#discarded = 0;
    this.#drainTimer = setTimeout(() => {
      this.destroy(new ConnectionDownError(`a cancelled response did not end within ${DRAIN_TIMEOUT} ms: the socket was closed`));
    }, DRAIN_TIMEOUT);
  }

  /** Counts discarded bytes; closes the socket past the limit. */
  discarding(bytes: number): void {
    this.#discarded += bytes;
    if (this.#discarded > DRAIN_LIMIT) {
      this.destroy(new ConnectionDownError(`a cancelled response exceeded ${DRAIN_LIMIT} bytes: the socket was closed`));
    }
  }

  /** The current response ended (delivered or discarded). */
  responseEnded(exchange: Exchange, reusable: boolean): void {
    if (this.#current !== exchange) return;
    clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
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
      this.#listener.onDraining({
        reason: this.#eof ? 'the server closed the connection to end a response' : 'the server asked to close the connection after the response (connection: close)',
      });
    }
    if (this.#draining) {
      this.#end();
      return;
    }
    if (exchange.retireAfter !== undefined) this.#idleTimer = setTimeout(this.#retire, exchange.retireAfter, exchange.retireAfter).unref();
    // Bytes after the end of this response in the same read belong to no request: the next
    // request is written only once the read is parsed to its end (see #onData).
    if (this.#reading) this.#capacityOwed = true;
    else this.#listener.onCapacity();
  }

  /** The keep-alive hint is about to expire on an idle socket: retire it before the server closes it. */
  readonly #retire = (after: number): void => {
    this.#idleTimer = undefined;
    if (this.#current || this.#draining || this.#closed) return;
    this.#draining = true;
    this.#listener.onDraining({ reason: `the idle connection was retired before the server's keep-alive timeout (after ${after} ms idle)` });
    // Nothing is in flight either way: closing now sends a FIN, as the server would have.
    this.destroy(new ConnectionClosedError(`the idle connection was retired before the server's keep-alive timeout (after ${after} ms idle)`));
  };

  #end(): void {
    if (this.#closed) return;
    this.socket.end();
    // The 'close' event reports it; a peer that never closes its side is cut after the core's closeTimeout.
  }

  #close(error: RxconnError): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#drainTimer);
    clearTimeout(this.#idleTimer);
    this.#current?.body?.unsubscribe();
    this.#current?.stall?.stop();
    this.socket.off('data', this.#onData);
    this.socket.off('end', this.#onEnd);
    this.#listener.onClose(error);
  }

  #fail(error: RxconnError): void {
    const current = this.#current;
    this.#current = undefined;
    current?.sink.error(error);
    this.destroy(error);
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#current) this.#current.answered = true;
    this.#reading = true;
    try {
      const rest = this.#parser.execute(chunk);
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
  };

  readonly #onEnd = (): void => {
    this.#eof = true;
    try {
      this.#parser.finish();
    } catch {
      // Cut mid-response: the core fails the active stream with RXCONN_CONNECTION_DOWN.
    }
    this.socket.end();
    this.#peerClosed(new ConnectionDownError(this.#draining ? 'the connection closed' : 'the server closed the connection'));
  };

  readonly #onError = (error: Error): void => {
    this.#peerClosed(new ConnectionDownError(`socket error: ${describe(error)}`, { cause: error }));
  };

  readonly #onSocketClose = (): void => {
    this.#peerClosed(new ConnectionDownError('the connection closed'));
  };

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

/** Receives the rest of a cancelled response and drops it. */
class DiscardHandler implements ResponseHandler {
  constructor(
    readonly exchange: Exchange,
    readonly session: Http1Session,
  ) {}
  onInform(): void {}
  onHead(status: number): void {
    // A cancelled upgrade that the server accepted: what follows is not HTTP, the socket cannot be kept.
    if (status === 101) this.session.destroy(new ConnectionDownError('the server accepted a cancelled upgrade (101): the socket was closed'));
  }
  onData(chunk: Buffer): void {
    this.session.discarding(chunk.length);
  }
  onTrailers(): void {}
  onEnd(reusable: boolean): void {
    this.session.responseEnded(this.exchange, reusable);
  }
}

function uncork(socket: Socket): void {
  socket.uncork();
}

/** Creates an HTTP/1.1 session on a connected socket. */
export const createHttp1Session: SessionFactory = (socket, options, listener) => new Http1Session(socket, options, listener);
