/**
 * An incremental HTTP/1.1 response parser (RFC 9112): status line, headers, 1xx, bodies framed
 * by content-length, chunked transfer coding (with trailers) or the connection's end. Pure: no
 * I/O; body chunks are zero-copy slices of the input.
 *
 * It is at least as strict as llhttp, the parser inside `node:http`, in its default (strict)
 * mode, and checks as bytes arrive: a line is refused when it is seen (a bare LF, a CR not
 * followed by LF, a control character, a malformed status line as soon as its first bytes
 * show it). Where it is stricter than llhttp, the README says so. Bytes that arrive after the end
 * of a response in the same read, or while no response is expected, are refused: they can
 * belong to no request that was written (CR and LF alone are skipped, as llhttp skips them).
 */
import { ProtocolError } from '../core/errors.js';
import type { Headers } from '../core/events.js';
import { ChunkLine } from './http1-chunk-line.js';
import { ResponseFields, firstForbidden, forbiddenByte, showLine } from './http1-fields.js';

/** What the parser reports for the response it is parsing. */
export interface ResponseHandler {
  /** A 1xx informational head (not 101). */
  onInform(status: number, headers: Headers): void;
  /** The final head; after a 101 Switching Protocols the rest of the input is not HTTP. */
  onHead(status: number, headers: Headers): void;
  onData(chunk: Buffer): void;
  onTrailers(headers: Headers): void;
  /** The response is complete. `reusable`: the connection may carry another request. */
  onEnd(reusable: boolean): void;
}

/**
 * `idle`: no response expected. `closed`: a response (or a 1xx) said the connection closes after
 * it, so nothing but CR/LF may follow.
 */
type State = 'idle' | 'closed' | 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'until-close' | 'upgraded';

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const STATUS_PREFIX = Buffer.from('HTTP/1.');
const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Parses responses to requests sent on one connection, in order. */
export class ResponseParser {
  #state: State = 'idle';
  /** The start of a line (or of a chunk's CRLF) that has not fully arrived. */
  #pending: Buffer | undefined;
  /** How many bytes of #pending were checked already. */
  #checked = 0;
  #method = 'GET';
  #handler: ResponseHandler | undefined;
  #remaining = 0;
  #keepAlive = true;
  /** Bytes of the head (or trailers) so far. */
  #headBytes = 0;
  /** Lines of the current head so far: 0 until the status line is complete. */
  #lines = 0;
  #status = 0;
  #minor = 1;
  /** A response ended during the current execute(). */
  #ended = false;
  readonly #fields = new ResponseFields();
  readonly #chunkLine = new ChunkLine();
  readonly #maxHeaderSize: number;

  constructor(maxHeaderSize: number) {
    this.#maxHeaderSize = maxHeaderSize;
  }

  /** Whether a response is being parsed. */
  get busy(): boolean {
    return this.#handler !== undefined;
  }

  /** Whether the current response ends only when the connection closes. */
  get closeDelimited(): boolean {
    return this.#state === 'until-close';
  }

  /**
   * What is left of the body being read, once its head is known: the bytes its content-length
   * still announces; `Infinity` when the socket cannot outlive this response (it is read until
   * the close, or the connection closes after it); `undefined` for a chunked body (not known)
   * and before the head.
   */
  get bodyLeft(): number | undefined {
    switch (this.#state) {
      case 'until-close':
        return Infinity;
      case 'length':
        return this.#keepAlive ? this.#remaining : Infinity;
      case 'chunk-size':
      case 'chunk-data':
      case 'chunk-end':
      case 'trailers':
        return this.#keepAlive ? undefined : Infinity;
      default:
        return undefined;
    }
  }

  /** Expects the response to a request with `method`, reported to `handler`. */
  expect(method: string, handler: ResponseHandler): void {
    this.#method = method;
    this.#handler = handler;
    this.#state = 'head';
    this.#beginHead();
  }

  /** Replaces the handler of the current response (e.g. to discard a cancelled one). */
  redirect(handler: ResponseHandler): void {
    this.#handler = handler;
  }

  /**
   * Consumes input. Returns the unparsed rest after a 101 (it belongs to the new protocol).
   * Throws {@link ProtocolError} on malformed input or data with no response expected.
   */
  execute(input: Buffer): Buffer | undefined {
    const buf = this.#pending ? Buffer.concat([this.#pending, input]) : input;
    this.#pending = undefined;
    this.#ended = false;
    let at = 0;
    while (at < buf.length) {
      if (this.#ended || this.#state === 'idle' || this.#state === 'closed') {
        // Nothing but CR/LF may arrive until the next request is written (llhttp skips them).
        while (at < buf.length && (buf[at] === CR || buf[at] === LF)) at++;
        if (at === buf.length) break;
        if (this.#ended) throw new ProtocolError('the server sent data after the end of the response');
        if (this.#state === 'closed') throw new ProtocolError('the server sent data after a response that closes the connection');
        throw new ProtocolError('the server sent data while no response was expected');
      }
      switch (this.#state) {
        case 'upgraded':
          return buf.subarray(at);
        case 'head':
        case 'trailers':
          at = this.#readLines(buf, at);
          if (at === -1) return undefined;
          if (this.#now() === 'upgraded') return buf.subarray(at);
          break;
        case 'length': {
          const n = Math.min(this.#remaining, buf.length - at);
          this.#remaining -= n;
          const chunk = buf.subarray(at, at + n);
          at += n;
          this.#handler?.onData(chunk);
          if (this.#remaining === 0) this.#finish();
          break;
        }
        case 'until-close':
          this.#handler?.onData(at === 0 ? buf : buf.subarray(at));
          return undefined;
        case 'chunk-size': {
          const next = this.#chunkLine.read(buf, at);
          if (next === -1) return undefined;
          at = next;
          this.#remaining = this.#chunkLine.size;
          if (this.#remaining === 0) {
            this.#state = 'trailers';
            this.#headBytes = 0;
            this.#fields.beginTrailers();
          } else {
            this.#state = 'chunk-data';
          }
          break;
        }
        case 'chunk-data': {
          const n = Math.min(this.#remaining, buf.length - at);
          this.#remaining -= n;
          const chunk = buf.subarray(at, at + n);
          at += n;
          this.#handler?.onData(chunk);
          if (this.#remaining === 0) this.#state = 'chunk-end';
          break;
        }
        case 'chunk-end':
          // CRLF after the chunk data; #remaining counts the bytes of it already seen.
          if (buf[at] !== (this.#remaining === 0 ? CR : LF)) throw new ProtocolError('chunk data is not followed by CRLF');
          at++;
          if (this.#remaining === 0) this.#remaining = 1;
          else this.#state = 'chunk-size';
          break;
      }
    }
    return undefined;
  }

  /** The connection ended: completes a close-delimited body; throws if a response was cut short. */
  finish(): void {
    if (this.#state === 'until-close') {
      const handler = this.#handler;
      this.#state = 'closed';
      this.#handler = undefined;
      handler?.onEnd(false);
      return;
    }
    if (this.#state === 'closed' && this.#handler) {
      throw new ProtocolError('the connection closed after an informational (1xx) response, before the final one');
    }
    if (this.#state !== 'idle' && this.#state !== 'closed' && this.#state !== 'upgraded') {
      throw new ProtocolError(`the connection closed in the middle of a response (${this.#state})`);
    }
  }

  /** The state, read afresh after a call that may have changed it. */
  #now(): State {
    return this.#state;
  }

  #beginHead(): void {
    this.#headBytes = 0;
    this.#lines = 0;
    this.#fields.begin();
  }

  /**
   * Reads head or trailer lines from `at` until the block's empty line. Returns the index after
   * it, or -1 when the input ended first (the partial line is kept). Lines are read from one
   * latin1 string of the head (up to its CRLFCRLF when it has arrived): one conversion per head.
   */
  #readLines(buf: Buffer, at: number): number {
    const head = this.#state === 'head';
    let text = '';
    let base = at;
    for (;;) {
      if (head && this.#lines === 0 && this.#checked === 0) {
        // Empty lines before a status line are skipped, as llhttp skips them.
        const start = at;
        while (at < buf.length && (buf[at] === CR || buf[at] === LF)) at++;
        this.#count(at - start);
        if (at === buf.length) return -1;
      }
      if (at - base >= text.length) {
        const end = head ? buf.indexOf(CRLFCRLF, at) : -1;
        text = buf.toString('latin1', at, end === -1 ? buf.length : end + 4);
        base = at;
      }
      const i = at - base;
      const lf = text.indexOf('\n', i);
      if (lf === -1) {
        this.#keepPartial(buf, text, i, at, head);
        return -1;
      }
      const end = lf - 1;
      const where = head ? (this.#lines === 0 ? 'status line' : 'head') : 'trailers';
      if (lf === i || text.charCodeAt(end) !== CR) throw new ProtocolError(`a bare LF (no CR) ends a line in the response ${where}: ${showLine(text, i, lf)}`);
      this.#count(lf + 1 - i);
      const bad = firstForbidden(text, i + this.#checked, end);
      this.#checked = 0;
      if (bad !== -1) throw forbiddenByte(text, i, bad, where);
      at = base + lf + 1;
      if (end === i) {
        if (head) this.#onHead();
        else this.#finish();
        return at;
      }
      if (head && this.#lines === 0) this.#onStatusLine(text, i, end);
      else this.#fields.add(text, i, end);
      this.#lines++;
    }
  }

  /** Keeps the start of a line that has not fully arrived (`text[i..]`, at `at` in `buf`), after checking what it has so far. */
  #keepPartial(buf: Buffer, text: string, i: number, at: number, head: boolean): void {
    const length = text.length - i;
    if (this.#headBytes + length > this.#maxHeaderSize) throw this.#tooLarge(head);
    // A CR may end the input: its LF has not arrived yet.
    const stop = text.charCodeAt(text.length - 1) === CR ? text.length - 1 : text.length;
    const where = head ? (this.#lines === 0 ? 'status line' : 'head') : 'trailers';
    const bad = firstForbidden(text, i + this.#checked, stop);
    if (bad !== -1) throw forbiddenByte(text, i, bad, where);
    if (head && this.#lines === 0) {
      // A status line shows it is none as soon as its first bytes differ from `HTTP/1.x `.
      for (let k = this.#checked; k < Math.min(stop - i, 9); k++) {
        const byte = text.charCodeAt(i + k);
        const ok = k < 7 ? byte === STATUS_PREFIX[k] : k === 7 ? byte === 0x30 || byte === 0x31 : byte === SP;
        if (!ok) throw new ProtocolError(`malformed status line: ${showLine(text, i, stop)}`);
      }
    }
    this.#checked = stop - i;
    this.#pending = buf.subarray(at);
  }

  #count(bytes: number): void {
    this.#headBytes += bytes;
    if (this.#headBytes > this.#maxHeaderSize) throw this.#tooLarge(this.#state === 'head');
  }

  #tooLarge(head: boolean): ProtocolError {
    return new ProtocolError(`response ${head ? 'head' : 'trailers'} exceed${head ? 's' : ''} maxHeaderSize (${this.#maxHeaderSize} bytes)`);
  }

  /** `HTTP/1.x NNN[ reason]`: the reason may be empty, and its bytes were checked already. */
  #onStatusLine(text: string, start: number, end: number): void {
    const length = end - start;
    let ok = length >= 12 && (length === 12 || text.charCodeAt(start + 12) === SP) && text.startsWith('HTTP/1.', start);
    const minor = text.charCodeAt(start + 7);
    ok &&= (minor === 0x30 || minor === 0x31) && text.charCodeAt(start + 8) === SP;
    let status = 0;
    for (let k = 9; ok && k < 12; k++) {
      const digit = text.charCodeAt(start + k) - 0x30;
      ok = digit >= 0 && digit <= 9;
      status = status * 10 + digit;
    }
    if (!ok) throw new ProtocolError(`malformed status line: ${showLine(text, start, end)}`);
    this.#minor = minor - 0x30;
    this.#status = status;
    if (status < 100) throw new ProtocolError(`invalid status code ${status}`);
  }

  /** The head is complete: settles the framing (validated before the head is reported), then reports it. */
  #onHead(): void {
    const status = this.#status;
    const fields = this.#fields;
    const headers = fields.headers;
    const keepAlive = this.#persistent();
    if (status >= 100 && status < 200 && status !== 101) {
      // No body, whatever the fields say; the final head follows, unless this one closed the connection.
      this.#beginHead();
      if (!keepAlive) this.#state = 'closed';
      this.#handler?.onInform(status, headers);
      return;
    }
    this.#keepAlive = keepAlive;
    if (status === 101) {
      this.#state = 'upgraded';
      this.#handler?.onHead(status, headers);
      return;
    }
    let body: State;
    if (this.#method === 'HEAD' || status === 204 || status === 304) body = 'idle';
    else if (fields.chunked) body = 'chunk-size';
    else if (fields.transferEncoding) body = 'until-close';
    else if (fields.contentLength !== undefined) body = fields.contentLength === 0 ? 'idle' : 'length';
    else body = 'until-close';
    // Framing that reads until close means the server closes after the response, even where the
    // response has no body (a HEAD answered that way): as llhttp, the connection is not reused.
    const untilClose = fields.transferEncoding ? !fields.chunked : fields.contentLength === undefined;
    if (untilClose && status !== 204 && status !== 304) this.#keepAlive = false;
    this.#remaining = fields.contentLength ?? 0;
    this.#state = body === 'idle' ? 'head' : body;
    this.#handler?.onHead(status, headers);
    if (body === 'idle') this.#finish();
  }

  /**
   * Whether the connection persists after this message by its version and `connection` field
   * (RFC 9112 §9.3), as llhttp decides; and closed after an HTTP/1.0 message with a
   * transfer-encoding (RFC 9112 §6.1), which llhttp keeps.
   */
  #persistent(): boolean {
    const fields = this.#fields;
    return this.#minor === 0 ? fields.keepAlive && !fields.transferEncoding : !fields.close;
  }

  #finish(): void {
    const handler = this.#handler;
    const trailers = this.#state === 'trailers' ? this.#fields.headers : undefined;
    // Decided by the head, as node:http decides (a `connection` trailer changes nothing).
    const reusable = this.#keepAlive;
    this.#state = reusable ? 'idle' : 'closed';
    this.#handler = undefined;
    this.#fields.release();
    this.#ended = true;
    if (trailers && Object.keys(trailers).length > 0) handler?.onTrailers(trailers);
    handler?.onEnd(reusable);
  }
}
