/**
 * An incremental HTTP/1.1 response parser (RFC 9112): status line, headers, 1xx, bodies framed
 * by content-length, chunked transfer coding (with trailers) or the connection's end. Pure: no
 * I/O; body chunks are zero-copy slices of the input.
 */
import { ProtocolError } from '../core/errors.js';
import type { Headers } from '../core/events.js';
import { isToken, trimOws } from '../core/http-syntax.js';

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

type State = 'idle' | 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-end' | 'trailers' | 'until-close' | 'upgraded';

const CRLF = Buffer.from('\r\n');
const CRLFCRLF = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.([01]) (\d{3})(?: [^\r\n]*)?$/;
const MAX_CHUNK_SIZE_LINE = 1024;

/** Parses a header block (lines without the final empty line) into lower-case names. */
export function parseHeaderLines(lines: readonly string[], from: number): Headers {
  const headers: Headers = {};
  for (let i = from; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon <= 0) throw new ProtocolError(`malformed header line in response: ${JSON.stringify(line.slice(0, 64))}`);
    const name = line.slice(0, colon);
    if (!isToken(name)) throw new ProtocolError(`invalid header name in response: ${JSON.stringify(name.slice(0, 64))}`);
    const key = name.toLowerCase();
    const value = trimOws(line.slice(colon + 1));
    const prior = headers[key];
    if (prior === undefined) headers[key] = key === 'set-cookie' ? [value] : value;
    else if (Array.isArray(prior)) prior.push(value);
    else headers[key] = [prior, value];
  }
  return headers;
}

function single(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Parses responses to requests sent on one connection, in order. */
export class ResponseParser {
  #state: State = 'idle';
  #pending: Buffer | undefined;
  #method = 'GET';
  #handler: ResponseHandler | undefined;
  #remaining = 0;
  #keepAlive = true;
  #headBytes = 0;
  #trailers: Headers | undefined;
  readonly #maxHeaderSize: number;

  constructor(maxHeaderSize: number) {
    this.#maxHeaderSize = maxHeaderSize;
  }

  /** Whether a response is being parsed. */
  get busy(): boolean {
    return this.#state !== 'idle';
  }

  /** Whether the current response ends only when the connection closes. */
  get closeDelimited(): boolean {
    return this.#state === 'until-close';
  }

  /** Expects the response to a request with `method`, reported to `handler`. */
  expect(method: string, handler: ResponseHandler): void {
    this.#method = method;
    this.#handler = handler;
    this.#state = 'head';
    this.#headBytes = 0;
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
    let at = 0;
    while (at < buf.length) {
      switch (this.#state) {
        case 'idle':
          throw new ProtocolError('the server sent data while no response was expected');
        case 'upgraded':
          return buf.subarray(at);
        case 'head': {
          const end = buf.indexOf(CRLFCRLF, at);
          if (end === -1) {
            this.#checkHeadSize(buf.length - at);
            this.#pending = buf.subarray(at);
            return undefined;
          }
          this.#checkHeadSize(end + 4 - at);
          this.#onHead(buf.toString('latin1', at, end));
          at = end + 4;
          if (this.#now() === 'upgraded') return buf.subarray(at);
          break;
        }
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
        case 'chunk-size':
        case 'chunk-end':
        case 'trailers': {
          const eol = buf.indexOf(CRLF, at);
          if (eol === -1) {
            if (buf.length - at > (this.#state === 'trailers' ? this.#maxHeaderSize : MAX_CHUNK_SIZE_LINE)) {
              throw new ProtocolError(this.#state === 'trailers' ? `response trailers exceed maxHeaderSize (${this.#maxHeaderSize} bytes)` : 'response chunk-size line is too long');
            }
            this.#pending = buf.subarray(at);
            return undefined;
          }
          this.#onLine(buf, at, eol);
          at = eol + 2;
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
      }
      if (at < buf.length && this.#now() === 'idle') {
        throw new ProtocolError('the server sent data after the end of the response');
      }
    }
    return undefined;
  }

  /** The connection ended: completes a close-delimited body; throws if a response was cut short. */
  finish(): void {
    if (this.#state === 'until-close') {
      this.#state = 'idle';
      this.#handler?.onEnd(false);
      return;
    }
    if (this.#state !== 'idle' && this.#state !== 'upgraded') {
      throw new ProtocolError(`the connection closed in the middle of a response (${this.#state})`);
    }
  }

  /** The state, read afresh after a call that may have changed it. */
  #now(): State {
    return this.#state;
  }

  #checkHeadSize(bytes: number): void {
    this.#headBytes = bytes;
    if (this.#headBytes > this.#maxHeaderSize) {
      throw new ProtocolError(`response head exceeds maxHeaderSize (${this.#maxHeaderSize} bytes)`);
    }
  }

  #onHead(text: string): void {
    const lines = text.split('\r\n');
    const match = STATUS_LINE.exec(lines[0]);
    if (!match) throw new ProtocolError(`malformed status line: ${JSON.stringify(lines[0].slice(0, 64))}`);
    const minor = match[1];
    const status = Number(match[2]);
    if (status < 100) throw new ProtocolError(`invalid status code ${status}`);
    const headers = parseHeaderLines(lines, 1);
    if (status >= 100 && status < 200 && status !== 101) {
      this.#handler?.onInform(status, headers);
      return; // the final head follows
    }
    const connection = single(headers, 'connection')?.toLowerCase() ?? '';
    this.#keepAlive = minor === '1' ? !/(?:^|,)\s*close\s*(?:,|$)/.test(connection) : /(?:^|,)\s*keep-alive\s*(?:,|$)/.test(connection);
    if (status === 101) {
      this.#state = 'upgraded';
      this.#handler?.onHead(status, headers);
      return;
    }
    const transferEncoding = single(headers, 'transfer-encoding');
    const contentLength = single(headers, 'content-length');
    const noBody = this.#method === 'HEAD' || status === 204 || status === 304;
    // The framing is settled (and validated) before the head is reported: a response with a
    // broken framing is an error, never a response followed by an error.
    let body: State;
    if (noBody) {
      body = 'idle';
    } else if (transferEncoding !== undefined) {
      body = /(?:^|,)\s*chunked\s*$/i.test(transferEncoding) ? 'chunk-size' : 'until-close';
      // Both framings at once is a smuggling signature (RFC 9112 §6.1): chunked wins, and the socket is not reused.
      if (contentLength !== undefined) this.#keepAlive = false;
    } else if (contentLength !== undefined) {
      const values = new Set(contentLength.split(',').map(v => v.trim()));
      const [value] = values;
      if (values.size !== 1 || !/^\d{1,15}$/.test(value)) throw new ProtocolError(`invalid content-length in response: ${JSON.stringify(contentLength.slice(0, 64))}`);
      this.#remaining = Number(value);
      body = this.#remaining === 0 ? 'idle' : 'length';
    } else {
      body = 'until-close';
    }
    if (body === 'until-close') this.#keepAlive = false;
    this.#state = body === 'idle' ? 'head' : body;
    this.#handler?.onHead(status, headers);
    if (body === 'idle') this.#finish();
  }

  #onLine(buf: Buffer, at: number, eol: number): void {
    if (this.#state === 'chunk-end') {
      if (eol !== at) throw new ProtocolError('chunk data is not followed by CRLF');
      this.#state = 'chunk-size';
      return;
    }
    if (this.#state === 'chunk-size') {
      const line = buf.toString('latin1', at, eol);
      const semicolon = line.indexOf(';');
      const hex = (semicolon === -1 ? line : line.slice(0, semicolon)).trim();
      if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) throw new ProtocolError(`invalid chunk size ${JSON.stringify(hex.slice(0, 16))}`);
      this.#remaining = parseInt(hex, 16);
      this.#state = this.#remaining === 0 ? 'trailers' : 'chunk-data';
      this.#headBytes = 0;
      return;
    }
    // trailers: lines until an empty one
    if (eol === at) {
      this.#finish();
      return;
    }
    this.#headBytes += eol - at + 2;
    if (this.#headBytes > this.#maxHeaderSize) throw new ProtocolError(`response trailers exceed maxHeaderSize (${this.#maxHeaderSize} bytes)`);
    const headers = parseHeaderLines([buf.toString('latin1', at, eol)], 0);
    this.#trailers = this.#trailers ? mergeHeaders(this.#trailers, headers) : headers;
  }

  #finish(): void {
    const handler = this.#handler;
    const trailers = this.#trailers;
    this.#trailers = undefined;
    this.#state = 'idle';
    this.#handler = undefined;
    if (trailers) handler?.onTrailers(trailers);
    handler?.onEnd(this.#keepAlive);
  }
}

function mergeHeaders(into: Headers, more: Headers): Headers {
  for (const [name, value] of Object.entries(more)) {
    const prior = into[name];
    if (prior === undefined) into[name] = value;
    else into[name] = ([] as string[]).concat(prior, value);
  }
  return into;
}
