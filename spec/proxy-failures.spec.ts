/**
 * Every way a hop can fail, against scripted proxies: each is a typed `ProxyError` (hop index,
 * proxy status or SOCKS reply code, exact message) or a connect timeout, each is an ordinary
 * failed attempt under the retry policy (retried, then `RXCONN_RETRIES_EXHAUSTED` with it as the
 * cause), and no credential appears in any event or error, however deep one looks.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { open } from '../lib/index.js';
import type { ConnectionEvent, ConnectionOptions, ProxyError, RetriesExhaustedError } from '../lib/index.js';
import { leakCheck, record } from './helpers/lifecycle.js';
import { CA, connectProxy, http2Proxy, socksProxy } from './helpers/proxies.js';
import type { FakeProxy } from './helpers/proxies.js';
import { deadPort, rawServer } from './helpers/servers.js';
import { startOrigin } from './helpers/origins.js';

const SECRET = 'pa55-w0rd-xyz';
const fast = { retry: { maxRetries: 1, initialDelay: 1, maxDelay: 2 }, connectTimeout: 2_000, keepalive: false } as const;

/** Opens a connection that must fail twice (one retry) and returns what it said. */
async function failure(origin: string, options: ConnectionOptions): Promise<{ error: RetriesExhaustedError; events: ConnectionEvent[]; cause: ProxyError }> {
  const conn = open(origin, { ...fast, ...options });
  const log = record(conn);
  await log.done;
  const error = log.error() as RetriesExhaustedError;
  expect(error.code).toBe('RXCONN_RETRIES_EXHAUSTED');
  expect(log.types()).toEqual(['connecting', 'retrying', 'connecting']);
  const retrying = log.events[1] as Extract<ConnectionEvent, { type: 'retrying' }>;
  expect(retrying.error.constructor).toBe((error.cause as Error).constructor);
  // Nothing of a credential, at any depth (messages, causes, fields).
  expect(inspect([log.events, error], { depth: Infinity, showHidden: true })).not.toContain(SECRET);
  expect(inspect([log.events, error], { depth: Infinity })).not.toContain(Buffer.from(`alice:${SECRET}`).toString('base64'));
  return { error, events: log.events, cause: error.cause as ProxyError };
}

describe('HTTP CONNECT refused', () => {
  it.each([
    { name: 'no credentials (407)', behaviour: { auth: `alice:${SECRET}` }, credentials: undefined, status: 407, reason: 'Proxy Authentication Required', hint: ' (check the proxy credentials)' },
    { name: 'wrong credentials, squid style (407)', behaviour: { auth: `alice:${SECRET}` }, credentials: `alice:${SECRET}x`, status: 407, reason: 'Unauthorized', hint: ' (check the proxy credentials)' },
    { name: 'wrong credentials, tinyproxy style (401)', behaviour: { auth: `alice:${SECRET}`, wrongStatus: 401 }, credentials: `alice:${SECRET}x`, status: 401, reason: 'Unauthorized', hint: ' (check the proxy credentials)' },
    { name: 'a 500 with a body', behaviour: { status: 500 }, credentials: undefined, status: 500, reason: 'Refused', hint: '' },
    { name: 'a 503', behaviour: { status: 503 }, credentials: undefined, status: 503, reason: 'Refused', hint: '' },
    { name: 'a 302', behaviour: { status: 302 }, credentials: undefined, status: 302, reason: 'Refused', hint: '' },
  ])('$name: ProxyError with the status, retried', async ({ behaviour, credentials, status, reason, hint }) => {
    const leaks = leakCheck();
    const proxy = await connectProxy(behaviour);
    const { cause } = await failure('http://127.0.0.1:9', { proxy: proxy.url(credentials) });
    expect(cause).toMatchObject({ code: 'RXCONN_PROXY', reason: 'status', hop: 0, proxy: `http://127.0.0.1:${proxy.port}`, status });
    expect(cause.message).toBe(`proxy 1 (http://127.0.0.1:${proxy.port}): CONNECT 127.0.0.1:9 was refused: ${status} ${reason}${hint}`);
    expect(proxy.connections).toBe(2);
    await proxy.close();
    await leaks.check();
  });

  it('a 407 from an HTTP/2 proxy is the same ProxyError', async () => {
    const proxy = await http2Proxy({ auth: `alice:${SECRET}` });
    const { cause } = await failure('http://127.0.0.1:9', { proxy: { url: proxy.url(`alice:${SECRET}x`), protocols: ['http2'] } });
    expect(cause).toMatchObject({ reason: 'status', hop: 0, status: 407 });
    expect(cause.message).toBe(`proxy 1 (http://127.0.0.1:${proxy.port}): CONNECT 127.0.0.1:9 was refused: 407 (check the proxy credentials)`);
    await proxy.close();
  });

  it('the second hop of a chain failing names hop 1', async () => {
    const first = await connectProxy();
    const second = await connectProxy({ status: 502 });
    const { cause } = await failure('http://127.0.0.1:9', { proxy: [first.url(), second.url()] });
    expect(cause).toMatchObject({ reason: 'status', hop: 1, proxy: `http://127.0.0.1:${second.port}`, status: 502 });
    expect(first.requests[0]).toMatch(new RegExp(`^CONNECT 127.0.0.1:${second.port} HTTP/1.1\r\nhost: 127.0.0.1:${second.port}$`));
    expect(second.requests[0]).toMatch(/^CONNECT 127\.0\.0\.1:9 HTTP\/1\.1/);
    await first.close();
    await second.close();
  });
});

describe('a proxy that breaks its protocol or goes silent', () => {
  it('an oversized reply head is a protocol failure, and the socket is closed', async () => {
    const leaks = leakCheck();
    const proxy = await connectProxy({ hugeHead: 20_000 });
    const { cause } = await failure('http://127.0.0.1:9', { proxy: proxy.url(), maxHeaderSize: 1_024 });
    expect(cause).toMatchObject({ reason: 'protocol', hop: 0 });
    expect(cause.message).toBe(`proxy 1 (http://127.0.0.1:${proxy.port}): the answer to CONNECT 127.0.0.1:9 has a head larger than maxHeaderSize (1024 bytes)`);
    await expect.poll(() => proxy.open(), { interval: 5, timeout: 2_000 }).toBe(0);
    await proxy.close();
    await leaks.check();
  });

  it('a proxy that accepts and never answers is bounded by connectTimeout (the whole chain), then retried', async () => {
    const leaks = leakCheck();
    const first = await connectProxy();
    const silent = await connectProxy({ silent: true });
    const conn = open('http://127.0.0.1:9', { ...fast, connectTimeout: 150, proxy: [first.url(), silent.url()] });
    const log = record(conn);
    await log.done;
    expect(log.types()).toEqual(['connecting', 'retrying', 'connecting']);
    expect((log.error() as RetriesExhaustedError).cause).toMatchObject({
      code: 'RXCONN_CONNECT_TIMEOUT',
      hop: 1,
      proxy: `http://127.0.0.1:${silent.port}`,
      message: `connect attempt exceeded connectTimeout (150 ms) waiting for proxy 2 (http://127.0.0.1:${silent.port}) to answer CONNECT 127.0.0.1:9`,
    });
    expect(silent.connections).toBe(2);
    await expect.poll(() => first.open() + silent.open(), { interval: 5, timeout: 2_000 }).toBe(0);
    await first.close();
    await silent.close();
    await leaks.check();
  });

  it('a silent SOCKS5 proxy: the timeout names it', async () => {
    const silent = await rawServer(() => {});
    const conn = open('http://127.0.0.1:9', { ...fast, retry: false, connectTimeout: 100, proxy: `socks5://127.0.0.1:${silent.port}` });
    const log = record(conn);
    await log.done;
    expect((log.error() as RetriesExhaustedError).cause).toMatchObject({
      code: 'RXCONN_CONNECT_TIMEOUT',
      hop: 0,
      message: `connect attempt exceeded connectTimeout (100 ms) waiting for proxy 1 (socks5://127.0.0.1:${silent.port}) to answer the SOCKS5 handshake for 127.0.0.1:9`,
    });
    await silent.close();
  });

  it('a proxy that is not there: unreachable, hop 0', async () => {
    const port = await deadPort();
    const { cause } = await failure('http://127.0.0.1:9', { proxy: `http://alice:${SECRET}@127.0.0.1:${port}` });
    expect(cause).toMatchObject({ reason: 'unreachable', hop: 0, proxy: `http://127.0.0.1:${port}` });
    expect(cause.message).toMatch(new RegExp(`^proxy 1 \\(http://127\\.0\\.0\\.1:${port}\\): cannot reach the proxy: .*ECONNREFUSED`));
  });

  it("an https proxy with a certificate we do not trust is a TLS error naming the proxy, not retried", async () => {
    const proxy = await connectProxy({ tls: true });
    const conn = open('http://127.0.0.1:9', { ...fast, proxy: proxy.url() });
    const log = record(conn);
    await log.done;
    expect(log.types()).toEqual(['connecting']);
    expect(log.error()).toMatchObject({ code: 'RXCONN_TLS' });
    expect((log.error() as Error).message).toMatch(new RegExp(`^proxy 1 \\(https://127\\.0\\.0\\.1:${proxy.port}\\): TLS handshake failed`));
    await proxy.close();
  });

  it('a malformed status line is a protocol failure', async () => {
    const proxy = await connectProxy({ status: 0 });
    const { cause } = await failure('http://127.0.0.1:9', { proxy: proxy.url() });
    expect(cause).toMatchObject({ reason: 'protocol', hop: 0 });
    expect(cause.message).toBe(`proxy 1 (http://127.0.0.1:${proxy.port}): the answer to CONNECT 127.0.0.1:9 is not an HTTP/1.x response`);
    await proxy.close();
  });

  it.each(['http', 'socks5'])('a %s proxy that closes mid-handshake', async scheme => {
    const proxy = await rawServer(socket => socket.once('data', () => socket.end(scheme === 'http' ? 'HTTP/1.1 200' : Buffer.from([5]))));
    const { cause } = await failure('http://127.0.0.1:9', { proxy: `${scheme}://127.0.0.1:${proxy.port}` });
    expect(cause).toMatchObject({ reason: 'closed', hop: 0 });
    expect(cause.message).toBe(
      scheme === 'http'
        ? `proxy 1 (http://127.0.0.1:${proxy.port}): the proxy closed the connection before answering CONNECT 127.0.0.1:9`
        : `proxy 1 (socks5://127.0.0.1:${proxy.port}): the SOCKS5 proxy closed the connection before the tunnel to 127.0.0.1:9 was up`,
    );
    await proxy.close();
  });
});

describe('SOCKS5 refusals', () => {
  it.each([
    { rep: 1, text: 'REP 1, general SOCKS server failure' },
    { rep: 2, text: 'REP 2, connection not allowed by ruleset' },
    { rep: 5, text: 'REP 5, connection refused' },
  ])('REP $rep is a socks-reply failure with the code', async ({ rep, text }) => {
    const leaks = leakCheck();
    const proxy = await socksProxy({ rep, split: true });
    const { cause } = await failure('http://127.0.0.1:9', { proxy: proxy.url() });
    expect(cause).toMatchObject({ code: 'RXCONN_PROXY', reason: 'socks-reply', hop: 0, socksReply: rep, proxy: `socks5://127.0.0.1:${proxy.port}` });
    expect(cause.message).toBe(`proxy 1 (socks5://127.0.0.1:${proxy.port}): SOCKS5 CONNECT 127.0.0.1:9 failed: ${text}`);
    await proxy.close();
    await leaks.check();
  });

  it('no acceptable authentication method', async () => {
    const proxy = await socksProxy({ auth: `alice:${SECRET}` });
    const { cause } = await failure('http://127.0.0.1:9', { proxy: proxy.url() });
    expect(cause).toMatchObject({ reason: 'no-acceptable-method', hop: 0 });
    expect(cause.message).toBe(`proxy 1 (socks5://127.0.0.1:${proxy.port}): the SOCKS5 proxy accepts none of the offered authentication methods (no authentication; give a username and password)`);
    await proxy.close();
  });

  it('a refused username and password', async () => {
    const proxy = await socksProxy({ auth: `alice:${SECRET}`, split: true });
    const { cause } = await failure('http://127.0.0.1:9', { proxy: proxy.url(`alice:${SECRET}x`) });
    expect(cause).toMatchObject({ reason: 'auth-failed', hop: 0 });
    expect(cause.message).toBe(`proxy 1 (socks5://127.0.0.1:${proxy.port}): the SOCKS5 proxy refused the username and password`);
    await proxy.close();
  });

  it('a SOCKS5 proxy after an HTTPS proxy refusing names hop 1', async () => {
    const first = await connectProxy({ tls: true });
    const second = await socksProxy({ rep: 5 });
    const { cause } = await failure('http://127.0.0.1:9', { proxy: [{ url: first.url(), tls: { ca: CA } }, second.url()] });
    expect(cause).toMatchObject({ reason: 'socks-reply', hop: 1, socksReply: 5 });
    await first.close();
    await second.close();
  });
});

describe('a failure after the tunnel is up is the origin\'s', () => {
  it('the origin refusing (the proxy answers 502) is retried like any failed attempt', async () => {
    const origin = await startOrigin('http1');
    const port = origin.port;
    await origin.close();
    const proxy: FakeProxy = await connectProxy();
    const { cause } = await failure(`http://127.0.0.1:${port}`, { proxy: proxy.url() });
    expect(cause).toMatchObject({ reason: 'status', status: 502 });
    await proxy.close();
  });
});
