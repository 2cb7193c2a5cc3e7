/**
 * The field lines of one HTTP/1.1 response (RFC 9112 §5): its head's headers, then the trailers
 * of a chunked body, one line at a time as lines arrive. Each line is checked, and the fields
 * that frame the message (content-length, transfer-encoding, connection) are tracked the way
 * llhttp, the parser inside `node:http`, tracks them, so that rxconn frames a response exactly
 * as node does or refuses it. Pure: no I/O.
 */
import { ProtocolError } from '../core/errors.js';
import type { Headers } from '../core/events.js';
import { FIELD_VALUE_BYTES, TOKEN_BYTES, trimOws } from '../core/http-syntax.js';

const CR = 0x0d;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const CONTENT_LENGTH = /^[0-9]+ *$/;
// The last coding is chunked, as llhttp reads it: `chunked` at the start of the value or after
// a comma, followed by nothing but spaces.
const CHUNKED_LAST = /(?:^|,[ \t]*)chunked *$/i;

/** A byte as a message shows it: `"a"` or `0x0b`. */
export function showByte(byte: number): string {
  return byte > 0x20 && byte < 0x7f ? JSON.stringify(String.fromCharCode(byte)) : `0x${byte.toString(16).padStart(2, '0')}`;
}

/** The start of a line, quoted for a message. */
export function showLine(buf: Buffer, start: number, end: number): string {
  return JSON.stringify(buf.toString('latin1', start, Math.min(end, start + 64)));
}

/**
 * Index of the first byte in `buf[from, to)` that may not appear in a response line (anything
 * but HTAB, SP, VCHAR and obs-text: CR, LF, NUL, the other controls, DEL), or -1.
 */
export function firstForbidden(buf: Buffer, from: number, to: number): number {
  for (let i = from; i < to; i++) if (FIELD_VALUE_BYTES[buf[i]] === 0) return i;
  return -1;
}

/** The error for the forbidden byte at `at` of the line starting at `start`. */
export function forbiddenByte(buf: Buffer, start: number, at: number, where: string): ProtocolError {
  const byte = buf[at];
  if (byte === CR) return new ProtocolError(`a CR not followed by LF in the response ${where}: ${showLine(buf, start, at + 1)}`);
  return new ProtocolError(`forbidden character ${showByte(byte)} in the response ${where}: ${showLine(buf, start, at + 1)}`);
}

/** The fields of one response, and the framing they declare. */
export class ResponseFields {
  /** The head's headers, or (after {@link beginTrailers}) the trailers. */
  headers: Headers = {};
  /** The content-length, when one was given. */
  contentLength: number | undefined;
  /** A non-empty transfer-encoding field was given. */
  transferEncoding = false;
  /** Its last transfer coding is `chunked`. */
  chunked = false;
  /** A `connection` field lists `close`. */
  close = false;
  /** A `connection` field lists `keep-alive`. */
  keepAlive = false;
  #block: 'header' | 'trailer' = 'header';

  /** Starts a new response head. */
  begin(): void {
    this.headers = {};
    this.contentLength = undefined;
    this.transferEncoding = false;
    this.chunked = false;
    this.close = false;
    this.keepAlive = false;
    this.#block = 'header';
  }

  /** Starts the trailers; the framing fields seen so far still count (a content-length trailer is refused, as llhttp does). */
  beginTrailers(): void {
    this.headers = {};
    this.#block = 'trailer';
  }

  /**
   * Adds the field line `buf[start, end)` (without its CRLF; its bytes already checked with
   * {@link firstForbidden}). Throws {@link ProtocolError} for a malformed line or framing.
   */
  add(buf: Buffer, start: number, end: number): void {
    const block = this.#block;
    const first = buf[start];
    if (first === SP || first === HTAB) {
      throw new ProtocolError(`obsolete line folding (a ${block} line starting with whitespace) in response: ${showLine(buf, start, end)}`);
    }
    let colon = start;
    while (colon < end && TOKEN_BYTES[buf[colon]] === 1) colon++;
    if (colon === end || buf[colon] !== COLON || colon === start) {
      const at = buf.indexOf(COLON, start);
      if (at <= start || at >= end) throw new ProtocolError(`malformed ${block} line in response: ${showLine(buf, start, end)}`);
      throw new ProtocolError(`invalid ${block} name in response: ${showLine(buf, start, at)}`);
    }
    const key = buf.toString('latin1', start, colon).toLowerCase();
    let from = colon + 1;
    while (from < end && (buf[from] === SP || buf[from] === HTAB)) from++;
    const raw = buf.toString('latin1', from, end);
    if (key === 'content-length' || key === 'transfer-encoding' || key === 'connection') this.#frame(key, raw);
    const value = trimOws(raw);
    const headers = this.headers;
    const prior = headers[key];
    if (prior === undefined) headers[key] = key === 'set-cookie' ? [value] : value;
    else if (Array.isArray(prior)) prior.push(value);
    else headers[key] = [prior, value];
  }

  /** Tracks one framing field; `raw` is its value without leading whitespace. */
  #frame(key: string, raw: string): void {
    if (key === 'connection') {
      for (const token of raw.split(',')) {
        const option = trimOws(token).toLowerCase();
        if (option === 'close') this.close = true;
        else if (option === 'keep-alive') this.keepAlive = true;
      }
      return;
    }
    // Both framings at once is a request-smuggling signature (RFC 9112 §6.3): refused, as llhttp does.
    if (key === 'transfer-encoding') {
      if (this.contentLength !== undefined) throw new ProtocolError('response has both content-length and transfer-encoding');
      if (raw === '') return;
      this.transferEncoding = true;
      this.chunked = CHUNKED_LAST.test(raw);
      return;
    }
    if (this.transferEncoding) throw new ProtocolError('response has both content-length and transfer-encoding');
    if (this.contentLength !== undefined) throw new ProtocolError('response has more than one content-length field');
    const length = CONTENT_LENGTH.test(raw) ? Number(raw.trimEnd()) : NaN;
    if (!Number.isSafeInteger(length)) throw new ProtocolError(`invalid content-length in response: ${JSON.stringify(raw.slice(0, 64))}`);
    this.contentLength = length;
  }
}
