/**
 * The event-stream decoder against the WHATWG parsing rules (HTML §9.2), with the body fed in
 * the chunks a server may produce: BOM, line ends, splits inside a CRLF and inside a UTF-8
 * character, ids and retry, the incomplete last event.
 */
import { describe, expect, it } from 'vitest';
import { EventStreamDecoder } from '../lib/core/sse/decoder.js';
import type { SseCursor } from '../lib/core/sse/decoder.js';
import type { SseEvent } from '../lib/core/sse/event.js';
import { InvalidBodyError } from '../lib/index.js';

const bytes = (chunk: string | number[] | Uint8Array): Uint8Array =>
  typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk instanceof Uint8Array ? chunk : Uint8Array.from(chunk);

/** Feeds the chunks, ends the body, and returns what was dispatched. */
function parse(chunks: Array<string | number[] | Uint8Array>, cursor: SseCursor = { lastEventId: '', retry: undefined }, maxEventSize = 1_048_576): { events: SseEvent[]; cursor: SseCursor } {
  const events: SseEvent[] = [];
  const decoder = new EventStreamDecoder(cursor, maxEventSize, event => events.push(event));
  for (const chunk of chunks) decoder.push(bytes(chunk));
  decoder.end();
  return { events, cursor };
}

/** Every split of `text`'s bytes into two chunks gives the same events as one chunk. */
function everySplit(text: string | Uint8Array): SseEvent[][] {
  const all = bytes(text);
  const results: SseEvent[][] = [];
  for (let i = 0; i <= all.length; i++) results.push(parse([all.subarray(0, i), all.subarray(i)]).events);
  return results;
}

const message = (data: string, extra: Partial<SseEvent> = {}): SseEvent => ({ type: 'message', data, id: '', retry: undefined, ...extra });

describe('event-stream decoder', () => {
  describe('byte order mark', () => {
    it('a leading UTF-8 BOM is removed, also when split across chunks', () => {
      expect(parse([[0xef, 0xbb, 0xbf], 'data: x\r\n\r\n']).events).toEqual([message('x')]);
      expect(parse([[0xef], [0xbb], [0xbf, 0x64], 'ata: x\n\n']).events).toEqual([message('x')]);
    });

    it('only the first one: a second BOM makes the first field unknown (the event is lost)', () => {
      expect(parse([[0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf], 'data: x\n\n']).events).toEqual([]);
    });

    it('a BOM that is not at the start is data', () => {
      expect(parse(['data: \ufeffx\n\n']).events).toEqual([message('\ufeffx')]);
    });
  });

  describe('line ends', () => {
    it.each([
      ['LF', 'data: a\n\ndata: b\n\n'],
      ['CR', 'data: a\r\rdata: b\r\r'],
      ['CRLF', 'data: a\r\n\r\ndata: b\r\n\r\n'],
      ['mixed', 'data: a\r\n\rdata: b\n\r\n'],
    ])('%s', (_name, text) => {
      for (const events of everySplit(text)) expect(events).toEqual([message('a'), message('b')]);
    });

    it('a CRLF split across two chunks is one line end (not two: that would dispatch early)', () => {
      expect(parse(['data: a\r', '\ndata: b\r\n\r\n']).events).toEqual([message('a\nb')]);
      expect(parse(['data: a\r', '', '\ndata: b\r', '\n\r', '\n']).events).toEqual([message('a\nb')]);
    });

    it('an event ended by CR CR is dispatched at once, not when the next chunk arrives', () => {
      const events: SseEvent[] = [];
      const decoder = new EventStreamDecoder({ lastEventId: '', retry: undefined }, 1024, event => events.push(event));
      decoder.push(bytes('data: a\r\r'));
      expect(events).toEqual([message('a')]);
      decoder.push(bytes('\ndata: b\r\r')); // the LF completes the CRLF begun by the last CR: no extra blank line
      expect(events).toEqual([message('a'), message('b')]);
    });
  });

  it('a UTF-8 character split across chunks, at every byte', () => {
    const text = 'data: é€😀\n\n';
    for (const events of everySplit(text)) expect(events).toEqual([message('é€😀')]);
    const one = [...bytes(text)].map(b => [b]);
    expect(parse(one).events).toEqual([message('é€😀')]);
  });

  it('invalid UTF-8 becomes U+FFFD', () => {
    expect(parse([[0x64, 0x61, 0x74, 0x61, 0x3a, 0xff, 0x0a, 0x0a]]).events).toEqual([message('\ufffd')]);
  });

  describe('fields', () => {
    it('multi-line data is joined with LF', () => {
      expect(parse(['data: a\ndata:\ndata: c\n\n']).events).toEqual([message('a\n\nc')]);
    });

    it('a data line with no colon, or an empty value, gives empty data (and is dispatched)', () => {
      expect(parse(['data\n\n', 'data:\n\n']).events).toEqual([message(''), message('')]);
    });

    it('only the first space after the colon is removed', () => {
      expect(parse(['data:  two\n\n', 'data:none\n\n']).events).toEqual([message(' two'), message('none')]);
    });

    it('comments and unknown fields are ignored', () => {
      expect(parse([': hello\nfoo: bar\nDATA: x\ndata: y\n\n']).events).toEqual([message('y')]);
    });

    it('the type is the event field, else message (also for an empty one); it does not carry over', () => {
      expect(parse(['event: add\ndata: 1\n\nevent:\ndata: 2\n\ndata: 3\n\n']).events).toEqual([
        message('1', { type: 'add' }),
        message('2'),
        message('3'),
      ]);
    });

    it('a block without data is not dispatched', () => {
      expect(parse(['event: add\n\n', ':only a comment\n\n', '\n\n\n']).events).toEqual([]);
    });
  });

  describe('last event ID', () => {
    it('persists to the next events and across responses (the cursor), an empty id resets it', () => {
      const cursor: SseCursor = { lastEventId: 'start', retry: undefined };
      expect(parse(['data: a\n\nid: 1\ndata: b\n\ndata: c\n\n'], cursor).events.map(e => e.id)).toEqual(['start', '1', '1']);
      expect(cursor.lastEventId).toBe('1');
      expect(parse(['data: d\n\nid\ndata: e\n\nid: 2\ndata: f\n\nid:\ndata: g\n\n'], cursor).events.map(e => e.id)).toEqual(['1', '', '2', '']);
      expect(cursor.lastEventId).toBe('');
    });

    it('an id containing NUL is ignored', () => {
      const { events, cursor } = parse(['id: 7\ndata: a\n\nid: x\0y\ndata: b\n\n']);
      expect(events.map(e => e.id)).toEqual(['7', '7']);
      expect(cursor.lastEventId).toBe('7');
    });

    it('an id of an event that was never completed is not taken', () => {
      const { cursor } = parse(['id: 1\ndata: a\n\nid: 2\ndata: b\n']);
      expect(cursor.lastEventId).toBe('1');
      expect(parse(['id: 1\n\nid: 2\n']).cursor.lastEventId).toBe('1');
    });

    it('a block with an id and no data moves the last event ID without dispatching an event', () => {
      const text = 'id: 1\ndata: a\n\nid: 5\n\n: keep-alive\nid: 6\nevent: tick\n\ndata: b\n\n';
      for (const events of everySplit(text)) expect(events.map(e => [e.data, e.id])).toEqual([['a', '1'], ['b', '6']]);
      const { events, cursor } = parse(['data: a\n\nid: 9\r\n\r\n']);
      expect(events.map(e => e.id)).toEqual(['']);
      expect(cursor.lastEventId).toBe('9');
      expect(parse(['id: 3\n\nid\n\n']).cursor.lastEventId).toBe('');
      expect(parse(['id: 3\n\nid: x\0\n\n']).cursor.lastEventId).toBe('3');
    });
  });

  describe('retry', () => {
    it('ASCII digits only set it; it is exposed on the events that follow', () => {
      const { events, cursor } = parse(['data: a\n\nretry: 1500\ndata: b\n\nretry: -5\nretry: 1.5\nretry: 15a\nretry: \nretry: +7\nretry:  8\ndata: c\n\n']);
      expect(events.map(e => e.retry)).toEqual([undefined, 1500, 1500]);
      expect(cursor.retry).toBe(1500);
    });

    it('is taken at once, even without an event after it', () => {
      expect(parse(['retry: 42\n']).cursor.retry).toBe(42);
    });
  });

  describe('end of the body', () => {
    it('an incomplete last event is discarded (with or without its last line end)', () => {
      expect(parse(['data: a\n\ndata: b\n']).events).toEqual([message('a')]);
      expect(parse(['data: a\n\ndata: b']).events).toEqual([message('a')]);
      expect(parse(['data: a\r\n\r\ndata: b\r']).events).toEqual([message('a')]);
    });

    it('a final CR that completes the event dispatches it', () => {
      expect(parse(['data: a\r', '\r']).events).toEqual([message('a')]);
    });

    it('a UTF-8 character cut by the end does not complete anything', () => {
      expect(parse(['data: a\n\ndata: b\n', [0xc3]]).events).toEqual([message('a')]);
    });
  });

  it('a line split over many chunks, and lines ending in every way within one chunk', () => {
    expect(parse(['da', 'ta', ': ', 'x', 'y\n', '\n']).events).toEqual([message('xy')]);
    expect(parse(['data: a\rdata: b\ndata: c\r\ndata: d\r\r\n']).events).toEqual([message('a\nb\nc\nd')]);
    for (const events of everySplit('data: a\r\r\ndata: b\n\r\r\n\r')) expect(events).toEqual([message('a'), message('b')]);
  });

  it('maxEventSize: an event or a line over it throws RXCONN_INVALID_BODY', () => {
    const decoder = new EventStreamDecoder({ lastEventId: '', retry: undefined }, 8, () => {});
    decoder.push(bytes('data: 12\n\n'));
    const overflow = (): void => decoder.push(bytes('data: 123456789'));
    expect(overflow).toThrow(InvalidBodyError);
    expect(overflow).toThrow('an event-stream line or event exceeds maxEventSize (8 characters)');
    const many = new EventStreamDecoder({ lastEventId: '', retry: undefined }, 8, () => {});
    expect(() => many.push(bytes('data: 1234\ndata: 5678\n'))).toThrow('exceeds maxEventSize (8 characters)');
    expect(() => many.push(bytes('\n'))).toThrow('exceeds maxEventSize (8 characters)'); // it stays failed
    const whole = new EventStreamDecoder({ lastEventId: '', retry: undefined }, 8, () => {});
    expect(() => whole.push(bytes('data: 123456789\n\n'))).toThrow('exceeds maxEventSize (8 characters)'); // also within one chunk
  });
});
