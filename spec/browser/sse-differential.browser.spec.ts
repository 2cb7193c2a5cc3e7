/**
 * rxconn's event-stream parsing against Chromium's own `EventSource`, on the same bytes: the
 * events each dispatches (type, data, last event ID) and the ID each resumes from (what
 * Chromium sends as Last-Event-ID when it reconnects after the end of the response). The cases
 * are the rules' corners: BOM, the three line ends, id-only blocks, ids with NUL, empty ids,
 * retry, comments, fields without a colon, the space after the colon, an unfinished last event.
 */
import { commands } from 'vitest/browser';
import { describe, expect, test } from 'vitest';
import { firstValueFrom, take, toArray } from 'rxjs';
import { open } from '../../lib/browser/index.js';
import { EventStreamDecoder } from '../../lib/core/sse/decoder.js';
import type { SseCursor } from '../../lib/core/sse/decoder.js';
import { origin, track } from './helpers.js';

/** Every case starts with this line, so that Chromium reconnects (and shows its last event ID) at once. */
const RECONNECT_SOON = 'retry: 10\n';
/** The event types the cases use (an EventSource hears a type only with a listener for it). */
const TYPES = ['message', 'tick', 'add', 'x y', 'MESSAGE'];

const CASES: Record<string, string> = {
  'LF, CRLF and CR line ends': 'data: a\n\ndata: b\r\n\r\ndata: c\r\rdata: d\r\n\n',
  'multi-line data, empty data, data without a colon': 'data: 1\ndata\ndata:\ndata:  2\n\ndata\n\ndata:\n\n',
  'event types, reset after each event': 'event: tick\ndata: t\n\ndata: m\n\nevent:\ndata: e\n\nevent: x y\ndata: s\n\nevent: MESSAGE\ndata: c\n\n',
  'ids: persist, an empty one resets, a NUL one is ignored': 'id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: 2\ndata: d\n\nid: 3\0x\ndata: e\n\nid:\ndata: f\n\nid: 4\n\n',
  'an id-only block moves the last event ID': 'id: 7\ndata: a\n\nid: 8\n\ndata: b\n\nid: 9\nevent: tick\n\n',
  'an id-only block last': 'data: a\n\nid: last\n\n',
  'an id in an unfinished block is not taken': 'id: 1\ndata: a\n\nid: 2\ndata: b\n',
  'retry: digits only': 'retry: 20\ndata: a\n\nretry: -5\nretry: 1.5\nretry: x\nretry:\nretry: 30\ndata: b\n\n',
  'comments and unknown fields': ': hello\ndata: a\n: more\nfoo: bar\nDATA: no\nid : no\n\n:\n\n',
  'one space after the colon is removed, not two': 'data:  two\ndata:\tx\nid:  s\n\n',
  'an unfinished last event is discarded': 'data: a\n\ndata: b',
  'a block without data is not dispatched': 'event: add\n\nretry: 15\n\n\n\n\ndata: z\n\n',
  'non-ASCII text': 'data: é€😀\nid: ü\n\n',
};

/** `bytes` for the origin's `/sse?body=`. */
const base64url = (bytes: Uint8Array): string => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

interface Outcome {
  readonly events: Array<[type: string, data: string, lastEventId: string]>;
  /**
   * The last event ID after the response: what the next request resumes from ('' for none), as
   * a header carries it (the server's parser drops the spaces around a field value).
   */
  readonly resumesFrom: string;
}

/** Chromium's EventSource on `bytes`: its events until it has reconnected once, and the Last-Event-ID it reconnected with. */
async function chromium(bytes: Uint8Array): Promise<Outcome> {
  const o = await origin('http1');
  const source = new EventSource(`${o.url}/sse?body=${base64url(bytes)}`);
  const events: Outcome['events'] = [];
  for (const type of TYPES) source.addEventListener(type, event => events.push([event.type, String(event.data), event.lastEventId]));
  try {
    await new Promise<void>(resolve => {
      let opens = 0;
      source.onopen = () => {
        if (++opens === 2) resolve();
      };
    });
  } finally {
    source.close();
  }
  const heard = (await commands.originState(o.id)).log.filter(line => line.startsWith('sse '));
  expect(heard).toHaveLength(2);
  const resumed = heard[1]!.slice('sse last-event-id='.length);
  return { events, resumesFrom: resumed === '(none)' ? '' : resumed };
}

/** rxconn's decoder on the same bytes, in chunks of `split` bytes. */
function rxconn(bytes: Uint8Array, split = bytes.length): Outcome {
  const cursor: SseCursor = { lastEventId: '', retry: undefined };
  const events: Outcome['events'] = [];
  const decoder = new EventStreamDecoder(cursor, 1 << 20, event => events.push([event.type, event.data, event.id]));
  for (let at = 0; at < bytes.length; at += Math.max(1, split)) decoder.push(bytes.subarray(at, at + Math.max(1, split)));
  decoder.end();
  return { events, resumesFrom: cursor.lastEventId.replace(/^[ \t]+|[ \t]+$/g, '') };
}

describe('event-stream parsing: rxconn against Chromium’s EventSource', () => {
  test.each(Object.entries(CASES))('%s', async (_name, text) => {
    const bytes = new TextEncoder().encode(RECONNECT_SOON + text);
    const reference = await chromium(bytes);
    expect(rxconn(bytes)).toEqual(reference);
    expect(rxconn(bytes, 1)).toEqual(reference);
  });

  test('rxconn’s eventSource() in the browser runtime resumes from an id-only block, and sends a non-ASCII id as UTF-8, as Chromium does', async () => {
    const text = 'id: 1\ndata: a\n\nid: é€😀\n\n';
    const bytes = new TextEncoder().encode(RECONNECT_SOON + text);
    const reference = await chromium(bytes);
    expect(reference.resumesFrom).toBe('é€😀');
    const o = await origin('http1');
    const conn = track(open(o.url, { retry: { initialDelay: 20, maxDelay: 100 } }));
    const source = conn.eventSource(`/sse?body=${base64url(bytes)}`, { minReconnectDelay: 0 });
    // The same one event per response; the second request carries the id the first left.
    const events = await firstValueFrom(source.pipe(take(2), toArray()));
    expect(events.map(e => [e.data, e.id])).toEqual([['a', '1'], ['a', '1']]);
    const heard = (await commands.originState(o.id)).log.filter(line => line.startsWith('sse '));
    expect(heard.slice(0, 2)).toEqual(['sse last-event-id=(none)', `sse last-event-id=${reference.resumesFrom}`]);
    await conn.shutdown();
  });

  test('a leading BOM is removed', async () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(`${RECONNECT_SOON}data: a\n\n`)]);
    const reference = await chromium(bytes);
    expect(reference.events).toEqual([['message', 'a', '']]);
    expect(rxconn(bytes)).toEqual(reference);
    expect(rxconn(bytes, 1)).toEqual(reference);
  });
});
