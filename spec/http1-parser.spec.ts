/**
 * The HTTP/1.1 response parser, fed bytes directly: framing, 1xx, upgrade, keep-alive rules,
 * header shapes and every protocol error. The key property: the events do not depend on how the
 * bytes are split into reads.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '../lib/core/errors.js';
import { FIELD_VALUE_BYTES, TOKEN_BYTES, indexOfNonFieldValue, indexOfNonToken, isFieldValue, isToken } from '../lib/core/http-syntax.js';
import { ResponseParser } from '../lib/node/http1-parser.js';
import { bytes, rxParse } from './helpers/http1-events.js';
import type { Event, Run } from './helpers/http1-events.js';

const parse = rxParse;
const whole = (text: string, run?: Run): Event[] => parse([bytes(text)], run);

/** Every way to cut `text` in two, and one byte at a time. */
function splits(text: string): Buffer[][] {
  const b = bytes(text);
  const out: Buffer[][] = [];
  for (let i = 0; i <= b.length; i++) out.push([b.subarray(0, i), b.subarray(i)]);
  out.push([...b].map(byte => Buffer.from([byte])));
  return out;
}

/** The events with each error message cut before its quote of the input (which shows as much of a bad line as had arrived). */
const kind = (events: Event[]): Event[] => events.map(e => (e[0] === 'error' ? ['error', e[1].split(': "')[0]] : e));

describe('ResponseParser: framing', () => {
  it('reads a content-length body, with repeated headers as arrays and set-cookie always an array', () => {
    const text =
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nSet-Cookie: a=1\r\nX-Dup: 1\r\nx-dup: 2\r\nX-Dup:3\r\nX-Spaces:   padded  \r\nX-Empty:\r\n\r\nhello world';
    expect(whole(text)).toEqual([
      ['head', 200, { 'content-type': 'text/plain', 'content-length': '11', 'set-cookie': ['a=1'], 'x-dup': ['1', '2', '3'], 'x-spaces': 'padded', 'x-empty': '' }],
      ['data', 'hello world'],
      ['end', true],
    ]);
  });

  it('reads a zero content-length as no body', () => {
    expect(whole('HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n')).toEqual([['head', 201, { 'content-length': '0' }], ['end', true]]);
  });

  it('refuses a content-length repeated, even with the same value, as llhttp does', () => {
    expect(whole('HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nok')).toEqual([['error', 'response has more than one content-length field']]);
    expect(whole('HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok')).toEqual([['error', 'invalid content-length in response: "2, 2"']]);
  });

  it('reads a chunked body with chunk extensions and trailers', () => {
    const text =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n' +
      '5;name=value\r\nhello\r\n6;ext;other="q;x\\"y"\r\n world\r\nA;=;;x\r\n0123456789\r\n0\r\nX-Checksum: abc\r\nSet-Cookie: t=1\r\nX-Checksum: def\r\n\r\n';
    expect(whole(text)).toEqual([
      ['head', 200, { 'transfer-encoding': 'chunked', trailer: 'X-Checksum' }],
      ['data', 'hello world0123456789'],
      ['trailers', { 'x-checksum': ['abc', 'def'], 'set-cookie': ['t=1'] }],
      ['end', true],
    ]);
  });

  it('reads a chunked body without trailers (no trailers event), and leading zeros in sizes', () => {
    expect(whole('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n003\r\nabc\r\n000\r\n\r\n')).toEqual([
      ['head', 200, { 'transfer-encoding': 'gzip, chunked' }],
      ['data', 'abc'],
      ['end', true],
    ]);
  });

  it('refuses content-length with transfer-encoding, in either order (a smuggling signature, refused as llhttp does)', () => {
    const error = [['error', 'response has both content-length and transfer-encoding']];
    expect(whole('HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n')).toEqual(error);
    expect(whole('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 100\r\n\r\n2\r\nok\r\n0\r\n\r\n')).toEqual(error);
    expect(whole('HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\nContent-Length: 100\r\n\r\n')).toEqual(error);
  });

  it('closes after an HTTP/1.0 response with a transfer-encoding, even with keep-alive (RFC 9112 §6.1)', () => {
    const events = whole('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n');
    expect(events[events.length - 1]).toEqual(['end', false]);
  });

  it('reads a body without length until the connection closes (finish), and the connection is not reusable', () => {
    const text = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end';
    const parser = new ResponseParser(16_384);
    const events: string[] = [];
    parser.expect('GET', {
      onInform: () => events.push('inform'),
      onHead: status => events.push(`head ${status}`),
      onData: chunk => events.push(`data ${chunk.toString()}`),
      onTrailers: () => events.push('trailers'),
      onEnd: reusable => events.push(`end ${reusable}`),
    });
    parser.execute(bytes(text));
    parser.execute(bytes(' and more'));
    expect(parser.closeDelimited).toBe(true);
    expect(parser.busy).toBe(true);
    expect(events).toEqual(['head 200', 'data until the end', 'data  and more']);
    parser.finish();
    expect(events).toEqual(['head 200', 'data until the end', 'data  and more', 'end false']);
    expect(parser.busy).toBe(false);
    expect(parser.closeDelimited).toBe(false);
  });

  it('reads a body until close when the final coding is not chunked', () => {
    expect(whole('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nraw bytes', { close: true })).toEqual([
      ['head', 200, { 'transfer-encoding': 'chunked, gzip' }],
      ['data', 'raw bytes'],
      ['end', false],
    ]);
  });

  it('reads an empty close-delimited body', () => {
    expect(whole('HTTP/1.1 200 OK\r\n\r\n', { close: true })).toEqual([['head', 200, {}], ['end', false]]);
  });

  it.each<[string, string, string]>([
    ['HEAD', 'HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: text/html\r\n\r\n'],
    ['204', 'DELETE', 'HTTP/1.1 204 No Content\r\nContent-Length: 1000\r\n\r\n'],
    ['304', 'GET', 'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nTransfer-Encoding: chunked\r\n\r\n'],
  ])('has no body for %s, whatever the headers say', (_case, method, text) => {
    const events = whole(text, { methods: [method] });
    expect(events).toHaveLength(2);
    expect(events[0][0]).toBe('head');
    expect(events[1]).toEqual(['end', true]);
  });

  it('reads a second response in a later read, once the next one is expected', () => {
    const reads = ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na', '\r\nHTTP/1.1 204 No Content\r\n\r\n', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n'];
    expect(parse(reads.map(bytes), { methods: ['GET', 'DELETE', 'HEAD'] })).toEqual([
      ['head', 200, { 'content-length': '1' }],
      ['data', 'a'],
      ['end', true],
      ['head', 204, {}],
      ['end', true],
      ['head', 200, { 'content-length': '5' }],
      ['end', true],
    ]);
  });

  it('reports busy while a response is expected or being read', () => {
    const parser = new ResponseParser(16_384);
    expect(parser.busy).toBe(false);
    const ends: boolean[] = [];
    parser.expect('GET', { onInform: () => {}, onHead: () => {}, onData: () => {}, onTrailers: () => {}, onEnd: r => ends.push(r) });
    expect(parser.busy).toBe(true);
    parser.execute(bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\no'));
    expect(parser.busy).toBe(true);
    parser.execute(bytes('k'));
    expect(parser.busy).toBe(false);
    expect(ends).toEqual([true]);
  });

  it('hands the rest to a new handler after redirect()', () => {
    const parser = new ResponseParser(16_384);
    const seen: string[] = [];
    const handler = (name: string) => ({
      onInform: () => seen.push(`${name} inform`),
      onHead: () => seen.push(`${name} head`),
      onData: (c: Buffer) => seen.push(`${name} data ${c.toString()}`),
      onTrailers: () => seen.push(`${name} trailers`),
      onEnd: (r: boolean) => seen.push(`${name} end ${r}`),
    });
    parser.expect('GET', handler('a'));
    parser.execute(bytes('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab'));
    parser.redirect(handler('b'));
    parser.execute(bytes('cd'));
    expect(seen).toEqual(['a head', 'a data ab', 'b data cd', 'b end true']);
  });
});

describe('ResponseParser: 1xx and upgrade', () => {
  it('reports 100 and 103 as informs before the final head', () => {
    const text =
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nLink: </b.js>; rel=preload\r\n\r\n' +
      'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
    expect(whole(text, { methods: ['POST'] })).toEqual([
      ['inform', 100, {}],
      ['inform', 103, { link: ['</a.css>; rel=preload', '</b.js>; rel=preload'] }],
      ['head', 200, { 'content-length': '2' }],
      ['data', 'ok'],
      ['end', true],
    ]);
  });

  it('returns the bytes after a 101 (they belong to the new protocol) and reports no end', () => {
    const parser = new ResponseParser(16_384);
    const events: string[] = [];
    parser.expect('GET', {
      onInform: () => events.push('inform'),
      onHead: (status, headers) => events.push(`head ${status} ${String(headers.upgrade)}`),
      onData: () => events.push('data'),
      onTrailers: () => events.push('trailers'),
      onEnd: () => events.push('end'),
    });
    const rest = parser.execute(bytes('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello'));
    expect(rest?.toString('latin1')).toBe('\x81\x05hello');
    expect(events).toEqual(['head 101 websocket']);
    expect(parser.execute(bytes('\x81\x02hi'))?.toString('latin1')).toBe('\x81\x02hi');
    expect(parser.busy).toBe(true);
    expect(() => parser.finish()).not.toThrow();
  });

  it('returns an empty rest when the 101 head ends the input', () => {
    const parser = new ResponseParser(16_384);
    parser.expect('GET', { onInform: () => {}, onHead: () => {}, onData: () => {}, onTrailers: () => {}, onEnd: () => {} });
    const rest = parser.execute(bytes('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n'));
    expect(rest?.length).toBe(0);
  });

  it('returns the rest after a 100 then a 101', () => {
    expect(whole('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\nPRI')).toEqual([
      ['inform', 100, {}],
      ['head', 101, { upgrade: 'h2c' }],
      ['rest', 'PRI'],
    ]);
  });
});

describe('ResponseParser: keep-alive', () => {
  it.each<[string, string, boolean]>([
    ['HTTP/1.1 by default', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', true],
    ['HTTP/1.1 with connection: close', 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', false],
    ['HTTP/1.1 with connection: Close in a list', 'HTTP/1.1 200 OK\r\nConnection: te, Close\r\nContent-Length: 0\r\n\r\n', false],
    ['HTTP/1.1 with connection: closed (not close)', 'HTTP/1.1 200 OK\r\nConnection: closed\r\nContent-Length: 0\r\n\r\n', true],
    ['HTTP/1.1 with two connection fields', 'HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\nContent-Length: 0\r\n\r\n', false],
    ['HTTP/1.0 by default', 'HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n', false],
    ['HTTP/1.0 with connection: keep-alive', 'HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n', true],
    ['HTTP/1.1 204 with connection: close', 'HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n', false],
    ['HTTP/1.1 chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', true],
  ])('%s → reusable %s', (_case, text, reusable) => {
    const events = whole(text);
    expect(events[events.length - 1]).toEqual(['end', reusable]);
  });

  it('HTTP/1.0 without a length reads until close', () => {
    expect(whole('HTTP/1.0 200 OK\r\n\r\nold school', { close: true })).toEqual([['head', 200, {}], ['data', 'old school'], ['end', false]]);
  });
});

describe('ResponseParser: protocol errors', () => {
  it.each<[string, string, string]>([
    ['an HTTP/2 status line', 'HTTP/2 200 OK\r\n\r\n', 'malformed status line: "HTTP/2 200 OK"'],
    ['a two-digit status', 'HTTP/1.1 20 OK\r\n\r\n', 'malformed status line: "HTTP/1.1 20 OK"'],
    ['a four-digit status', 'HTTP/1.1 2000 OK\r\n\r\n', 'malformed status line: "HTTP/1.1 2000 OK"'],
    ['no space before the reason', 'HTTP/1.1 200OK\r\n\r\n', 'malformed status line: "HTTP/1.1 200OK"'],
    ['a lower-case protocol', 'http/1.1 200 OK\r\n\r\n', 'malformed status line: "http/1.1 200 OK"'],
    ['an ICY status line', 'ICY 200 OK\r\n\r\n', 'malformed status line: "ICY 200 OK"'],
    ['garbage', 'hello\r\n\r\n', 'malformed status line: "hello"'],
    ['a status below 100', 'HTTP/1.1 099 Odd\r\n\r\n', 'invalid status code 99'],
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nNoColon\r\n\r\n', 'malformed header line in response: "NoColon"'],
    ['a header line starting with a colon', 'HTTP/1.1 200 OK\r\n: value\r\n\r\n', 'malformed header line in response: ": value"'],
    ['an obs-fold continuation line', 'HTTP/1.1 200 OK\r\nX-A: a\r\n folded\r\n\r\n', 'obsolete line folding (a header line starting with whitespace) in response: " folded"'],
    ['a space in a header name', 'HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n', 'invalid header name in response: "Bad Name"'],
    ['a space before the colon', 'HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n', 'invalid header name in response: "Content-Length "'],
    ['conflicting content-length fields', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello', 'response has more than one content-length field'],
    ['a conflicting content-length list', 'HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello', 'invalid content-length in response: "5, 6"'],
    ['a negative content-length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', 'invalid content-length in response: "-1"'],
    ['a non-numeric content-length', 'HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n', 'invalid content-length in response: "12abc"'],
    ['an empty content-length', 'HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n', 'invalid content-length in response: ""'],
    ['a huge content-length', 'HTTP/1.1 200 OK\r\nContent-Length: 9999999999999999\r\n\r\n', 'invalid content-length in response: "9999999999999999"'],
    ['a content-length with a trailing tab', 'HTTP/1.1 200 OK\r\nContent-Length: 5\t\r\n\r\nhello', 'invalid content-length in response: "5\\t"'],
    ['a bare LF ending a header line', 'HTTP/1.1 200 OK\r\nFoo: a\nBar: b\r\n\r\n', 'a bare LF (no CR) ends a line in the response head: "Foo: a"'],
    ['a bare LF ending the status line', 'HTTP/1.1 200 OK\nContent-Length: 0\n\n', 'a bare LF (no CR) ends a line in the response status line: "HTTP/1.1 200 OK"'],
    ['a bare CR in a header value', 'HTTP/1.1 200 OK\r\nFoo: 1\rBar: 2\r\n\r\n', 'a CR not followed by LF in the response head: "Foo: 1\\r"'],
    ['NUL in a header value', 'HTTP/1.1 200 OK\r\nFoo: a\x00b\r\n\r\n', 'forbidden character 0x00 in the response head: "Foo: a\\u0000"'],
    ['DEL in a header value', 'HTTP/1.1 200 OK\r\nFoo: a\x7fb\r\n\r\n', 'forbidden character 0x7f in the response head: "Foo: a\x7f"'],
    ['a control character in the reason phrase', 'HTTP/1.1 200 O\x01K\r\n\r\n', 'forbidden character 0x01 in the response status line: "HTTP/1.1 200 O\\u0001"'],
    ['a non-hex chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 'invalid byte "z" where the chunk size should start in a chunk-size line'],
    ['an empty chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n', 'invalid byte 0x0d where the chunk size should start in a chunk-size line'],
    ['a negative chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n', 'invalid byte "-" where the chunk size should start in a chunk-size line'],
    ['a 0x chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\n', 'invalid byte "x" after the chunk size in a chunk-size line'],
    ['an oversized chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n20000000000000\r\n', 'chunk size exceeds 2^53 - 1 bytes'],
    ['a space after a chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n', 'invalid byte 0x20 after the chunk size in a chunk-size line'],
    ['an NBSP after a chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\xa0\r\nhello\r\n', 'invalid byte 0xa0 after the chunk size in a chunk-size line'],
    ['a chunk-size line ending in ;', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;\r\nhello\r\n', 'invalid byte 0x0d where a chunk extension should start in a chunk-size line'],
    ['an unbalanced quote in a chunk extension', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a="b\r\nhello\r\n', 'invalid byte 0x0d in a quoted chunk extension value in a chunk-size line'],
    ['a bare LF ending a chunk-size line', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n', 'a chunk-size line ends with a bare LF (no CR)'],
    ['a control character in a trailer', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: \x01\r\n\r\n', 'forbidden character 0x01 in the response trailers: "X-T: \\u0001"'],
    ['a content-length trailer', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nContent-Length: 0\r\n\r\n', 'response has both content-length and transfer-encoding'],
    ['chunk data longer than its size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n', 'chunk data is not followed by CRLF'],
    ['a bad trailer line', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nnot a trailer\r\n\r\n', 'malformed trailer line in response: "not a trailer"'],
  ])('%s', (_case, text, message) => {
    const events = whole(text);
    expect(events[events.length - 1]).toEqual(['error', message]);
    // A broken head (framing included) is an error, never a response then an error; a broken
    // chunked body comes after a valid head.
    if (/chunked/.test(text)) expect(events[0][0]).toBe('head');
    else expect(events).toEqual([['error', message]]);
    // Checked as bytes arrive: a split may refuse a bad line before all of it is in.
    for (const chunks of splits(text)) expect(kind(parse(chunks))).toEqual(kind(events));
  });

  it('cuts long values in messages to 64 characters', () => {
    const events = whole(`HTTP/1.1 200 OK\r\n${'x'.repeat(100)}\r\n\r\n`);
    expect(events).toEqual([['error', `malformed header line in response: "${'x'.repeat(64)}"`]]);
  });

  it('refuses data while no response is expected', () => {
    const parser = new ResponseParser(16_384);
    expect(() => parser.execute(bytes('HTTP/1.1 200 OK\r\n\r\n'))).toThrow(new ProtocolError('the server sent data while no response was expected'));
    expect(() => parser.execute(Buffer.alloc(0))).not.toThrow();
  });

  it('refuses data after the end of a response, in the same read or the next', () => {
    expect(whole('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA')).toEqual([
      ['head', 200, { 'content-length': '2' }],
      ['data', 'ok'],
      ['end', true],
      ['error', 'the server sent data after the end of the response'],
    ]);
    expect(parse([bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'), bytes('EXTRA')])).toEqual([
      ['head', 200, { 'content-length': '2' }],
      ['data', 'ok'],
      ['end', true],
      ['error', 'the server sent data while no response was expected'],
    ]);
  });

  it.each<[string, string, string]>([
    ['in the head', 'HTTP/1.1 200 OK\r\nContent-Le', 'head'],
    ['before any byte', '', 'head'],
    ['in a content-length body', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello', 'length'],
    ['in a chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5', 'chunk-size'],
    ['in chunk data', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel', 'chunk-data'],
    ['after chunk data', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello', 'chunk-end'],
    ['before the last CRLF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n', 'trailers'],
  ])('finish() throws when the connection is cut %s', (_case, text, state) => {
    const events = whole(text, { close: true });
    expect(events[events.length - 1]).toEqual(['error', `the connection closed in the middle of a response (${state})`]);
    expect(events.some(e => e[0] === 'end')).toBe(false);
  });

  it('finish() is quiet when idle', () => {
    expect(() => new ResponseParser(16_384).finish()).not.toThrow();
    expect(whole('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', { close: true })).toEqual([['head', 200, { 'content-length': '0' }], ['end', true]]);
  });
});

describe('ResponseParser: maxHeaderSize', () => {
  const head = (size: number): string => {
    const base = 'HTTP/1.1 200 OK\r\nX-Fill: \r\n\r\n';
    return base.replace('X-Fill: ', `X-Fill: ${'f'.repeat(size - base.length)}`);
  };

  it('accepts a head of exactly maxHeaderSize bytes, and refuses one byte more, however it arrives', () => {
    expect(head(256)).toHaveLength(256);
    const ok = whole(head(256), { maxHeaderSize: 256, close: true });
    expect(ok[0][0]).toBe('head');
    const tooBig = whole(head(257), { maxHeaderSize: 256 });
    expect(tooBig).toEqual([['error', 'response head exceeds maxHeaderSize (256 bytes)']]);
    for (const chunks of splits(head(256))) expect(parse(chunks, { maxHeaderSize: 256, close: true })).toEqual(ok);
    for (const chunks of splits(head(257))) expect(parse(chunks, { maxHeaderSize: 256 })).toEqual(tooBig);
  });

  it('refuses an endless head arriving in small pieces as soon as it passes the limit, without buffering more', () => {
    const parser = new ResponseParser(1_024);
    parser.expect('GET', { onInform: () => {}, onHead: () => {}, onData: () => {}, onTrailers: () => {}, onEnd: () => {} });
    parser.execute(bytes('HTTP/1.1 200 OK\r\n'));
    let fed = 17;
    let error: unknown;
    try {
      for (; fed < 100_000; fed += 10) parser.execute(bytes('X-A: 12\r\n'.padEnd(10, 'x')));
    } catch (e) {
      error = e;
    }
    expect(error).toEqual(new ProtocolError('response head exceeds maxHeaderSize (1024 bytes)'));
    expect(fed).toBeGreaterThan(1_024 - 10);
    expect(fed).toBeLessThanOrEqual(1_024);
  });

  it('counts each head of a 1xx sequence on its own', () => {
    const hints = `HTTP/1.1 103 Early Hints\r\nLink: ${'l'.repeat(200)}\r\n\r\n`;
    const events = whole(hints + hints + 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', { maxHeaderSize: 256 });
    expect(events.map(e => e[0])).toEqual(['inform', 'inform', 'head', 'end']);
  });

  it('bounds trailers by maxHeaderSize too, with the same message however they arrive', () => {
    const text = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-A: ${'a'.repeat(200)}\r\nX-B: ${'b'.repeat(200)}\r\n\r\n`;
    const events = whole(text, { maxHeaderSize: 256 });
    expect(events).toEqual([
      ['head', 200, { 'transfer-encoding': 'chunked' }],
      ['error', 'response trailers exceed maxHeaderSize (256 bytes)'],
    ]);
    for (const chunks of splits(text)) expect(parse(chunks, { maxHeaderSize: 256 })).toEqual(events);
    const oneLongLine = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-A: ${'a'.repeat(300)}\r\n\r\n`;
    const longEvents = whole(oneLongLine, { maxHeaderSize: 256 });
    expect(longEvents[1]).toEqual(['error', 'response trailers exceed maxHeaderSize (256 bytes)']);
    for (const chunks of splits(oneLongLine)) expect(parse(chunks, { maxHeaderSize: 256 })).toEqual(longEvents);
  });

  it('refuses an endless chunk-size line', () => {
    const parser = new ResponseParser(16_384);
    parser.expect('GET', { onInform: () => {}, onHead: () => {}, onData: () => {}, onTrailers: () => {}, onEnd: () => {} });
    parser.execute(bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;'));
    expect(() => {
      for (let i = 0; i < 200; i++) parser.execute(bytes('ext=value;'));
    }).toThrow(new ProtocolError('response chunk-size line is longer than 1024 bytes'));
  });
});

describe('ResponseParser: the split does not matter', () => {
  const responses: ReadonlyArray<[string, string, Run]> = [
    ['content-length', 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nhello world', {}],
    [
      'chunked with extensions and trailers',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0;last\r\nX-Sum: 1\r\nX-Sum: 2\r\n\r\n',
      {},
    ],
    ['close-delimited', 'HTTP/1.0 200 OK\r\nServer: old\r\n\r\nbody until close\r\n\r\nwith CRLFs', { close: true }],
    ['100 and 103 then a body', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc', { methods: ['POST'] }],
    ['101 with protocol bytes', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello\x81\x00', {}],
    ['connection: close', 'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 4\r\n\r\nbusy', {}],
    ['obs-text in a header', 'HTTP/1.1 200 \xc9t\xe9\r\nX-Name: caf\xe9\r\nContent-Length: 1\r\n\r\n\xff', {}],
  ];

  it.each(responses)('%s: every two-piece split and byte-by-byte give the same events as one read', (_name, text, run) => {
    const expected = whole(text, run);
    expect(expected.some(e => e[0] === 'error')).toBe(false);
    for (const chunks of splits(text)) expect(parse(chunks, run)).toEqual(expected);
  });

  it.each(responses)('%s: any three-piece split gives the same events', (_name, text, run) => {
    const expected = whole(text, run);
    const b = bytes(text);
    for (let i = 0; i <= b.length; i++) {
      for (let j = i; j <= b.length; j++) {
        const actual = parse([b.subarray(0, i), b.subarray(i, j), b.subarray(j)], run);
        if (JSON.stringify(actual) !== JSON.stringify(expected)) expect({ i, j, actual }).toEqual({ i, j, actual: expected });
      }
    }
  });

  it('random splits of generated chunked bodies give the same events (fast-check)', () => {
    const chunk = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map(c => String.fromCharCode(c)), minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(fc.array(chunk, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (pieces, cuts) => {
        const body = pieces.map(p => `${p.length.toString(16)}\r\n${p}\r\n`).join('');
        const text = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${body}0\r\n\r\n`;
        const b = bytes(text);
        const at = [...new Set(cuts.map(c => c % (b.length + 1)))].sort((x, y) => x - y);
        const chunks = [0, ...at].map((start, k, all) => b.subarray(start, all[k + 1] ?? b.length));
        const events = parse(chunks);
        expect(events).toEqual(whole(text));
        expect(events).toEqual([
          ['head', 200, { 'transfer-encoding': 'chunked' }],
          ...(pieces.length > 0 ? [['data', pieces.join('')] as const] : []),
          ['end', true],
        ]);
      }),
      { seed: 7, numRuns: 300 },
    );
  });
});

describe('ResponseParser: responses on one connection', () => {
  const reads: ReadonlyArray<[string, readonly string[], readonly string[]]> = [
    ['HEAD then 304 then 204', ['HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n', 'HTTP/1.1 304 Not Modified\r\n\r\n', 'HTTP/1.1 204 No Content\r\n\r\n'], ['HEAD', 'GET', 'DELETE']],
    ['two keep-alive responses', ['HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n'], ['GET', 'GET']],
  ];

  it.each(reads)('%s: each response in its own reads, split anywhere, gives the same events', (_name, responses, methods) => {
    const expected = parse(responses.map(bytes), { methods });
    expect(expected.filter(e => e[0] === 'end')).toHaveLength(responses.length);
    responses.forEach((response, k) => {
      for (const chunks of splits(response)) {
        const all = [...responses.slice(0, k).map(bytes), ...chunks, ...responses.slice(k + 1).map(bytes)];
        expect(parse(all, { methods })).toEqual(expected);
      }
    });
  });

  it.each(reads)('%s: in one read, everything after the first end is refused (it was sent before the next request)', (_name, responses, methods) => {
    const events = parse([bytes(responses.join(''))], { methods });
    expect(events.filter(e => e[0] === 'end')).toHaveLength(1);
    expect(events[events.length - 1]).toEqual(['error', 'the server sent data after the end of the response']);
  });

  it('the desync of issue 11: a response and a smuggled body in one read never reach the next request', () => {
    const text = 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nAHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nSMUGGLED';
    expect(parse([bytes(text)], { methods: ['GET', 'GET'] })).toEqual([
      ['head', 200, { 'content-length': '1' }],
      ['data', 'A'],
      ['end', true],
      ['error', 'the server sent data after the end of the response'],
    ]);
  });

  it('skips CR and LF after a response and while idle, as llhttp does, and refuses anything else', () => {
    expect(parse([bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok\r\n'), bytes('\r\n\n')])).toEqual([
      ['head', 200, { 'content-length': '2' }],
      ['data', 'ok'],
      ['end', true],
    ]);
    expect(parse([bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'), bytes('\r\nX')]).pop()).toEqual(['error', 'the server sent data while no response was expected']);
    expect(parse([bytes('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok'), bytes('\r\nX')]).pop()).toEqual([
      'error',
      'the server sent data after a response that closes the connection',
    ]);
  });
});

describe('ResponseParser: checks as bytes arrive', () => {
  it.each<[string, string, string]>([
    ['a status line that is none', 'HTTX', 'malformed status line: "HTTX"'],
    ['a TLS record', '\x16\x03\x01', 'forbidden character 0x16 in the response status line: "\\u0016"'],
    ['HTTP/2', 'HTTP/2', 'malformed status line: "HTTP/2"'],
    ['a bare LF in a head', 'HTTP/1.1 200 OK\nFoo: a', 'a bare LF (no CR) ends a line in the response status line: "HTTP/1.1 200 OK"'],
    ['NUL in an unfinished header value', 'HTTP/1.1 200 OK\r\nFoo: a\x00', 'forbidden character 0x00 in the response head: "Foo: a\\u0000"'],
    ['a CR followed by something else', 'HTTP/1.1 200 OK\r\nFoo: 1\rBar', 'a CR not followed by LF in the response head: "Foo: 1\\r"'],
    ['a space after a chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 ', 'invalid byte 0x20 after the chunk size in a chunk-size line'],
    ['a bad byte in a trailer', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: \x1b', 'forbidden character 0x1b in the response trailers: "X: \\u001b"'],
  ])('%s is refused before its line ends', (_name, text, message) => {
    const events = parse([bytes(text)]);
    expect(events[events.length - 1]).toEqual(['error', message]);
  });

  it('a CR at the end of a read waits for the next byte', () => {
    expect(parse([bytes('HTTP/1.1 200 OK\r'), bytes('\nContent-Length: 0\r'), bytes('\n\r'), bytes('\n')])).toEqual([['head', 200, { 'content-length': '0' }], ['end', true]]);
  });
});

describe('field values', () => {
  const headers = (lines: string): unknown => whole(`HTTP/1.1 200 OK\r\n${lines}Content-Length: 0\r\n\r\n`)[0];

  it('lower-cases names, trims values, groups repeats and makes set-cookie an array', () => {
    expect(headers('A: 1\r\na: 2\r\nSet-Cookie: x=1; Path=/\r\nB:\t two words \t\r\n')).toEqual(['head', 200, { a: ['1', '2'], 'set-cookie': ['x=1; Path=/'], b: 'two words', 'content-length': '0' }]);
  });

  it('trims only SP and HTAB: a leading or trailing \\xa0 (obs-text) is part of the value', () => {
    expect(headers('X-A: \xa0a\xa0 \r\nX-B:\t\xa0\r\n')).toEqual(['head', 200, { 'x-a': '\xa0a\xa0', 'x-b': '\xa0', 'content-length': '0' }]);
  });

  it('keeps commas inside a value: it does not split lists', () => {
    expect(headers('Set-Cookie: a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT\r\n')).toEqual(['head', 200, { 'set-cookie': ['a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT'], 'content-length': '0' }]);
  });
});

describe('http-syntax scanners and byte tables', () => {
  it('agree with isToken and isFieldValue on every byte', () => {
    for (let byte = 0; byte < 256; byte++) {
      const char = String.fromCharCode(byte);
      expect([indexOfNonToken(`a${char}`, 0) === -1, TOKEN_BYTES[byte] === 1], char).toEqual([isToken(char), isToken(char)]);
      expect([indexOfNonFieldValue(`a${char}`, 0) === -1, FIELD_VALUE_BYTES[byte] === 1], char).toEqual([isFieldValue(char), isFieldValue(char)]);
    }
    expect(indexOfNonToken('abc:def', 1)).toBe(3);
    expect(indexOfNonFieldValue('ab\r\n', 0)).toBe(2);
    expect(indexOfNonFieldValue('ab\x7f', 3)).toBe(-1);
  });
});
