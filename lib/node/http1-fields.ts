/**
 * The field lines of one HTTP/1.1 response (RFC 9112 §5): its head's headers, then the trailers
 * of a chunked body, one line at a time as lines arrive. Each line is checked, and the fields
 * that frame the message (content-length, transfer-encoding, connection) are tracked the way
 * llhttp, the parser inside `node:http`, tracks them, so that rxconn frames a response exactly
 * as node does or refuses it. Pure: no I/O.
 */
import { ProtocolError } from '../core/errors.js';
import type { Headers } from '../core/events.js';
import { indexOfNonFieldValue, indexOfNonToken, trimOws } from '../core/http-syntax.js';

const CR = 0x0d;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const CONTENT_LENGTH = /^[0-9]+ *$/;
// The last coding is chunked, as llhttp reads it: `chunked` at the start of the value or after
// a comma, followed by nothing but spaces.
const CHUNKED_LAST = /(?:^|,[ \t]*)chunked *$/i;

function isOws(code: number): boolean {
  return code === SP || code === HTAB;
}

/** A byte as a message shows it: `"a"` or `0x0b`. */
export function showByte(byte: number): string {
  return byte > 0x20 && byte < 0x7f ? JSON.stringify(String.fromCharCode(byte)) : `0x${byte.toString(16).padStart(2, '0')}`;
}

/** The start of a line, quoted for a message. */
export function showLine(text: string, start: number, end: number): string {
  return JSON.stringify(text.slice(start, Math.min(end, start + 64)));
}

/**
 * Index of the first character in `text[from, to)` (bytes read as latin1) that may not appear
 * in a response line (anything but HTAB, SP, VCHAR and obs-text: CR, LF, NUL, the other
 * controls, DEL), or -1.
 */
export function firstForbidden(text: string, from: number, to: number): number {
  const at = indexOfNonFieldValue(text, from);
  return at < to ? at : -1;
}

/** The error for the forbidden character at `at` of the line starting at `start`. */
export function forbiddenByte(text: string, start: number, at: number, where: string): ProtocolError {
  const byte = text.charCodeAt(at);
  if (byte === CR) return new ProtocolError(`a CR not followed by LF in the response ${where}: ${showLine(text, start, at + 1)}`);
  return new ProtocolError(`forbidden character ${showByte(byte)} in the response ${where}: ${showLine(text, start, at + 1)}`);
}

/** The fields of one response, and the framing they declare. */
/** The headers of no message: what the fields hold between responses (nothing of the last one stays reachable). */
const NONE: Headers = Object.freeze({});

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

  /** Lets go of the last message's headers (they are the user's now); {@link begin} comes before any new field. */
  release(): void {
    this.headers = NONE;
  }

  /** Starts the trailers; the framing fields seen so far still count (a content-length trailer is refused, as llhttp does). */
  beginTrailers(): void {
    this.headers = {};
    this.#block = 'trailer';
  }

  /**
   * Adds the field line `text[start, end)` (bytes read as latin1, without the CRLF, already
   * checked with {@link firstForbidden}). Throws {@link ProtocolError} for a malformed line or
   * framing.
   */
  add(text: string, start: number, end: number): void {
    const block = this.#block;
    const first = text.charCodeAt(start);
    if (first === SP || first === HTAB) {
      throw new ProtocolError(`obsolete line folding (a ${block} line starting with whitespace) in response: ${showLine(text, start, end)}`);
    }
    const stop = indexOfNonToken(text, start);
    const colon = stop === -1 ? end : Math.min(stop, end);
    if (colon === end || text.charCodeAt(colon) !== COLON || colon === start) {
      const at = text.indexOf(':', start);
      if (at <= start || at >= end) throw new ProtocolError(`malformed ${block} line in response: ${showLine(text, start, end)}`);
      throw new ProtocolError(`invalid ${block} name in response: ${showLine(text, start, at)}`);
    }
    const key = text.slice(start, colon).toLowerCase();
    let from = colon + 1;
    while (from < end && isOws(text.charCodeAt(from))) from++;
    let to = end;
    while (to > from && isOws(text.charCodeAt(to - 1))) to--;
    const value = text.slice(from, to);
    if (key === 'content-length' || key === 'transfer-encoding' || key === 'connection') this.#frame(key, to === end ? value : text.slice(from, end));
    const headers = this.headers;
    const prior = headers[key];
    if (prior === undefined) headers[key] = key === 'set-cookie' ? [value] : value;
    else if (Array.isArray(prior)) prior.push(value);
    else headers[key] = [prior, value];
  }

  /** Tracks one framing field; `raw` is its value without leading whitespace. */
  #frame(key: string, raw: string): void {
    if (key === 'connection') {
      const whole = raw.toLowerCase();
      if (whole === 'keep-alive' || whole === 'close') {
        if (whole === 'close') this.close = true;
        else this.keepAlive = true;
        return;
      }
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
