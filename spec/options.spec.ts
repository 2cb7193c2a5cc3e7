/**
 * `resolveOptions`: the defaults of `open()` and its synchronous validation. Messages are part of
 * the contract, so each bad value is checked against its exact message.
 */
import { asyncScheduler, queueScheduler } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../lib/core/errors.js';
import { open } from '../lib/index.js';
import type { ConnectionOptions } from '../lib/node/open.js';
import { parseOrigin } from '../lib/core/options.js';
import { resolveNodeOptions as resolveOptions } from '../lib/node/open.js';

/** The error `resolveOptions` throws, asserting it is an InvalidArgumentError. */
function failure(origin: unknown, options?: unknown): InvalidArgumentError {
  try {
    resolveOptions(origin, options);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).code).toBe('RXCONN_INVALID_ARGUMENT');
    expect((error as InvalidArgumentError).name).toBe('InvalidArgumentError');
    return error as InvalidArgumentError;
  }
  throw new Error(`resolveOptions accepted ${String(origin)} ${JSON.stringify(options)}`);
}

const KNOWN_OPTIONS = 'protocols, tls, connectTimeout, retry, keepalive, closeTimeout, sendTimeout, maxQueued, maxHeaderSize, headers, scheduler, proxy, socketPath';
const KNOWN_RETRY = 'maxRetries, maxElapsed, initialDelay, maxDelay, factor, jitter, delay, random';

describe('resolveOptions: defaults', () => {
  it('applies every default for a cleartext origin', () => {
    const o = resolveOptions('http://example.com', undefined);
    expect(o.origin).toBe('http://example.com');
    expect(o.authority).toBe('example.com');
    expect(o.secure).toBe(false);
    expect(o.host).toBe('example.com');
    expect(o.port).toBe(80);
    expect(o.protocols).toEqual(['http1']);
    expect(o.tls).toEqual({});
    expect(o.connectTimeout).toBe(10_000);
    expect(o.closeTimeout).toBe(15_000);
    expect(o.maxQueued).toBe(10_000);
    expect(o.maxHeaderSize).toBe(16_384);
    expect(o.headers).toEqual({});
    expect(o.scheduler).toBeUndefined();
    expect(o.keepalive).toEqual({ interval: 30_000, timeout: 10_000 });
    expect(o.retry).toEqual({
      maxRetries: Infinity,
      maxElapsed: 120_000,
      initialDelay: 100,
      maxDelay: 10_000,
      factor: 2,
      jitter: 'full',
      delay: undefined,
      random: Math.random,
    });
  });

  it('offers http2 then http1 on TLS, on port 443', () => {
    const o = resolveOptions('https://example.com', {});
    expect(o.secure).toBe(true);
    expect(o.port).toBe(443);
    expect(o.protocols).toEqual(['http2', 'http1']);
  });

  it('reads explicit ports, IPv6 literals and URL objects; a trailing slash is fine', () => {
    expect(resolveOptions('http://127.0.0.1:8080', {}).port).toBe(8080);
    expect(resolveOptions('https://localhost:8443/', {}).port).toBe(8443);
    const v6 = resolveOptions(new URL('http://[::1]:3000'), {});
    expect(v6.host).toBe('::1');
    expect(v6.port).toBe(3000);
    expect(resolveOptions('HTTP://EXAMPLE.com', {}).host).toBe('example.com');
  });

  it('keeps the values given', () => {
    const random = (): number => 0.5;
    const delay = (): number => 1;
    const scheduler = new TestScheduler(() => {});
    const o = resolveOptions('https://x', {
      protocols: ['http1'],
      tls: { rejectUnauthorized: false },
      connectTimeout: 1,
      retry: { maxRetries: Infinity, initialDelay: 0, maxDelay: 0, factor: 1, jitter: 'none', delay, random },
      keepalive: { interval: 1, timeout: 1 },
      closeTimeout: 0,
      maxQueued: Infinity,
      maxHeaderSize: 256,
      headers: { 'user-agent': 'rxconn-test' },
      scheduler,
    });
    expect(o.protocols).toEqual(['http1']);
    expect(o.tls).toMatchObject({ rejectUnauthorized: false });
    expect((o.tls as { secureContext?: unknown }).secureContext).toBeDefined(); // built once by open(), reused by every dial
    expect(o.connectTimeout).toBe(1);
    expect(o.retry).toEqual({ maxRetries: Infinity, maxElapsed: 120_000, initialDelay: 0, maxDelay: 0, factor: 1, jitter: 'none', delay, random });
    expect(o.keepalive).toEqual({ interval: 1, timeout: 1 });
    expect(o.closeTimeout).toBe(0);
    expect(o.maxQueued).toBe(Infinity);
    expect(o.maxHeaderSize).toBe(256);
    expect(o.headers).toEqual({ 'user-agent': 'rxconn-test' });
    expect(o.scheduler).toBe(scheduler);
  });

  it('fills the retry defaults around the fields given', () => {
    expect(resolveOptions('http://x', { retry: { maxRetries: 2 } }).retry).toMatchObject({ maxRetries: 2, maxElapsed: 120_000, initialDelay: 100, maxDelay: 10_000, factor: 2, jitter: 'full' });
    expect(resolveOptions('http://x', { retry: {} }).retry.maxRetries).toBe(Infinity);
  });

  it('retry: false never retries; keepalive: false turns pings off', () => {
    const o = resolveOptions('http://x', { retry: false, keepalive: false });
    expect(o.retry.maxRetries).toBe(0);
    expect(o.keepalive).toBe(false);
  });

  it('keeps the protocols in the order given, as a copy', () => {
    const protocols: ConnectionOptions['protocols'] = ['http1', 'http2'];
    const o = resolveOptions('https://x', { protocols });
    expect(o.protocols).toEqual(['http1', 'http2']);
    expect(o.protocols).not.toBe(protocols);
  });

  it('accepts any RxJS scheduler', () => {
    expect(resolveOptions('http://x', { scheduler: asyncScheduler }).scheduler).toBe(asyncScheduler);
    expect(resolveOptions('http://x', { scheduler: queueScheduler }).scheduler).toBe(queueScheduler);
  });
});

describe('resolveOptions: the origin', () => {
  it.each([
    ['not a url', 'origin is not a valid URL: "not a url"'],
    ['', 'origin is not a valid URL: ""'],
    ['http://', 'origin is not a valid URL: "http://"'],
    ['example.com', 'origin is not a valid URL: "example.com"'],
    ['ftp://example.com', 'origin must use http: or https: (got "ftp:")'],
    ['ws://example.com', 'origin must use http: or https: (got "ws:")'],
    ['file:///etc/passwd', 'origin must use http: or https: (got "file:")'],
    ['http://user:secret@example.com', 'origin must not carry credentials: send an authorization header instead'],
    ['http://user@example.com', 'origin must not carry credentials: send an authorization header instead'],
    ['http://example.com/api', 'origin must be scheme://host[:port] only (got "http://example.com/api"): pass paths to requests'],
    ['http://example.com/?q=1', 'origin must be scheme://host[:port] only (got "http://example.com/?q=1"): pass paths to requests'],
    ['http://example.com#top', 'origin must be scheme://host[:port] only (got "http://example.com#top"): pass paths to requests'],
    ['http://example.com:99999', 'origin is not a valid URL: "http://example.com:99999"'],
  ])('refuses %j', (origin, message) => {
    expect(failure(origin).message).toBe(message);
    expect(() => parseOrigin(origin)).toThrow(message);
  });

  it.each([
    [undefined, 'undefined'],
    [null, 'null'],
    [42, '42'],
    [{ href: 'http://x' }, 'an object'],
    [['http://x'], 'an array'],
  ])('refuses a non-string origin %j', (origin, shown) => {
    expect(failure(origin).message).toBe(`origin must be a string or URL (got ${shown})`);
  });
});

describe('resolveOptions: bad options', () => {
  it.each<[string, unknown, string]>([
    // the options object itself
    ['options null', null, 'options must be an object (got null)'],
    ['options a string', 'fast', 'options must be an object (got "fast")'],
    ['options an array', [], 'options must be an object (got an array)'],
    ['an unknown option', { conectTimeout: 5 }, `options.conectTimeout is not a known option (known: ${KNOWN_OPTIONS})`],
    ['a proxy of an unknown scheme', { proxy: 'ftp://p' }, 'options.proxy must use http:, https: or socks5: (got "ftp:"); a URL without a scheme is not accepted here'],
    // timeouts
    ['a negative connectTimeout', { connectTimeout: -1 }, 'options.connectTimeout must be a number ≥ 1 and at most 2147483647 ms (about 24.8 days), or Infinity for none (got -1)'],
    ['a zero connectTimeout', { connectTimeout: 0 }, 'options.connectTimeout must be a number ≥ 1 and at most 2147483647 ms (about 24.8 days), or Infinity for none (got 0)'],
    ['a NaN connectTimeout', { connectTimeout: Number.NaN }, 'options.connectTimeout must be a number ≥ 1 and at most 2147483647 ms (about 24.8 days), or Infinity for none (got NaN)'],
    ['a connectTimeout past what a timer holds', { connectTimeout: 3e9 }, 'options.connectTimeout must be a number ≥ 1 and at most 2147483647 ms (about 24.8 days), or Infinity for none (got 3000000000)'],
    ['a string connectTimeout', { connectTimeout: '100' }, 'options.connectTimeout must be a number ≥ 1 and at most 2147483647 ms (about 24.8 days), or Infinity for none (got "100")'],
    ['a null connectTimeout', { connectTimeout: null }, 'options.connectTimeout must be a number ≥ 1 and at most 2147483647 ms (about 24.8 days), or Infinity for none (got null)'],
    ['a negative closeTimeout', { closeTimeout: -5 }, 'options.closeTimeout must be a number ≥ 0 and at most 2147483647 ms (about 24.8 days), or Infinity for none (got -5)'],
    ['a NaN closeTimeout', { closeTimeout: Number.NaN }, 'options.closeTimeout must be a number ≥ 0 and at most 2147483647 ms (about 24.8 days), or Infinity for none (got NaN)'],
    ['a closeTimeout past what a timer holds', { closeTimeout: 3e9 }, 'options.closeTimeout must be a number ≥ 0 and at most 2147483647 ms (about 24.8 days), or Infinity for none (got 3000000000)'],
    ['a keepalive interval past what a timer holds', { keepalive: { interval: 3e9 } }, 'options.keepalive.interval must be a number ≥ 1 and at most 2147483647 ms (about 24.8 days) (got 3000000000)'],
    ['a maxElapsed past what a timer holds', { retry: { maxElapsed: 3e9 } }, 'options.retry.maxElapsed must be a number ≥ 0 and at most 2147483647 ms (about 24.8 days), or Infinity for none (got 3000000000)'],
    // sizes
    ['a negative maxQueued', { maxQueued: -1 }, 'options.maxQueued must be a number ≥ 0 (got -1)'],
    ['a fractional maxQueued', { maxQueued: 1.5 }, 'options.maxQueued must be an integer (got 1.5)'],
    ['a tiny maxHeaderSize', { maxHeaderSize: 255 }, 'options.maxHeaderSize must be a finite number ≥ 256 (got 255)'],
    ['a fractional maxHeaderSize', { maxHeaderSize: 1024.5 }, 'options.maxHeaderSize must be an integer (got 1024.5)'],
    ['an Infinity maxHeaderSize', { maxHeaderSize: Infinity }, 'options.maxHeaderSize must be a finite number ≥ 256 (got Infinity)'],
    // protocols
    ['protocols not an array', { protocols: 'http1' }, `options.protocols must be a non-empty array of 'http1' | 'http2' (got "http1")`],
    ['empty protocols', { protocols: [] }, `options.protocols must be a non-empty array of 'http1' | 'http2' (got an array)`],
    ['an unknown protocol', { protocols: ['http1', 'h3'] }, `options.protocols has an unknown protocol "h3" (known: 'http1', 'http2')`],
    ['an ALPN id as protocol', { protocols: ['h2'] }, `options.protocols has an unknown protocol "h2" (known: 'http1', 'http2')`],
    ['a non-string protocol', { protocols: [2] }, `options.protocols has an unknown protocol 2 (known: 'http1', 'http2')`],
    ['a duplicate protocol', { protocols: ['http2', 'http1', 'http2'] }, 'options.protocols lists a protocol twice'],
    // tls
    ['tls a string', { tls: 'yes' }, 'options.tls must be an object (got "yes")'],
    ['tls null', { tls: null }, 'options.tls must be an object (got null)'],
    // retry
    ['retry true', { retry: true }, 'options.retry must be an object (got true)'],
    ['retry a number', { retry: 3 }, 'options.retry must be an object (got 3)'],
    ['an unknown retry field', { retry: { retries: 3 } }, `options.retry.retries is not a known option (known: ${KNOWN_RETRY})`],
    ['a negative maxRetries', { retry: { maxRetries: -1 } }, 'options.retry.maxRetries must be a number ≥ 0 (got -1)'],
    ['a NaN maxRetries', { retry: { maxRetries: Number.NaN } }, 'options.retry.maxRetries must be a number ≥ 0 (got NaN)'],
    ['a fractional maxRetries', { retry: { maxRetries: 2.5 } }, 'options.retry.maxRetries must be an integer (got 2.5)'],
    ['a negative initialDelay', { retry: { initialDelay: -100 } }, 'options.retry.initialDelay must be a number ≥ 0 and at most 2147483647 ms (about 24.8 days) (got -100)'],
    ['an Infinity initialDelay', { retry: { initialDelay: Infinity } }, 'options.retry.initialDelay must be a number ≥ 0 and at most 2147483647 ms (about 24.8 days) (got Infinity)'],
    ['a NaN maxDelay', { retry: { maxDelay: Number.NaN } }, 'options.retry.maxDelay must be a number ≥ 0 and at most 2147483647 ms (about 24.8 days) (got NaN)'],
    ['maxDelay < initialDelay', { retry: { initialDelay: 500, maxDelay: 100 } }, 'options.retry.maxDelay (100) must be ≥ options.retry.initialDelay (500)'],
    ['maxDelay below the default initialDelay', { retry: { maxDelay: 50 } }, 'options.retry.maxDelay (50) must be ≥ options.retry.initialDelay (100)'],
    ['a factor < 1', { retry: { factor: 0.5 } }, 'options.retry.factor must be a finite number ≥ 1 (got 0.5)'],
    ['an Infinity factor', { retry: { factor: Infinity } }, 'options.retry.factor must be a finite number ≥ 1 (got Infinity)'],
    ['a bad jitter', { retry: { jitter: 'equal' } }, `options.retry.jitter must be 'full' or 'none' (got "equal")`],
    ['a boolean jitter', { retry: { jitter: true } }, `options.retry.jitter must be 'full' or 'none' (got true)`],
    ['a null jitter', { retry: { jitter: null } }, `options.retry.jitter must be 'full' or 'none' (got null)`],
    ['a non-function delay', { retry: { delay: 1000 } }, 'options.retry.delay must be a function (got 1000)'],
    ['an object delay', { retry: { delay: { ms: 1 } } }, 'options.retry.delay must be a function (got an object)'],
    ['a non-function random', { retry: { random: 0.5 } }, 'options.retry.random must be a function (got 0.5)'],
    // keepalive
    ['keepalive true', { keepalive: true }, 'options.keepalive must be an object (got true)'],
    ['an unknown keepalive field', { keepalive: { every: 1 } }, 'options.keepalive.every is not a known option (known: interval, timeout)'],
    ['a zero keepalive interval', { keepalive: { interval: 0 } }, 'options.keepalive.interval must be a number ≥ 1 and at most 2147483647 ms (about 24.8 days) (got 0)'],
    ['a NaN keepalive timeout', { keepalive: { timeout: Number.NaN } }, 'options.keepalive.timeout must be a number ≥ 1 and at most 2147483647 ms (about 24.8 days) (got NaN)'],
    // headers
    ['headers an array', { headers: [['a', 'b']] }, 'options.headers must be an object (got an array)'],
    ['headers a string', { headers: 'a: b' }, 'options.headers must be an object (got "a: b")'],
    ['a number header value', { headers: { 'x-n': 1 } }, 'options.headers["x-n"] must be a string (got 1)'],
    ['an array header value', { headers: { 'x-a': ['1'] } }, 'options.headers["x-a"] must be a string (got an array)'],
    ['a CR LF in a header value', { headers: { 'x-a': 'a\r\nx-injected: 1' } }, 'options.headers["x-a"] has a forbidden character (CR, LF, NUL or a control character) in its value'],
    ['a LF in a header value', { headers: { 'x-a': 'a\nb' } }, 'options.headers["x-a"] has a forbidden character (CR, LF, NUL or a control character) in its value'],
    ['a NUL in a header value', { headers: { 'x-a': 'a\0b' } }, 'options.headers["x-a"] has a forbidden character (CR, LF, NUL or a control character) in its value'],
    ['a space in a header name', { headers: { 'x a': 'b' } }, 'options.headers["x a"]: the name is not a valid token'],
    ['a colon in a header name', { headers: { 'x:a': 'b' } }, 'options.headers["x:a"]: the name is not a valid token'],
    ['an empty header name', { headers: { '': 'b' } }, 'options.headers[""]: the name is not a valid token'],
    ['a connection header', { headers: { Connection: 'close' } }, 'options.headers["Connection"] is managed by rxconn and cannot be set'],
    ['a transfer-encoding header', { headers: { 'transfer-encoding': 'chunked' } }, 'options.headers["transfer-encoding"] is managed by rxconn and cannot be set'],
    ['a host header', { headers: { host: 'evil.example' } }, 'options.headers["host"] is managed by rxconn and cannot be set'],
    // scheduler
    ['a scheduler without schedule()', { scheduler: {} }, 'options.scheduler must be an RxJS SchedulerLike'],
    ['a string scheduler', { scheduler: 'async' }, 'options.scheduler must be an RxJS SchedulerLike'],
    ['a null scheduler', { scheduler: null }, 'options.scheduler must be an RxJS SchedulerLike'],
    ['a function scheduler', { scheduler: () => 0 }, 'options.scheduler must be an RxJS SchedulerLike'],
  ])('refuses %s', (_case, options, message) => {
    expect(() => resolveOptions('http://x', options)).toThrow(InvalidArgumentError);
    expect(() => resolveOptions('http://x', options)).toThrow(message);
    expect(failure('http://x', options).message).toBe(message);
  });

  it('checks the origin before the options', () => {
    expect(failure('nope', { bogus: 1 }).message).toBe('origin is not a valid URL: "nope"');
  });
});

describe('resolveOptions: connections opened alike share their resolved options', () => {
  it('resolves the same origin with the same plain options to one frozen object', () => {
    const options = { protocols: ['http1'], keepalive: { interval: 5_000, timeout: 1_000 }, retry: { maxRetries: 3, jitter: 'none' }, connectTimeout: Infinity } as const;
    const first = resolveOptions('http://shared.example:8080', options);
    expect(resolveOptions('http://shared.example:8080', { ...options, keepalive: { ...options.keepalive } })).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(resolveOptions('http://shared.example:8080', undefined)).toBe(resolveOptions('http://shared.example:8080', undefined));
    // Anything different is resolved anew.
    expect(resolveOptions('http://shared.example:8081', options)).not.toBe(first);
    expect(resolveOptions('http://shared.example:8080', { ...options, connectTimeout: 5 })).not.toBe(first);
    expect(resolveOptions('http://shared.example:8080', { ...options, keepalive: { interval: 5_000, timeout: 2_000 } })).not.toBe(first);
    expect(resolveOptions('http://shared.example:8080', { ...options, protocols: ['http2'] })).not.toBe(first);
  });

  it('does not share options with an identity the connection keeps (headers, tls, scheduler, functions), nor a URL origin', () => {
    const headers = { 'x-app': 'a' };
    expect(resolveOptions('http://shared.example', { headers })).not.toBe(resolveOptions('http://shared.example', { headers }));
    expect(resolveOptions('http://shared.example', { headers }).headers).toBe(headers);
    expect(resolveOptions('http://shared.example', { scheduler: asyncScheduler })).not.toBe(resolveOptions('http://shared.example', { scheduler: asyncScheduler }));
    const random = (): number => 0.5;
    expect(resolveOptions('http://shared.example', { retry: { random } })).not.toBe(resolveOptions('http://shared.example', { retry: { random } }));
    expect(resolveOptions('https://shared.example', { tls: {} })).not.toBe(resolveOptions('https://shared.example', { tls: {} }));
    const url = new URL('http://shared.example');
    expect(resolveOptions(url, undefined)).not.toBe(resolveOptions(url, undefined));
  });

  it('still validates what only looks like options resolved before', () => {
    resolveOptions('http://shared.example', { maxQueued: 1, protocols: ['http1'] });
    expect(failure('http://shared.example', { maxQueued: '1', protocols: ['http1'] }).message).toBe('options.maxQueued must be a number ≥ 0 (got "1")');
    // eslint-disable-next-line no-sparse-arrays
    expect(failure('http://shared.example', { maxQueued: 1, protocols: ['http1', , ] }).message).toMatch(/^options.protocols/);
  });
});

describe('open()', () => {
  it.each<[unknown, unknown, string]>([
    ['ftp://example.com', {}, 'origin must use http: or https: (got "ftp:")'],
    ['http://example.com/v1', undefined, 'origin must be scheme://host[:port] only (got "http://example.com/v1"): pass paths to requests'],
    ['http://127.0.0.1:1', { connectTimeout: -1 }, 'options.connectTimeout must be a number ≥ 1 and at most 2147483647 ms (about 24.8 days), or Infinity for none (got -1)'],
    ['http://127.0.0.1:1', { protocols: ['spdy'] }, `options.protocols has an unknown protocol "spdy" (known: 'http1', 'http2')`],
    ['http://127.0.0.1:1', { headers: { 'x-a': 'a\r\nb' } }, 'options.headers["x-a"] has a forbidden character (CR, LF, NUL or a control character) in its value'],
  ])('throws synchronously for %j %j, before dialing', (origin, options, message) => {
    const call = (): unknown => open(origin as string, options as ConnectionOptions);
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(message);
    try {
      call();
    } catch (error) {
      expect((error as InvalidArgumentError).code).toBe('RXCONN_INVALID_ARGUMENT');
    }
  });
});
