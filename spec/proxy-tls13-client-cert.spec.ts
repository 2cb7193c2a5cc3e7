/**
 * Gun scenario D13 through proxies: on TLS 1.3 the verdict on our client certificate comes after
 * the handshake, for the origin's TLS inside the tunnel as for a direct dial. A refusal (an alert,
 * or a close) ends in RXCONN_TLS, not retried and with no `connected` first; an accepted
 * certificate is reported `connected` only once the origin accepted it; a server that asks for no
 * certificate is handed over at once. The same holds for TLS to an `https://` proxy that requires
 * a client certificate, and the error names that proxy.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { open, text } from '../lib/index.js';
import type { ConnectionOptions } from '../lib/index.js';
import { leakCheck, record } from './helpers/lifecycle.js';
import { startOrigin } from './helpers/origins.js';
import { listenLocal } from './helpers/servers.js';
import { CA, connectProxy, http2Proxy, socksProxy } from './helpers/proxies.js';
import type { FakeProxy } from './helpers/proxies.js';
import { ticketlessOrigin, timeToConnect } from './helpers/tls-tickets.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const GOOD = { cert: fixture('client.pem'), key: fixture('client.key') };
const UNTRUSTED = { cert: fixture('self-signed.pem'), key: fixture('self-signed.key') };
/** Well below the 1 s grace and far above a loopback handshake through a proxy, even on a loaded machine. */
const PROMPT = 500;

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const PROXIES: Record<string, () => Promise<{ proxy: FakeProxy; option: ConnectionOptions['proxy'] }>> = {
  'HTTP/1.1 CONNECT': async () => {
    const proxy = await connectProxy();
    return { proxy, option: proxy.url() };
  },
  'HTTP/2 CONNECT (h2c)': async () => {
    const proxy = await http2Proxy();
    return { proxy, option: { url: proxy.url(), protocols: ['http2'] } };
  },
  SOCKS5: async () => {
    const proxy = await socksProxy();
    return { proxy, option: proxy.url() };
  },
};

async function startProxy(kind: string): Promise<{ proxy: FakeProxy; option: ConnectionOptions['proxy'] }> {
  const started = await PROXIES[kind]();
  closers.push(() => started.proxy.close());
  return started;
}

/**
 * An HTTPS origin on TLS 1.3 that requires a client certificate of the test CA; counts handshakes
 * and writes `accepted` into `order` when it accepts one.
 */
async function mtlsOrigin(order: string[] = []): Promise<{ url: string; handshakes: () => number }> {
  const server = https.createServer({ cert: fixture('server.pem'), key: fixture('server.key'), ca: CA, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (req, res) =>
    res.end(`mtls ${req.url} ${(req.socket as TLSSocket).getPeerCertificate().subject.CN}`),
  );
  let handshakes = 0;
  server.on('tlsClientError', () => handshakes++);
  server.on('secureConnection', () => {
    handshakes++;
    order.push('accepted');
  });
  const { port, close } = await listenLocal(server);
  closers.push(close);
  return { url: `https://127.0.0.1:${port}`, handshakes: () => handshakes };
}

describe.each(Object.keys(PROXIES))('TLS 1.3 client certificates to the origin through %s', proxyKind => {
  it.each([
    ['none sent', {}, /certificate required/i],
    ['signed by another CA', UNTRUSTED, /refused the client certificate/],
  ] as const)('a client certificate %s ends in RXCONN_TLS, with no connected and no retry', async (_name, clientTls, message) => {
    const leaks = leakCheck();
    const { option } = await startProxy(proxyKind);
    const origin = await mtlsOrigin();
    const conn = open(origin.url, { proxy: option, tls: { ca: CA, ...clientTls }, retry: { maxRetries: 5, initialDelay: 1 } });
    const log = record(conn);
    await log.done;
    expect(log.types()).toEqual(['connecting']);
    expect(log.error()).toMatchObject({ code: 'RXCONN_TLS', retryable: false, message: expect.stringMatching(message) });
    expect(origin.handshakes()).toBe(1);
    await leaks.check();
  });

  it('an accepted client certificate is connected only once the origin accepted it, and serves', async () => {
    const { option } = await startProxy(proxyKind);
    const order: string[] = [];
    const origin = await mtlsOrigin(order);
    const conn = open(origin.url, { proxy: option, tls: { ca: CA, ...GOOD } });
    conn.subscribe(event => event.type === 'connected' && order.push('connected'));
    const answer = await firstValueFrom(conn.get('/me').pipe(text()));
    expect(answer).toMatchObject({ status: 200, body: 'mtls /me rxconn test client' });
    await conn.shutdown();
    expect(order).toEqual(['accepted', 'connected']);
  });

  it('an origin that asks for no certificate (and sends no ticket) is connected without the wait', async () => {
    const { option } = await startProxy(proxyKind);
    const origin = await ticketlessOrigin('https');
    closers.push(() => origin.close());
    const conn = open(origin.url, { proxy: option, tls: { ca: CA }, connectTimeout: 10_000 });
    const took = timeToConnect(conn);
    const answer = await firstValueFrom(conn.get('/t').pipe(text()));
    expect(answer).toMatchObject({ status: 200, body: 'ok /t' });
    await conn.shutdown();
    expect(await took).toBeLessThan(PROMPT);
  });
});

describe('TLS 1.3 client certificates to an https:// proxy', () => {
  /** A plain HTTP/1.1 origin, and an https:// CONNECT proxy requiring a client certificate. */
  async function setUp(): Promise<{ origin: string; proxy: FakeProxy }> {
    const origin = await startOrigin('http1');
    closers.push(() => origin.close());
    const proxy = await connectProxy({ tls: true, clientCert: true });
    closers.push(() => proxy.close());
    return { origin: origin.origin, proxy };
  }

  it.each([
    ['none sent', {}, /TLS handshake failed: .*certificate required/i],
    ['signed by another CA', UNTRUSTED, /TLS handshake failed: .*refused the client certificate/],
  ] as const)('first hop: a client certificate %s ends in RXCONN_TLS naming the proxy, with no connected', async (_name, clientTls, message) => {
    const leaks = leakCheck();
    const { origin, proxy } = await setUp();
    const conn = open(origin, { proxy: { url: proxy.url(), tls: { ca: CA, ...clientTls } }, retry: { maxRetries: 5, initialDelay: 1 } });
    const log = record(conn);
    await log.done;
    expect(log.types()).toEqual(['connecting']);
    expect(log.error()).toMatchObject({ code: 'RXCONN_TLS', retryable: false, message: expect.stringMatching(new RegExp(`^proxy 1 \\(${proxy.url()}\\): ${message.source}`, message.flags)) });
    expect(proxy.connections).toBe(0);
    await leaks.check();
  });

  it('second hop (through an HTTP/1.1 CONNECT proxy): a refused client certificate ends in RXCONN_TLS naming that proxy', async () => {
    const leaks = leakCheck();
    const { origin, proxy } = await setUp();
    const first = await connectProxy();
    closers.push(() => first.close());
    const conn = open(origin, { proxy: [first.url(), { url: proxy.url(), tls: { ca: CA, ...UNTRUSTED } }], retry: { maxRetries: 5, initialDelay: 1 } });
    const log = record(conn);
    await log.done;
    expect(log.types()).toEqual(['connecting']);
    expect(log.error()).toMatchObject({ code: 'RXCONN_TLS', retryable: false, message: `proxy 2 (${proxy.url()}): TLS handshake failed: the server closed the connection right after the TLS 1.3 handshake, before accepting it: it refused the client certificate` });
    await leaks.check();
  });

  it('an accepted client certificate connects through the proxy and serves', async () => {
    const { origin, proxy } = await setUp();
    const conn = open(origin, { proxy: { url: proxy.url(), tls: { ca: CA, ...GOOD } } });
    const answer = await firstValueFrom(conn.get('/x').pipe(text()));
    expect(answer).toMatchObject({ status: 200, body: 'hi /x' });
    await conn.shutdown();
    expect(proxy.connections).toBe(1);
  });
});
