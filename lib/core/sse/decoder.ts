/**
 * Bytes of one event-stream response to {@link SseEvent}s: UTF-8 decoding (split characters,
 * BOM), the parser (parser.ts), and the persistent last event ID. Runtime-free: only
 * `TextDecoder`.
 */
import { InvalidBodyError } from '../errors.js';
import type { SseEvent } from './event.js';
import { EventStreamParser, EventTooLarge } from './parser.js';
import type { ParsedStream } from './parser.js';

/** What persists across the responses of one source: the last event ID and the server's `retry:`. */
export interface SseCursor {
  /** The last event ID (`''` for none). */
  lastEventId: string;
  /** The reconnection time set by the server, in ms, if it set one. */
  retry: number | undefined;
}

/**
 * Parses one response body. Create one per response (the parser and the UTF-8 decoder start
 * fresh; the cursor carries over). Events go to `emit` synchronously from {@link push}.
 */
export class EventStreamDecoder implements ParsedStream {
  // The WHATWG decoder: invalid sequences become U+FFFD, and a leading BOM is removed.
  readonly #text = new TextDecoder('utf-8');
  readonly #parser: EventStreamParser;
  readonly #maxEventSize: number;
  readonly #emit: (event: SseEvent) => void;
  #overflow: InvalidBodyError | undefined;

  constructor(
    readonly cursor: SseCursor,
    maxEventSize: number,
    emit: (event: SseEvent) => void,
  ) {
    this.#maxEventSize = maxEventSize;
    this.#emit = emit;
    this.#parser = new EventStreamParser(this, maxEventSize);
  }

  /** Feeds one chunk of the body. Throws {@link InvalidBodyError} once an event outgrows `maxEventSize`. */
  push(bytes: Uint8Array): void {
    this.#feed(this.#text.decode(bytes, { stream: true }));
  }

  /**
   * The body ended: flushes a split UTF-8 sequence (as U+FFFD), which completes nothing; an event
   * without its blank line is discarded.
   */
  end(): void {
    this.#feed(this.#text.decode());
  }

  /** @internal The parser's report: a dispatched event, carrying the last event ID and `retry` as they are now. */
  event(type: string, data: string): void {
    const cursor = this.cursor;
    this.#emit({ type, data, id: cursor.lastEventId, retry: cursor.retry });
  }

  /** @internal The parser's report: a block set the last event ID (with or without data). */
  id(id: string): void {
    this.cursor.lastEventId = id;
  }

  /** @internal The parser's report: the server's reconnection time. */
  retry(ms: number): void {
    this.cursor.retry = ms;
  }

  #feed(text: string): void {
    if (this.#overflow) throw this.#overflow;
    try {
      this.#parser.feed(text);
    } catch (error) {
      if (!(error instanceof EventTooLarge)) throw error;
      this.#overflow = new InvalidBodyError(`an event-stream line or event exceeds maxEventSize (${this.#maxEventSize} characters)`);
      throw this.#overflow;
    }
  }
}
