/**
 * One request on an HTTP/2 session: one `node:http2` client stream, its response events mapped
 * to a {@link StreamSink}, its request body fed by `sendBody`, and its cancellation.
 *
 * Flow control, response side: the node stream is a Readable in flowing mode (we listen to
 * `data`), so every DATA frame is handed to the sink synchronously as it arrives and node
 * returns the window to the server as it goes; rxconn keeps no response buffer of its own.
 * What the server may have in flight is bounded by the HTTP/2 stream and connection windows.
 * A subscriber that buffers asynchronously (`observeOn`, a slow `concatMap`) holds its own buffer.
 *
 * Flow control, request side: an Observable cannot be paused, so each chunk goes to
 * `stream.write()` as it is emitted; node sends what the server's window allows and keeps the
 * rest in the stream's write buffer. The producer sets the pace: rxconn does not drop, reorder
 * or copy chunks, and the buffer is freed when the stream ends or is cancelled.
 *
 * The rapid-reset rule: a stream is reset (RST_STREAM) only while its response is still in
 * flight, never after its response ended; servers count resets and end a session after ~1000.
 * The one exception is a response that ends before our request body: the server no longer
 * reads it, so the unsent rest is cancelled (as Go's client does) unless the server already
 * closed the stream itself (RFC 9113 §8.1, RST_STREAM(NO_ERROR)).
 */
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import { constants } from 'node:http2';
import type { Subscription } from 'rxjs';
import { fixedLength, sendBody } from '../core/body-source.js';
import {
  InvalidArgumentError,
  ProtocolError,
  StreamRefusedError,
  SendTimeoutError,
  StreamResetError,
  describe,
} from '../core/errors.js';
import { OwnerTag } from './owner-tag.js';
import { watchSendStall } from './send-stall.js';
import type { SendStallWatch } from './send-stall.js';
import { errorCodeName, headerListSize, requestHeaders, responseHeaders } from './http2-headers.js';
import type { Headers } from '../core/events.js';
import type { PreparedRequest } from '../core/request-init.js';
import type { StreamSink } from '../core/session.js';

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM, NGHTTP2_ENHANCE_YOUR_CALM } = constants;

/**
 * The methods whose stream node ends by itself (END_STREAM on the HEADERS frame) when
 * `session.request()` gets no options (node's `isPayloadMeaningless`); every other method's
 * stream stays open for a body. Passing `{ endStream }` only when it differs from that default
 * sends the same frames, and saves the client ~10% CPU per request: node's `request()` copies
 * an options object and adds four priority defaults to the copy, which V8 handles on a slow path
 * when the copy came from a non-empty object (measured in bench/README.md, "The request form").
 */
const ENDS_BY_DEFAULT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'DELETE']);

/** Where a stream's listeners, static methods shared by every request, find their request. */
const REQUEST = new OwnerTag<Http2Request>('rxconn.http2Request');

/** What a stream needs from its session. */
export interface Http2StreamOwner {
  readonly session: ClientHttp2Session;
  readonly scheme: 'http' | 'https';
  /** `:authority`: the origin's host and port. */
  readonly authority: string;
  readonly maxHeaderSize: number;
  /** `options.sendTimeout`: how long a request body may wait for the stream to take more bytes. */
  readonly sendTimeout: number;
  /** Whether the whole session is going down: then its streams are the core's to fail, not ours. */
  isGone(): boolean;
  /** The stream is closed on the wire: its slot is free. */
  release(stream: Http2Request): void;
}

/** Maps an error thrown by `session.request()` (the request never went out). */
function requestFailure(error: unknown): Error {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === 'ERR_HTTP2_INVALID_SESSION' || code === 'ERR_HTTP2_GOAWAY_SESSION' || code === 'ERR_HTTP2_OUT_OF_STREAMS') {
    return new StreamRefusedError(`the HTTP/2 session cannot start a stream (${describe(error)}): the request was not sent`, { cause: error });
  }
  return new InvalidArgumentError(`the request cannot be sent over HTTP/2: ${describe(error)}`, { cause: error });
}

/** One in-flight request. Create it with {@link startHttp2Request}. */
export class Http2Request {
  readonly #owner: Http2StreamOwner;
  readonly #sink: StreamSink;
  readonly #stream: ClientHttp2Stream;
  /** The sink has had its last call (or the core cancelled): it hears nothing more. */
  #settled = false;
  #responded = false;
  /** The response ended (END_STREAM received). */
  #ended = false;
  #body: Subscription | undefined;
  #stall: SendStallWatch | undefined;
  /** The request body was handed over in full and `end()` was called. */
  #bodyDone = false;
  #error: Error | undefined;
  /**
   * The header list size this stream checks itself: `maxHeaderSize` when it was opened before the
   * server acknowledged our SETTINGS; none after, as node then enforces the advertised limit by
   * the same measure (resetting the stream with ENHANCE_YOUR_CALM; see `#closeError`).
   */
  readonly #headerLimit: number;

  constructor(owner: Http2StreamOwner, stream: ClientHttp2Stream, sink: StreamSink, headerLimit: number) {
    this.#owner = owner;
    this.#stream = stream;
    this.#sink = sink;
    this.#headerLimit = headerLimit;
    // Shared listeners that find their request on the stream: no closures per request (hot path).
    REQUEST.set(stream, this);
    // Node has its own 'headers' listener on every client stream, which ours turns into an array:
    // about 1 µs per request (bench/README.md). Only when someone hears 1xx (a collector does not).
    if (sink.informs !== false) stream.on('headers', Http2Request.#onInform);
    stream.on('response', Http2Request.#onResponse);
    stream.on('data', Http2Request.#onData);
    stream.on('trailers', Http2Request.#onTrailers);
    // 'end' is listened for only while a body goes out (sendBody). Otherwise 'close', which
    // follows it, ends the response (#onClose): one listener less per request, 1.4–4.8 % of
    // throughput in bench/ab.ts (bench/README.md). A session destroyed in between completes such
    // a stream in completeIfEnded().
    stream.on('error', Http2Request.#onError);
    stream.on('close', Http2Request.#onClose);
  }

  /** The HTTP/2 stream id, or `undefined` while node has not assigned one yet. */
  get id(): number | undefined {
    return this.#stream.id;
  }

  /** Starts sending the request body (after the constructor, so a synchronous failure finds the stream set up). */
  sendBody(request: PreparedRequest, endStream: boolean): void {
    if (endStream) {
      this.#bodyDone = true;
      return;
    }
    const stream = this.#stream;
    // The response may end before our body: its 'end' stops the rest (see the module doc).
    stream.on('end', Http2Request.#onEnd);
    const timeout = this.#owner.sendTimeout;
    const stall = watchSendStall(stream, timeout, () => {
      if (!this.#bodyDone) this.#fail(new SendTimeoutError(timeout));
    });
    this.#stall = stall;
    this.#body = sendBody(request.body, {
      write: chunk => {
        if (!stream.destroyed) stall.wrote(stream.write(chunk));
      },
      end: () => {
        stall.stop();
        this.#bodyDone = true;
        if (!stream.destroyed) stream.end();
      },
      fail: error => this.#fail(error),
    });
    if (this.#settled) this.#body?.unsubscribe();
  }

  /** Stops (`true`) or restarts reading the response: while the stream is paused node withholds WINDOW_UPDATE. */
  flow(pause: boolean): void {
    const stream = this.#stream;
    if (this.#settled || stream.destroyed) return;
    if (pause) stream.pause();
    else stream.resume();
  }

  /** The core gave up on this stream: silence it, and RST_STREAM(CANCEL) it if its response is still in flight. */
  cancel(): void {
    this.#settled = true;
    this.#stopBody();
    this.#reset();
  }

  /**
   * Called just before the session is destroyed: a stream whose END_STREAM already arrived (node
   * closed it cleanly, every chunk delivered) but whose `end` event, or for a request without a
   * body whose `close` event, is still pending completes now, so that no completed response is
   * reported as killed.
   */
  completeIfEnded(): void {
    const stream = this.#stream;
    if (this.#settled || !this.#responded || !stream.closed || stream.rstCode !== 0 || stream.readableLength > 0) return;
    this.#settled = true;
    this.#ended = true;
    this.#sink.complete();
  }

  /** The server will never process this stream (GOAWAY above its id): hand it back to the core now; node closes it. */
  refuse(lastStreamId: number): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#stopBody();
    this.#sink.unprocessed(
      new StreamRefusedError(`the server sent GOAWAY with last stream id ${lastStreamId}: this stream was not processed, and it could not be sent again`),
      true,
    );
  }

  #stopBody(): void {
    this.#stall?.stop();
    this.#body?.unsubscribe();
    this.#body = undefined;
  }

  /** RST_STREAM(CANCEL), only while the response is in flight and the stream open. */
  #reset(): void {
    const stream = this.#stream;
    if (!this.#ended && !stream.closed && !stream.destroyed) stream.close(NGHTTP2_CANCEL);
  }

  #fail(error: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#stopBody();
    this.#sink.error(error);
    this.#reset();
  }

  /** A received header block as {@link Headers}, or `undefined` (the stream failed) when it exceeds `maxHeaderSize`. */
  #headers(raw: IncomingHttpHeaders, what: string): Headers | undefined {
    const headers = responseHeaders(raw, this.#headerLimit);
    if (headers === undefined) this.#fail(new ProtocolError(`the ${what} (${headerListSize(raw)} bytes) exceed options.maxHeaderSize (${this.#headerLimit} bytes)`));
    return headers;
  }

  static #onInform(this: ClientHttp2Stream, raw: IncomingHttpHeaders): void {
    const request = REQUEST.of(this);
    if (request.#settled) return;
    const headers = request.#headers(raw, 'informational response headers');
    if (headers) request.#sink.next({ type: 'inform', status: Number(raw[':status']), headers });
  }

  static #onResponse(this: ClientHttp2Stream, raw: IncomingHttpHeaders): void {
    const request = REQUEST.of(this);
    if (request.#settled) return;
    const headers = request.#headers(raw, 'response headers');
    if (!headers) return;
    request.#responded = true;
    request.#sink.next({ type: 'response', status: Number(raw[':status']), headers });
  }

  static #onData(this: ClientHttp2Stream, data: Buffer): void {
    const request = REQUEST.of(this);
    if (!request.#settled) request.#sink.next({ type: 'data', data });
  }

  static #onTrailers(this: ClientHttp2Stream, raw: IncomingHttpHeaders): void {
    const request = REQUEST.of(this);
    if (request.#settled) return;
    const headers = request.#headers(raw, 'trailers');
    if (headers) request.#sink.next({ type: 'trailers', headers });
  }

  static #onEnd(this: ClientHttp2Stream): void {
    REQUEST.of(this).#responseEnded();
  }

  /** The readable side ended ('end'): heard at its 'end' when a body goes out, else at 'close', which follows it. */
  #responseEnded(): void {
    // node also ends the readable side of every stream when the session is destroyed, with or
    // without END_STREAM: such an end is not a complete response (see completeIfEnded).
    if (this.#owner.isGone()) return;
    const stream = this.#stream;
    if (!this.#bodyDone && !this.#settled) {
      // The response ended before our body: the server will not read the rest (see module doc).
      this.#stopBody();
      if (!stream.closed && !stream.destroyed) stream.close(NGHTTP2_CANCEL);
    }
    this.#ended = true;
    if (this.#settled) return;
    if (!this.#responded) {
      // RST_STREAM(NO_ERROR) before any response: node ends the readable side without an error.
      this.#fail(new StreamResetError(0, 'the server closed the stream (NO_ERROR) without a response'));
      return;
    }
    this.#settled = true;
    this.#sink.complete();
  }

  static #onError(this: ClientHttp2Stream, error: Error): void {
    REQUEST.of(this).#error ??= error;
  }

  static #onClose(this: ClientHttp2Stream): void {
    const request = REQUEST.of(this);
    // A stream without a body has no 'end' listener: an 'end' that was emitted is heard here.
    if (!request.#ended && this.readableEnded) request.#responseEnded();
    request.#stopBody();
    if (!request.#settled) {
      request.#settled = true;
      // On a connection loss the core fails the active streams itself (and counts them).
      if (!request.#owner.isGone()) {
        const error = request.#closeError();
        // REFUSED_STREAM: the server did not process it; the core sends it again if it can.
        if (error instanceof StreamRefusedError && !request.#responded) request.#sink.unprocessed(error, true);
        else request.#sink.error(error);
      }
    }
    request.#owner.release(request);
  }

  /** Why a stream closed before its response ended, the session being alive. */
  #closeError(): Error {
    const code = this.#stream.rstCode;
    const errorCode = (this.#error as { code?: unknown } | undefined)?.code;
    if (code === NGHTTP2_REFUSED_STREAM || errorCode === 'ERR_HTTP2_GOAWAY_SESSION') {
      return new StreamRefusedError(`the server refused the stream (${errorCodeName(NGHTTP2_REFUSED_STREAM)}): it was not processed, and it could not be sent again`);
    }
    if (code === NGHTTP2_ENHANCE_YOUR_CALM && !this.#responded) {
      // node resets a stream itself with ENHANCE_YOUR_CALM when the response headers exceed
      // the maxHeaderListSize we advertised; a server sending it at this point is rate-limiting us.
      return new ProtocolError(
        `the stream was reset with ${errorCodeName(code)} before a response: the response headers exceed options.maxHeaderSize (${this.#owner.maxHeaderSize} bytes), or the server is rate-limiting`,
      );
    }
    if (code !== undefined && code !== 0) return new StreamResetError(code, `the stream was reset with ${errorCodeName(code)}`);
    return new StreamResetError(0, `the stream closed before its response ended${this.#error ? `: ${describe(this.#error)}` : ''}`);
  }
}

/**
 * Opens one stream for `request` on the owner's session: HEADERS (with END_STREAM when there is
 * no body), then the body. Returns `undefined` when node refuses to open it; the sink has then
 * already errored (invalid headers → `RXCONN_INVALID_ARGUMENT`, a closing session →
 * `RXCONN_STREAM_REFUSED`).
 */
export function startHttp2Request(owner: Http2StreamOwner, request: PreparedRequest, sink: StreamSink): Http2Request | undefined {
  const length = fixedLength(request.body);
  const endStream = length === 0;
  let stream: ClientHttp2Stream;
  // node reads the acknowledged limit when it opens the stream: until then, we check it ourselves.
  const headerLimit = owner.session.pendingSettingsAck ? owner.maxHeaderSize : Infinity;
  try {
    const headers = requestHeaders(request, owner.scheme, owner.authority, length);
    // No options object when node's default is what we want (see ENDS_BY_DEFAULT): same frames, less CPU.
    stream = endStream === ENDS_BY_DEFAULT.has(request.method) ? owner.session.request(headers) : owner.session.request(headers, { endStream });
  } catch (error) {
    const failure = requestFailure(error);
    if (failure instanceof StreamRefusedError) sink.unprocessed(failure, true);
    else sink.error(failure);
    return undefined;
  }
  const handle = new Http2Request(owner, stream, sink, headerLimit);
  // Only for a request that pulls (`flow`): nothing is allocated for the others.
  if (request.flow) sink.flow?.({ pause: () => handle.flow(true), resume: () => handle.flow(false) });
  handle.sendBody(request, endStream);
  return handle;
}
