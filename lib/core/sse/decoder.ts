/**
 * Bytes of one event-stream response to {@link SseEvent}s: UTF-8 decoding (split characters,
 * BOM) and what `eventsource-parser` 3.x leaves to its caller (the persistent last event ID, a
 * CR line end at the end of a chunk). Runtime-free: only `TextDecoder`.
 */
import { createParser } from 'eventsource-parser';
import type { EventSourceParser } from 'eventsource-parser';
import { InvalidBodyError } from '../errors.js';
import type { SseEvent } from './event.js';

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
export class EventStreamDecoder {
  // The WHATWG decoder: invalid sequences become U+FFFD, and a leading BOM is removed
  // (eventsource-parser 3.x would read a decoded BOM as part of the first field name).
  readonly #text = new TextDecoder('utf-8');
  readonly #parser: EventSourceParser;
  readonly #maxEventSize: number;
  /** The last chunk ended with CR and we fed an LF after it: an LF starting the next chunk belongs to that CR. */
  #lfOwed = false;
  #overflow: InvalidBodyError | undefined;

  constructor(
    readonly cursor: SseCursor,
    maxEventSize: number,
    emit: (event: SseEvent) => void,
  ) {
    this.#maxEventSize = maxEventSize;
    this.#parser = createParser({
      maxBufferSize: maxEventSize,
      onEvent: message => {
        // The parser reports `id` only on the block that set it; the last event ID persists.
        if (message.id !== undefined) cursor.lastEventId = message.id;
        emit({ type: message.event ?? 'message', data: message.data, id: cursor.lastEventId, retry: cursor.retry });
      },
      onRetry: retry => {
        cursor.retry = retry;
      },
      onError: error => {
        if (error.type === 'max-buffer-size-exceeded') {
          this.#overflow = new InvalidBodyError(`an event-stream line or event exceeds maxEventSize (${this.#maxEventSize} characters)`);
        }
        // invalid-retry and unknown-field are ignored, as the WHATWG rules say.
      },
    });
  }

  /** Feeds one chunk of the body. Throws {@link InvalidBodyError} once an event outgrows `maxEventSize`. */
  push(bytes: Uint8Array): void {
    this.#feed(this.#text.decode(bytes, { stream: true }));
  }

  /**
   * The body ended: flushes a split UTF-8 sequence (as U+FFFD) and dispatches an event whose
   * blank line was a final CR. An event without its blank line is discarded.
   */
  end(): void {
    this.#feed(this.#text.decode());
  }

  #feed(text: string): void {
    if (this.#overflow) throw this.#overflow;
    if (this.#lfOwed && text.length > 0) {
      this.#lfOwed = false;
      if (text.charCodeAt(0) === 0x0a) text = text.slice(1);
    }
    if (text.length === 0) return;
    // A CR may be the first half of a CRLF, so the parser holds a final CR until the next chunk:
    // an event ended by CR CR would wait for the server's next write. An LF after it makes it a
    // CRLF, one line end either way; the LF that may start the next chunk is then dropped.
    if (text.charCodeAt(text.length - 1) === 0x0d) {
      text += '\n';
      this.#lfOwed = true;
    }
    this.#parser.feed(text);
    if (this.#overflow) throw this.#overflow;
  }
}
