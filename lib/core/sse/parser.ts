/**
 * The event-stream format (WHATWG HTML §9.2.6, "Interpreting an event stream"): decoded text to
 * lines, lines to fields, blocks to dispatched events. Runtime-free; the UTF-8 decoding (and the
 * byte order mark) is decoder.ts's.
 *
 * - Lines end with CRLF, LF or CR. A CR that ends a chunk ends its line at once (an event closed
 *   by CR CR is dispatched without waiting for the next chunk); an LF starting the next chunk is
 *   then the second half of that CRLF, not an empty line.
 * - `data` appends a line, `event` sets the type, `id` the block's id (not when it contains
 *   NUL), `retry` the reconnection time (ASCII digits only); comments and other fields are
 *   ignored; one space after the colon is removed.
 * - A blank line ends the block: its id, if it had one, becomes the last event ID even when the
 *   block has no data (a server may send `id:` alone to move the resume point); an event is
 *   dispatched only when the block had data.
 * - What is left at the end of the body (a line or block without its blank line) is discarded.
 */

const LF = 0x0a;
const SPACE = 0x20;
const DIGITS = /^[0-9]+$/;

/** What a parser reports, synchronously from {@link EventStreamParser.feed}. */
export interface ParsedStream {
  /** A block with data ended: its type (`event:`, or `message`) and its data lines joined with LF. */
  event(type: string, data: string): void;
  /** A block with an `id:` ended, with or without data (before its `event`). */
  id(id: string): void;
  /** A valid `retry:` line, in ms (taken at once). */
  retry(ms: number): void;
}

/** Thrown by {@link EventStreamParser.feed} when a line or an event's data outgrows the limit. */
export class EventTooLarge extends Error {}

export class EventStreamParser {
  readonly #out: ParsedStream;
  readonly #maxSize: number;
  /** The start of a line that has not ended yet. */
  #partial = '';
  /** The last chunk ended with CR: an LF starting the next one completes that CRLF. */
  #afterCr = false;
  // The block being read.
  #data = '';
  #dataLines = 0;
  #type = '';
  #id: string | undefined;

  /** `maxSize`: the most characters of one line, or of one event's data. */
  constructor(out: ParsedStream, maxSize: number) {
    this.#out = out;
    this.#maxSize = maxSize;
  }

  /** Feeds decoded text; reports what it completes. Throws {@link EventTooLarge}. */
  feed(text: string): void {
    let start = 0;
    if (this.#afterCr && text.length > 0) {
      this.#afterCr = false;
      if (text.charCodeAt(0) === LF) start = 1;
    }
    let cr = -2;
    let lf = -2;
    while (start < text.length) {
      if (cr !== -1 && cr < start) cr = text.indexOf('\r', start);
      if (lf !== -1 && lf < start) lf = text.indexOf('\n', start);
      const end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
      if (end === -1) break;
      const piece = text.slice(start, end);
      const line = this.#partial === '' ? piece : this.#partial + piece;
      this.#partial = '';
      this.#line(line);
      start = end + 1;
      if (end === cr) {
        if (start === text.length) this.#afterCr = true;
        else if (text.charCodeAt(start) === LF) start++;
      }
    }
    if (start < text.length) {
      this.#partial += text.slice(start);
      if (this.#partial.length > this.#maxSize) throw new EventTooLarge();
    }
  }

  #line(line: string): void {
    if (line.length === 0) {
      this.#dispatch();
      return;
    }
    const colon = line.indexOf(':');
    if (colon === 0) return; // a comment
    let field = line;
    let value = '';
    if (colon > 0) {
      field = line.slice(0, colon);
      value = line.slice(line.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1);
    }
    switch (field) {
      case 'data':
        this.#data = this.#dataLines === 0 ? value : `${this.#data}\n${value}`;
        this.#dataLines++;
        if (this.#data.length > this.#maxSize) throw new EventTooLarge();
        break;
      case 'event':
        this.#type = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.#id = value;
        break;
      case 'retry':
        if (DIGITS.test(value)) this.#out.retry(Number(value));
        break;
      // Any other field is ignored.
    }
  }

  #dispatch(): void {
    const id = this.#id;
    const data = this.#data;
    const type = this.#type || 'message';
    const dispatch = this.#dataLines > 0;
    this.#data = '';
    this.#dataLines = 0;
    this.#type = '';
    this.#id = undefined;
    if (id !== undefined) this.#out.id(id);
    if (dispatch) this.#out.event(type, data);
  }
}
