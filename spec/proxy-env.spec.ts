/**
 * `proxy: 'env'` end to end: an origin whose IP literal falls in a NO_PROXY CIDR range is dialled
 * directly and the proxy sees no connection; one outside the ranges goes through the proxy.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { lastValueFrom } from 'rxjs';
import { open, text } from '../lib/index.js';
import type { ConnectionEvent } from '../lib/index.js';
import { leakCheck, next } from './helpers/lifecycle.js';
import { connectProxy } from './helpers/proxies.js';
import { startOrigin } from './helpers/origins.js';

const NAMES = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'no_proxy', 'NO_PROXY'];

/** One GET to `origin` with `proxy: 'env'`: the body and the `connected` event's intermediaries. */
async function getThroughEnv(origin: string): Promise<{ body: string; intermediaries: unknown }> {
  const conn = open(origin, { proxy: 'env', keepalive: false, retry: false });
  const up = next(conn, 'connected');
  try {
    const { body } = await lastValueFrom(conn.get('/x').pipe(text()));
    const event: Extract<ConnectionEvent, { type: 'connected' }> = await up;
    return { body, intermediaries: event.intermediaries };
  } finally {
    await conn.shutdown();
  }
}

describe("proxy: 'env' with NO_PROXY CIDR ranges", () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of NAMES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it.each([
    ['an IPv4 origin in 127.0.0.0/8', '127.0.0.1', (port: number) => `http://127.0.0.1:${port}`, '10.0.0.0/8,127.0.0.0/8,.svc'],
    ['an IPv4-mapped IPv6 origin in 127.0.0.0/8', '127.0.0.1', (port: number) => `http://[::ffff:127.0.0.1]:${port}`, '10.0.0.0/8 127.0.0.0/8'],
    ['an IPv6 origin in ::1/128', '::1', (port: number) => `http://[::1]:${port}`, 'fd00::/8,::1/128'],
  ])('%s is dialled directly; the proxy sees no connection', async (_name, host, url, noProxy) => {
    const leaks = leakCheck();
    const origin = await startOrigin('http1', host);
    const proxy = await connectProxy();
    for (const name of NAMES) delete process.env[name];
    process.env.http_proxy = proxy.url();
    process.env.no_proxy = noProxy;
    expect(await getThroughEnv(url(origin.port))).toEqual({ body: 'hi /x', intermediaries: undefined });
    expect(proxy.connections).toBe(0);
    expect(origin.requests()).toBe(1);
    await proxy.close();
    await origin.close();
    await leaks.check();
  });

  it('an origin outside the ranges, or an unreadable range, goes through the proxy', async () => {
    const leaks = leakCheck();
    const origin = await startOrigin('http1');
    const proxy = await connectProxy();
    for (const name of NAMES) delete process.env[name];
    process.env.http_proxy = proxy.url();
    for (const noProxy of ['10.0.0.0/8,fd00::/8', '127.0.0.0/33', '127.0.0.0/8:' + String(origin.port)]) {
      process.env.no_proxy = noProxy;
      const { body, intermediaries } = await getThroughEnv(origin.origin);
      expect(body).toBe('hi /x');
      expect(intermediaries).toEqual([expect.objectContaining({ type: 'connect', host: '127.0.0.1', port: proxy.port })]);
    }
    expect(proxy.connections).toBe(3);
    await proxy.close();
    await origin.close();
    await leaks.check();
  });
});
