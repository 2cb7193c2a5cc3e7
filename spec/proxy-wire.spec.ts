/**
 * The wire edge cases of tunnels, against scripted proxies: the 2xx and the first tunnelled bytes
 * in one read, HTTP/1.0 and non-200 2xx answers with body headers, SOCKS5 replies written byte by
 * byte with every BND address type, the authority forms sent for IPv4, IPv6 and names, and the
 * proxy credentials going to the proxy only, and TLS to the origin (SNI, certificate) inside it.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import { describe, expect, it } from 'vitest';
import { lastValueFrom } from 'rxjs';
import { open, text } from '../lib/index.js';
import { leakCheck } from './helpers/lifecycle.js';
import { CA, CERT, connectProxy, http2Proxy, socksProxy } from './helpers/proxies.js';
import { startOrigin } from './helpers/origins.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));

async function get(origin: string, options: Parameters<typeof open>[1], path = '/x'): Promise<string> {
  const conn = open(origin, { keepalive: false, retry: false, ...options });
  try {
    return (await lastValueFrom(conn.get(path).pipe(text()))).body;
  } finally {
    await conn.shutdown();
  }
}

describe('HTTP CONNECT answers', () => {
  it('the 2xx and the first tunnelled bytes in one write: the bytes go to the origin session', async () => {
    const leaks = leakCheck();
    // An h2c origin speaks first (its SETTINGS); the proxy sends them in the same write as its 200.
    const origin = await startOrigin('h2c');
    const proxy = await connectProxy({ coalesce: true });
    expect(await get(origin.origin, { proxy: proxy.url(), protocols: ['http2'] })).toBe('hi /x');
    await proxy.close();
    await origin.close();
    await leaks.check();
  });

  it.each([
    ['HTTP/1.0 200 Connection established', 'an HTTP/1.0 answer (tinyproxy)'],
    ['HTTP/1.1 201 Created\r\ncontent-length: 1000', 'a 201 with a content-length that means nothing'],
    ['HTTP/1.1 299 Whatever\r\ntransfer-encoding: chunked', 'a 299 with transfer-encoding'],
    ['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK', 'an interim 100 first'],
  ])('any 2xx is the tunnel: %s (%s)', async okLine => {
    const origin = await startOrigin('http1');
    const proxy = await connectProxy({ okLine });
    expect(await get(origin.origin, { proxy: proxy.url() })).toBe('hi /x');
    await proxy.close();
    await origin.close();
  });

  it('sends authority-form with host, and proxy-authorization to the proxy only', async () => {
    const origin = await startOrigin('http1');
    const proxy = await connectProxy({ auth: 'alice:wonder land' });
    expect(await get(origin.origin, { proxy: proxy.url('alice:wonder%20land'), headers: { 'x-app': '1' } }, '/host')).toBe(`127.0.0.1:${origin.port}`);
    const basic = Buffer.from('alice:wonder land').toString('base64');
    expect(proxy.requests).toEqual([`CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\nhost: 127.0.0.1:${origin.port}\r\nproxy-authorization: Basic ${basic}`]);
    expect(origin.seen).toHaveLength(1);
    expect(origin.seen[0]).toMatchObject({ host: `127.0.0.1:${origin.port}`, 'x-app': '1' });
    expect(origin.seen[0]['proxy-authorization']).toBeUndefined();
    await proxy.close();
    await origin.close();
  });
});

describe('IPv6 and names', () => {
  it('an IPv6 origin is CONNECT [::1]:port, with host [::1]:port', async () => {
    const origin = await startOrigin('http1', '::1');
    const proxy = await connectProxy();
    expect(await get(origin.origin, { proxy: proxy.url() }, '/host')).toBe(`[::1]:${origin.port}`);
    expect(proxy.requests).toEqual([`CONNECT [::1]:${origin.port} HTTP/1.1\r\nhost: [::1]:${origin.port}`]);
    await proxy.close();
    await origin.close();
  });

  it('an IPv6 origin through an HTTP/2 proxy is :authority [::1]:port', async () => {
    const origin = await startOrigin('h2c', '::1');
    const proxy = await http2Proxy();
    expect(await get(origin.origin, { proxy: { url: proxy.url(), protocols: ['http2'] }, protocols: ['http2'] })).toBe('hi /x');
    expect(JSON.parse(proxy.requests[0])).toMatchObject({ ':method': 'CONNECT', ':authority': `[::1]:${origin.port}` });
    expect(JSON.parse(proxy.requests[0])).not.toHaveProperty(':path');
    await proxy.close();
    await origin.close();
  });

  it('SOCKS5 sends an IPv6 literal as ATYP 4, an IPv4 one as ATYP 1, a name as ATYP 3 (resolved by the proxy)', async () => {
    const v6 = await startOrigin('http1', '::1');
    const v4 = await startOrigin('http1');
    const proxy = await socksProxy();
    expect(await get(v6.origin, { proxy: proxy.url() })).toBe('hi /x');
    expect(await get(v4.origin, { proxy: proxy.url() })).toBe('hi /x');
    expect(await get(`http://localhost:${v4.port}`, { proxy: proxy.url() })).toBe('hi /x');
    expect(proxy.requests).toEqual([`4:::1:${v6.port}`, `1:127.0.0.1:${v4.port}`, `3:localhost:${v4.port}`]);
    await proxy.close();
    await v6.close();
    await v4.close();
  });
});

describe('SOCKS5 replies split byte by byte', () => {
  it.each([
    { bnd: 1, kind: 'http1' },
    { bnd: 3, kind: 'h2c' },
    { bnd: 4, kind: 'https' },
    { bnd: 4, kind: 'h2c' },
  ] as const)('BND type $bnd, to an $kind origin, with username/password', async ({ bnd, kind }) => {
    const leaks = leakCheck();
    const origin = await startOrigin(kind);
    const proxy = await socksProxy({ split: true, bnd, auth: 'u:p' });
    const options = kind === 'h2c' ? { protocols: ['http2'] as const } : kind === 'https' ? { tls: { ca: CA } } : {};
    expect(await get(origin.origin, { ...options, proxy: proxy.url('u:p') })).toBe('hi /x');
    await proxy.close();
    await origin.close();
    await leaks.check();
  });
});

describe('TLS to the origin inside the tunnel', () => {
  it('sends SNI for the origin name and verifies the certificate against it', async () => {
    const names: Array<string | false> = [];
    const server = http2.createSecureServer({ ...CERT }, (_req, res) => res.end('secure'));
    server.on('secureConnection', socket => names.push(socket.servername));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const proxy = await connectProxy();
    // The proxy resolves `localhost`; the fake dials it on either family, the server listens on 127.0.0.1.
    expect(await get(`https://localhost:${port}`, { proxy: proxy.url(), tls: { ca: CA } })).toBe('secure');
    expect(names).toEqual(['localhost']);
    expect(proxy.requests[0]).toMatch(new RegExp(`^CONNECT localhost:${port} HTTP/1.1`));
    server.close();
    await proxy.close();
  });

  it('a certificate for another name is RXCONN_TLS (the origin\'s), not a proxy error, and not retried', async () => {
    const server = https.createServer({ key: fixture('wrong-host.key'), cert: fixture('wrong-host.pem') }, (_req, res) => res.end('no'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const proxy = await connectProxy();
    const conn = open(`https://127.0.0.1:${port}`, { proxy: proxy.url(), tls: { ca: CA }, retry: { maxRetries: 3, initialDelay: 1, maxDelay: 1 } });
    const error = await lastValueFrom(conn.get('/')).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'RXCONN_TLS' });
    expect(proxy.connections).toBe(1);
    conn.close();
    server.close();
    await proxy.close();
  });
});

describe('connectTimeout: Infinity', () => {
  it('a SOCKS5 and a CONNECT hop still work (no timer of theirs fires at once)', async () => {
    const origin = await startOrigin('http1');
    const a = await connectProxy();
    const b = await socksProxy({ split: true });
    expect(await get(origin.origin, { proxy: [a.url(), b.url()], connectTimeout: Infinity })).toBe('hi /x');
    await a.close();
    await b.close();
    await origin.close();
  });
});
