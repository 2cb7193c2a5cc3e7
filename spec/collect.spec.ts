/**
 * The collecting operators `body()`, `text()` and `json()`, on plain event sequences.
 */
import { Subject, concat, defer, of, retry, throwError } from 'rxjs';
import type { Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { body, json, text } from '../lib/core/collect.js';
import type { CollectedResponse } from '../lib/core/collect.js';
import { ConnectionDownError, InvalidBodyError, ProtocolError } from '../lib/core/errors.js';
import type { Headers, ResponseEvent } from '../lib/core/events.js';

interface Outcome<T> {
  readonly values: T[];
  error: unknown;
  completed: boolean;
}

/** Subscribes and records what happens, live (synchronous sources are done on return). */
function run<T>(source: Observable<T>): Outcome<T> {
  const outcome: Outcome<T> = { values: [], error: undefined, completed: false };
  source.subscribe({
    next: v => outcome.values.push(v),
    error: (e: unknown) => (outcome.error = e),
    complete: () => (outcome.completed = true),
  });
  return outcome;
}

const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
const response = (status: number, headers: Headers = {}): ResponseEvent => ({ type: 'response', status, headers });
const data = (chunk: string | Uint8Array): ResponseEvent => ({ type: 'data', data: typeof chunk === 'string' ? utf8(chunk) : chunk });
const trailers = (headers: Headers): ResponseEvent => ({ type: 'trailers', headers });
const inform = (status: number, headers: Headers = {}): ResponseEvent => ({ type: 'inform', status, headers });

/** The message JSON.parse gives for `source`, whatever the engine's wording. */
function parseMessage(source: string): string {
  try {
    JSON.parse(source);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`${source} is valid JSON`);
}

describe('body()', () => {
  it('collects status, headers, empty trailers and the bytes of several chunks', () => {
    const headers = { 'content-type': 'application/octet-stream', 'set-cookie': ['a=1'] };
    const { values, completed, error } = run(of(response(200, headers), data(new Uint8Array([1, 2])), data(new Uint8Array([])), data(new Uint8Array([3]))).pipe(body()));
    expect(error).toBeUndefined();
    expect(completed).toBe(true);
    expect(values).toHaveLength(1);
    const [r] = values;
    expect(r.status).toBe(200);
    expect(r.headers).toBe(headers);
    expect(r.trailers).toEqual({});
    expect(r.body).toBeInstanceOf(Uint8Array);
    expect([...r.body]).toEqual([1, 2, 3]);
  });

  it('gives the one chunk as it is', () => {
    const chunk = new Uint8Array([9, 8, 7]);
    const [r] = run(of(response(200), data(chunk)).pipe(body())).values;
    expect(r.body).toBe(chunk);
  });

  it('gives empty bytes for an empty body', () => {
    const [r] = run(of(response(204)).pipe(body())).values;
    expect(r.body).toBeInstanceOf(Uint8Array);
    expect(r.body.byteLength).toBe(0);
  });

  it('collects trailers', () => {
    const [r] = run(of(response(200), data('abc'), trailers({ 'x-checksum': 'abc', 'server-timing': ['a', 'b'] })).pipe(body())).values;
    expect(r.trailers).toEqual({ 'x-checksum': 'abc', 'server-timing': ['a', 'b'] });
    expect(Buffer.from(r.body).toString()).toBe('abc');
  });

  it('skips 1xx informs and keeps the final head', () => {
    const [r] = run(of(inform(100), inform(103, { link: '</a>' }), response(201, { location: '/x' }), data('ok')).pipe(body())).values;
    expect(r.status).toBe(201);
    expect(r.headers).toEqual({ location: '/x' });
  });

  it('treats an HTTP error status as a response', () => {
    const outcome = run(of(response(503), data('busy')).pipe(body()));
    expect(outcome.error).toBeUndefined();
    expect(outcome.values[0].status).toBe(503);
  });

  it('collects a large body of many chunks in order', () => {
    const chunks = Array.from({ length: 1_000 }, (_, i) => data(new Uint8Array(64).fill(i % 256)));
    const [r] = run(of(response(200), ...chunks).pipe(body())).values;
    expect(r.body.byteLength).toBe(64_000);
    expect(r.body[0]).toBe(0);
    expect(r.body[64 * 999]).toBe(999 % 256);
  });

  it('is cold: nothing happens before subscribe, and each subscribe collects anew', () => {
    let subscriptions = 0;
    const events = defer(() => {
      subscriptions++;
      return of(response(200), data('x'));
    });
    const collected = events.pipe(text());
    expect(subscriptions).toBe(0);
    expect(run(collected).values[0].body).toBe('x');
    expect(run(collected).values[0].body).toBe('x');
    expect(subscriptions).toBe(2);
  });

  it('collects each subscription on its own: two at once, and a retry after a failure midway', () => {
    const one = new Subject<ResponseEvent>();
    const two = new Subject<ResponseEvent>();
    let subscriptions = 0;
    const collected = defer(() => (++subscriptions === 1 ? one : two)).pipe(text());
    const first = run(collected);
    const second = run(collected);
    two.next(response(201, { b: '2' }));
    one.next(response(200, { a: '1' }));
    one.next(data('one'));
    two.next(data('two'));
    two.next(trailers({ t: '2' }));
    one.complete();
    two.complete();
    expect(first.values).toEqual([{ status: 200, headers: { a: '1' }, trailers: {}, body: 'one' }]);
    expect(second.values).toEqual([{ status: 201, headers: { b: '2' }, trailers: { t: '2' }, body: 'two' }]);

    // The first attempt fails after its head and some data: the retry's response has none of them.
    let attempts = 0;
    const flaky = defer(() =>
      ++attempts === 1 ? concat(of(response(500, { x: 'first' }), data('partial'), trailers({ t: '1' })), throwError(() => new ConnectionDownError('lost'))) : of(response(200), data('whole')),
    );
    const retried = run(flaky.pipe(text(), retry(1)));
    expect(retried.values).toEqual([{ status: 200, headers: {}, trailers: {}, body: 'whole' }]);
    expect(retried.completed).toBe(true);
  });

  it('makes nothing per call without options: one shared operator each, used by many requests at once', () => {
    expect(body()).toBe(body());
    expect(text()).toBe(text({}));
    expect(json()).toBe(json({ maxBytes: undefined }));
    expect(json<{ a: number }>()).toBe(json());
    const shared = json();
    const one = new Subject<ResponseEvent>();
    const two = new Subject<ResponseEvent>();
    const first = run(one.pipe(shared));
    const second = run(two.pipe(shared));
    two.next(response(201));
    two.next(data('{"a":2}'));
    one.next(response(200));
    one.next(data('{"a":1}'));
    one.complete();
    two.complete();
    expect(first.values.map(r => [r.status, r.body])).toEqual([[200, { a: 1 }]]);
    expect(second.values.map(r => [r.status, r.body])).toEqual([[201, { a: 2 }]]);
  });
});

describe('maxBytes', () => {

  it('accepts a body of exactly maxBytes', () => {
    const [r] = run(of(response(200), data('12345'), data('67890')).pipe(body({ maxBytes: 10 }))).values;
    expect(r.body.byteLength).toBe(10);
  });

  it('errors with InvalidBodyError past maxBytes, and unsubscribes from the response', () => {
    const source = new Subject<ResponseEvent>();
    const outcome = run(source.pipe(text({ maxBytes: 10 })));
    source.next(response(200));
    source.next(data('123456'));
    expect(source.observed).toBe(true);
    source.next(data('78901'));
    expect(outcome.values).toEqual([]);
    expect(outcome.error).toEqual(new InvalidBodyError('response body exceeds maxBytes (10 bytes)'));
    expect(source.observed).toBe(false);
  });

  it('reports the exact error past maxBytes', () => {
    const { error, values } = run(of(response(200), data('123456'), data('78901')).pipe(json({ maxBytes: 10 })));
    expect(values).toEqual([]);
    expect(error).toBeInstanceOf(InvalidBodyError);
    expect((error as InvalidBodyError).code).toBe('RXCONN_INVALID_BODY');
    expect((error as InvalidBodyError).message).toBe('response body exceeds maxBytes (10 bytes)');
  });

  it('maxBytes 0 allows only an empty body', () => {
    expect(run(of(response(204)).pipe(body({ maxBytes: 0 }))).values).toHaveLength(1);
    expect((run(of(response(200), data('x')).pipe(body({ maxBytes: 0 }))).error as Error).message).toBe('response body exceeds maxBytes (0 bytes)');
  });
});

describe('text()', () => {
  it('decodes UTF-8, also when a character is split across chunks', () => {
    const bytes = utf8('prix: 5 € — 🎉 ok');
    const euro = bytes.indexOf(0xe2);
    const party = bytes.indexOf(0xf0);
    const chunks = [bytes.subarray(0, euro + 1), bytes.subarray(euro + 1, euro + 2), bytes.subarray(euro + 2, party + 2), bytes.subarray(party + 2)];
    const [r] = run(of(response(200, { 'content-type': 'text/plain; charset=utf-8' }), ...chunks.map(c => data(c))).pipe(text())).values;
    expect(r.body).toBe('prix: 5 € — 🎉 ok');
  });

  it('splits at every byte give the same text', () => {
    const source = 'Grüße, 世界! 👋🏽';
    const bytes = utf8(source);
    for (let i = 0; i <= bytes.length; i++) {
      const [r] = run(of(response(200), data(bytes.subarray(0, i)), data(bytes.subarray(i))).pipe(text())).values;
      expect(r.body).toBe(source);
    }
  });

  it('gives "" for an empty body, with trailers and status', () => {
    const [r] = run(of(response(200), trailers({ 'grpc-status': '0' })).pipe(text())).values;
    expect(r).toEqual({ status: 200, headers: {}, trailers: { 'grpc-status': '0' }, body: '' });
  });

  it('decodes a chunk that is a view into a larger buffer by its own bytes only', () => {
    const backing = Buffer.from('xxxxHELLOyyyy');
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 4, 5);
    expect(run(of(response(200), data(view)).pipe(text())).values[0].body).toBe('HELLO');
  });
});

describe('json()', () => {
  it('parses the body, whatever the status', () => {
    const [ok] = run(of(response(200, { 'content-type': 'application/json' }), data('{"items":'), data('[1,2,{"a":"é"}]}')).pipe(json<{ items: unknown[] }>())).values;
    expect(ok.body).toEqual({ items: [1, 2, { a: 'é' }] });
    const [notFound] = run(of(response(404), data('{"error":"nope"}')).pipe(json())).values;
    expect(notFound).toEqual({ status: 404, headers: {}, trailers: {}, body: { error: 'nope' } });
  });

  it('skips a UTF-8 byte order mark, as fetch() does', () => {
    const bom = new Uint8Array([0xef, 0xbb, 0xbf]);
    expect(run(of(response(200), data(bom), data('{"a":1}')).pipe(json())).values[0].body).toEqual({ a: 1 });
  });

  it('parses scalars', () => {
    expect(run(of(response(200), data('42')).pipe(json())).values[0].body).toBe(42);
    expect(run(of(response(200), data('"s"')).pipe(json())).values[0].body).toBe('s');
    expect(run(of(response(200), data('null')).pipe(json())).values[0].body).toBeNull();
  });

  it('gives undefined for an empty or blank body', () => {
    const empty = run(of(response(204)).pipe(json()));
    expect(empty.values).toEqual([{ status: 204, headers: {}, trailers: {}, body: undefined }]);
    expect(empty.completed).toBe(true);
    expect(run(of(response(200), data(' \r\n\t ')).pipe(json())).values[0].body).toBeUndefined();
  });

  it('errors with InvalidBodyError on invalid JSON, naming the status, the content-type and the parser complaint', () => {
    const { error, values, completed } = run(of(response(200, { 'content-type': 'application/json' }), data('{"a":'), data(' nope}')).pipe(json()));
    expect(values).toEqual([]);
    expect(completed).toBe(false);
    expect(error).toBeInstanceOf(InvalidBodyError);
    const e = error as InvalidBodyError;
    expect(e.code).toBe('RXCONN_INVALID_BODY');
    expect(e.message).toBe(`response body is not valid JSON (status 200, content-type application/json): ${parseMessage('{"a": nope}')}`);
    expect(e.cause).toBeInstanceOf(SyntaxError);
  });

  it('names the status alone when there is no content-type (an HTML error page)', () => {
    const html = '<html><body>Bad Gateway</body></html>';
    const { error } = run(of(response(502), data(html)).pipe(json()));
    expect((error as Error).message).toBe(`response body is not valid JSON (status 502): ${parseMessage(html)}`);
  });

  it('errors on truncated JSON', () => {
    const { error } = run(of(response(200, { 'content-type': 'application/json' }), data('[1, 2')).pipe(json()));
    expect((error as Error).message).toBe(`response body is not valid JSON (status 200, content-type application/json): ${parseMessage('[1, 2')}`);
  });
});

describe('ends and errors', () => {
  it.each([
    ['body', body()],
    ['text', text()],
    ['json', json()],
  ] as const)('%s(): a stream without a response head errors with ProtocolError', (_name, operator) => {
    for (const events of [of<ResponseEvent>(), of(data('x')), of(inform(100))]) {
      const { error, values } = run((events as Observable<ResponseEvent>).pipe(operator as (s: Observable<ResponseEvent>) => Observable<CollectedResponse<unknown>>));
      expect(values).toEqual([]);
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).code).toBe('RXCONN_PROTOCOL');
      expect((error as ProtocolError).message).toBe('the response ended without a status');
    }
  });

  it.each([
    ['body', body()],
    ['text', text()],
    ['json', json()],
  ] as const)('%s(): an error of the request passes through as it is, with nothing emitted', (_name, operator) => {
    const down = new ConnectionDownError('the connection was lost');
    const events = concat(of(response(200), data('{"par')), throwError(() => down));
    const { error, values, completed } = run(events.pipe(operator as (s: Observable<ResponseEvent>) => Observable<CollectedResponse<unknown>>));
    expect(error).toBe(down);
    expect(values).toEqual([]);
    expect(completed).toBe(false);
  });

  it('emits nothing until the response completes, then once', () => {
    const source = new Subject<ResponseEvent>();
    const outcome = run(source.pipe(text()));
    source.next(response(200));
    source.next(data('a'));
    expect(outcome.values).toEqual([]);
    source.next(data('b'));
    source.complete();
    expect(outcome.values).toEqual([{ status: 200, headers: {}, trailers: {}, body: 'ab' }]);
  });

  it('unsubscribing from the result unsubscribes from the response (cancels the request)', () => {
    const source = new Subject<ResponseEvent>();
    const subscription = source.pipe(body()).subscribe();
    source.next(response(200));
    expect(source.observed).toBe(true);
    subscription.unsubscribe();
    expect(source.observed).toBe(false);
  });
});
