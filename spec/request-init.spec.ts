/**
 * `prepareRequest`: what a request may be made of. Nothing invalid reaches the wire, and each
 * refusal names the field at fault with an exact message.
 */
import fc from 'fast-check';
import { of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../lib/core/errors.js';
import { isFieldValue, isToken } from '../lib/core/http-syntax.js';
import { CONNECTION_HEADERS, prepareRequest } from '../lib/core/request-init.js';

/** The error `prepareRequest` throws, asserting it is an InvalidArgumentError. */
function failure(init: unknown, defaults?: Readonly<Record<string, string>>): InvalidArgumentError {
  try {
    prepareRequest(init, defaults);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).code).toBe('RXCONN_INVALID_ARGUMENT');
    return error as InvalidArgumentError;
  }
  throw new Error(`prepareRequest accepted ${JSON.stringify(init)}`);
}

const TOKEN_CHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split('');
const FORBIDDEN = (name: string): string => `header ${JSON.stringify(name)} has a forbidden character (CR, LF, NUL or a control character) in its value`;
const NOT_A_VALUE = (name: string): string => `header ${JSON.stringify(name)} must be a string, a finite number or an array of strings`;

describe('prepareRequest: defaults and shape', () => {
  it('is a GET of / with no headers, body or timeout by default', () => {
    expect(prepareRequest({})).toEqual({ method: 'GET', path: '/', headers: [], body: undefined, timeout: undefined });
  });

  it('keeps what it is given', () => {
    const body = new Uint8Array([1, 2, 3]);
    expect(prepareRequest({ method: 'PUT', path: '/a/b?c=d&e=%20', headers: { 'x-a': '1' }, body, timeout: 250 })).toEqual({
      method: 'PUT',
      path: '/a/b?c=d&e=%20',
      headers: [['x-a', '1']],
      body,
      timeout: 250,
    });
  });

  it.each<[unknown]>([[null], [undefined], ['GET /'], [42], [true]])('refuses a request that is not an object: %j', init => {
    expect(failure(init).message).toBe('request must be an object');
  });

  it('refuses unknown fields', () => {
    expect(failure({ url: '/x' }).message).toBe('request.url is not a known field (known: method, path, headers, body, timeout)');
    expect(failure({ path: '/', signal: {} }).message).toBe('request.signal is not a known field (known: method, path, headers, body, timeout)');
  });
});

describe('prepareRequest: methods', () => {
  it.each(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'PURGE', 'M-SEARCH', 'PROPFIND', 'get'])('accepts %s as it is', method => {
    expect(prepareRequest({ method }).method).toBe(method);
  });

  it.each<[unknown, string]>([
    ['', 'request.method "" is not a valid method token'],
    ['GET /', 'request.method "GET /" is not a valid method token'],
    ['GET\r\nX-Injected: 1', 'request.method "GET\\r\\nX-Injected: 1" is not a valid method token'],
    ['GÉT', 'request.method "GÉT" is not a valid method token'],
    ['(GET)', 'request.method "(GET)" is not a valid method token'],
    [7, 'request.method 7 is not a valid method token'],
    ['CONNECT', 'request.method CONNECT is not supported: use a tunnel'],
  ])('refuses %j', (method, message) => {
    expect(failure({ method }).message).toBe(message);
  });
});

describe('prepareRequest: paths', () => {
  it('takes a null method or path as the default (GET, /), like undefined', () => {
    expect(prepareRequest({ method: null, path: null })).toMatchObject({ method: 'GET', path: '/' });
  });

  it.each(['/', '/a', '/a/b/', '/search?q=a%20b&x=1', "/!$&'()*+,;=:@-._~", '/%E2%82%AC'])('accepts %s', path => {
    expect(prepareRequest({ path }).path).toBe(path);
  });

  it('accepts * only for OPTIONS', () => {
    expect(prepareRequest({ method: 'OPTIONS', path: '*' }).path).toBe('*');
    expect(failure({ method: 'GET', path: '*' }).message).toBe('request.path "*" must start with "/" and contain no spaces or control characters');
  });

  it.each<[unknown, string]>([
    ['', 'request.path "" must start with "/" and contain no spaces or control characters'],
    ['a/b', 'request.path "a/b" must start with "/" and contain no spaces or control characters'],
    ['http://example.com/a', 'request.path "http://example.com/a" must start with "/" and contain no spaces or control characters'],
    ['/a b', 'request.path "/a b" must start with "/" and contain no spaces or control characters'],
    ['/a\tb', 'request.path "/a\\tb" must start with "/" and contain no spaces or control characters'],
    ['/a\r\nHost: evil', 'request.path "/a\\r\\nHost: evil" must start with "/" and contain no spaces or control characters'],
    ['/a\0', 'request.path "/a\\u0000" must start with "/" and contain no spaces or control characters'],
    ['/€', 'request.path "/€" must start with "/" and contain no spaces or control characters'],
    [5, 'request.path 5 must start with "/" and contain no spaces or control characters'],
  ])('refuses %j', (path, message) => {
    expect(failure({ path }).message).toBe(message);
  });
});

describe('prepareRequest: headers', () => {
  it('lower-cases names and keeps values, in order', () => {
    expect(prepareRequest({ headers: { Accept: 'text/html', 'X-Request-ID': 'abc', 'content-type': 'text/plain; charset=utf-8' } }).headers).toEqual([
      ['accept', 'text/html'],
      ['x-request-id', 'abc'],
      ['content-type', 'text/plain; charset=utf-8'],
    ]);
  });

  it('sends numbers as decimal text and arrays as repeated fields', () => {
    expect(prepareRequest({ headers: { 'content-length': 42, 'x-float': 1.5, 'x-neg': -1 } }).headers).toEqual([
      ['content-length', '42'],
      ['x-float', '1.5'],
      ['x-neg', '-1'],
    ]);
    expect(prepareRequest({ headers: { cookie: ['a=1', 'b=2'], 'x-empty': [] } }).headers).toEqual([
      ['cookie', 'a=1'],
      ['cookie', 'b=2'],
    ]);
  });

  it('trims spaces and tabs around values (OWS), and keeps them inside', () => {
    expect(prepareRequest({ headers: { 'x-a': '  a b\t', 'x-b': '\t', 'x-c': '' } }).headers).toEqual([
      ['x-a', 'a b'],
      ['x-b', ''],
      ['x-c', ''],
    ]);
  });

  it('keeps obs-text bytes (\\x80-\\xff), including a leading or trailing \\xa0, which is not whitespace in HTTP', () => {
    expect(prepareRequest({ headers: { 'x-a': 'caf\xe9', 'x-b': '\xa0a\xa0' } }).headers).toEqual([
      ['x-a', 'caf\xe9'],
      ['x-b', '\xa0a\xa0'],
    ]);
  });

  it('skips a header whose value is undefined', () => {
    expect(prepareRequest({ headers: { 'x-a': undefined, 'x-b': '1' } }).headers).toEqual([['x-b', '1']]);
  });

  it.each<[string, string]>([
    ['CR LF', 'a\r\nx-injected: 1'],
    ['CR', 'a\rb'],
    ['LF', 'a\nb'],
    ['NUL', 'a\0b'],
    ['a trailing CR LF', 'a\r\n'],
    ['DEL', 'a\x7fb'],
    ['a control character', 'a\x01b'],
    ['a vertical tab', 'a\vb'],
    ['a character above \\xff', 'price: 5€'],
  ])('refuses %s in a value', (_case, value) => {
    expect(failure({ headers: { 'X-Value': value } }).message).toBe(FORBIDDEN('x-value'));
  });

  it('refuses CR/LF in any element of an array value', () => {
    expect(failure({ headers: { 'set-thing': ['ok', 'bad\r\n'] } }).message).toBe(FORBIDDEN('set-thing'));
  });

  it.each<[unknown]>([[null], [true], [{}], [Number.NaN], [Infinity], [-Infinity], [[['nested']]], [[null]], [10n]])('refuses the value %s', value => {
    expect(failure({ headers: { 'x-a': value } }).message).toBe(NOT_A_VALUE('x-a'));
  });

  it.each<[string]>([['x a'], ['x:a'], [''], ['x\r\na'], ['é'], ['x"a'], ['(x)'], ['x/y'], ['x@y'], ['x{}'], ['x\ta']])('refuses the name %j', name => {
    expect(failure({ headers: { [name]: 'v' } }).message).toBe(`header name ${JSON.stringify(name)} is not a valid token`);
  });

  it.each([...CONNECTION_HEADERS].flatMap(name => [[name], [name.toUpperCase()]]))('refuses the connection-specific %s', name => {
    expect(failure({ headers: { [name]: 'x' } }).message).toBe(`header ${JSON.stringify(name.toLowerCase())} is connection-specific and managed by rxconn`);
  });

  it('refuses host in any case', () => {
    expect(failure({ headers: { host: 'evil.example' } }).message).toBe('header "host" is set from the origin and cannot be overridden');
    expect(failure({ headers: { Host: 'evil.example' } }).message).toBe('header "host" is set from the origin and cannot be overridden');
  });

  it.each<[unknown]>([[null], ['accept: */*'], [[['accept', '*/*']]], [5]])('refuses headers that are not an object: %j', headers => {
    expect(failure({ headers }).message).toBe('request headers must be an object of name → value');
  });
});

describe('prepareRequest: default headers', () => {
  const defaults = { 'User-Agent': 'rxconn/1', accept: 'application/json', 'x-tenant': 'a' };

  it('sends the defaults first, then the request headers', () => {
    expect(prepareRequest({ headers: { 'x-trace': '1' } }, defaults).headers).toEqual([
      ['user-agent', 'rxconn/1'],
      ['accept', 'application/json'],
      ['x-tenant', 'a'],
      ['x-trace', '1'],
    ]);
    expect(prepareRequest({}, defaults).headers).toEqual([
      ['user-agent', 'rxconn/1'],
      ['accept', 'application/json'],
      ['x-tenant', 'a'],
    ]);
  });

  it('lets a request header override a default, whatever the case of either name', () => {
    expect(prepareRequest({ headers: { 'user-agent': 'mine', ACCEPT: ['text/html', 'text/plain'] } }, defaults).headers).toEqual([
      ['x-tenant', 'a'],
      ['user-agent', 'mine'],
      ['accept', 'text/html'],
      ['accept', 'text/plain'],
    ]);
  });

  it('drops a default when the request sets it to undefined', () => {
    expect(prepareRequest({ headers: { 'X-Tenant': undefined } }, defaults).headers).toEqual([
      ['user-agent', 'rxconn/1'],
      ['accept', 'application/json'],
    ]);
  });

  it('still validates the defaults', () => {
    expect(failure({}, { 'x-a': 'a\nb' }).message).toBe(FORBIDDEN('x-a'));
  });
});

describe('prepareRequest: bodies', () => {
  it.each<[string, unknown]>([
    ['a string', 'hello'],
    ['an empty string', ''],
    ['a Uint8Array', new Uint8Array([1])],
    ['a Buffer', Buffer.from('hi')],
    ['an Observable', of('a', new Uint8Array([1]))],
  ])('accepts %s, as it is', (_case, body) => {
    expect(prepareRequest({ method: 'POST', body }).body).toBe(body);
  });

  it.each<[string, unknown]>([
    ['a number', 5],
    ['null', null],
    ['an ArrayBuffer', new ArrayBuffer(1)],
    ['a DataView', new DataView(new ArrayBuffer(1))],
    ['an array of chunks', ['a', 'b']],
    ['a plain object', { a: 1 }],
    ['a Promise', Promise.resolve('a')],
  ])('refuses %s', (_case, body) => {
    expect(failure({ method: 'POST', body }).message).toBe('request.body must be a string, a Uint8Array or an Observable of chunks');
  });
});

describe('prepareRequest: timeout', () => {
  it.each([1, 0.5, 60_000, 2 ** 31 - 1, Infinity])('accepts %s ms', timeout => {
    expect(prepareRequest({ timeout }).timeout).toBe(timeout);
  });

  it.each<[unknown, string]>([
    [0, '0'],
    [-1, '-1'],
    [Number.NaN, 'NaN'],
    [3e9, '3000000000'],
    ['100', '"100"'],
    [null, 'null'],
  ])('refuses %j', (timeout, shown) => {
    expect(failure({ timeout }).message).toBe(`request.timeout must be a number > 0 and at most 2147483647 ms (about 24.8 days), or Infinity for none (got ${shown})`);
  });
});

describe('prepareRequest: properties', () => {
  /** The message of the InvalidArgumentError these headers are refused with, or undefined. */
  const refusal = (headers: Record<string, unknown>): string | undefined => {
    try {
      prepareRequest({ headers });
    } catch (error) {
      return error instanceof InvalidArgumentError ? error.message : `not an InvalidArgumentError: ${String(error)}`;
    }
    return undefined;
  };
  const token = fc.string({ unit: fc.constantFrom(...TOKEN_CHARS), minLength: 1, maxLength: 24 });
  const forbidden = fc.constantFrom('\r', '\n', '\0');
  // Any UTF-16 code unit of the BMP (fast-check's 'binary' unit costs ~0.7 s to set up).
  const anyChar = fc.integer({ min: 0, max: 0xffff }).map(code => String.fromCharCode(code));
  const anyString = fc.string({ unit: anyChar, maxLength: 30 });

  it('refuses any value that contains CR, LF or NUL, wherever it is', () => {
    fc.assert(
      fc.property(anyString, forbidden, anyString, (before, bad, after) => {
        const value = before + bad + after;
        return !isFieldValue(value) && refusal({ 'x-a': value }) === FORBIDDEN('x-a') && refusal({ 'x-a': ['ok', value] }) === FORBIDDEN('x-a');
      }),
      { seed: 2, numRuns: 300 },
    );
  });

  it('accepts any token as a method, a header name and a header value', () => {
    fc.assert(
      fc.property(token, token, (name, value) => {
        fc.pre(!CONNECTION_HEADERS.has(name.toLowerCase()) && name.toLowerCase() !== 'host' && value !== 'CONNECT');
        expect(isToken(name)).toBe(true);
        const prepared = prepareRequest({ method: value, headers: { [name]: value } });
        expect(prepared.method).toBe(value);
        expect(prepared.headers).toEqual([[name.toLowerCase(), value]]);
      }),
      { seed: 3, numRuns: 300 },
    );
  });

  it('refuses any name that holds a character outside the token set', () => {
    const outside = anyChar.filter(c => !TOKEN_CHARS.includes(c));
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...TOKEN_CHARS) }), outside, fc.string({ unit: fc.constantFrom(...TOKEN_CHARS) }), (a, bad, b) => {
        const name = a + bad + b;
        return refusal({ [name]: 'v' }) === `header name ${JSON.stringify(name)} is not a valid token`;
      }),
      { seed: 4, numRuns: 300 },
    );
  });

  it('sends any field-content value (visible ASCII, obs-text, SP, HTAB) minus surrounding SP/HTAB', () => {
    const fieldChar = fc.oneof(
      fc.integer({ min: 0x20, max: 0x7e }),
      fc.integer({ min: 0x80, max: 0xff }),
      fc.constant(0x09),
    ).map(code => String.fromCharCode(code));
    fc.assert(
      fc.property(fc.string({ unit: fieldChar, maxLength: 40 }), value => {
        expect(prepareRequest({ headers: { 'x-a': value } }).headers).toEqual([['x-a', value.replace(/^[\t ]+|[\t ]+$/g, '')]]);
      }),
      { seed: 5, numRuns: 500 },
    );
  });
});
