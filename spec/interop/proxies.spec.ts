/**
 * Tunnels through real proxies from Debian, started by the suite on 127.0.0.1: tinyproxy and
 * squid (HTTP CONNECT with Basic auth), microsocks (SOCKS5 with username/password), nghttpx
 * --http2-proxy chained to tinyproxy (CONNECT inside HTTP/2, h2c and TLS frontends), haproxy as
 * a TLS wrapper (an `https://` proxy). Origins: nginx (HTTP/1.1, and HTTP/2 over TLS by ALPN)
 * and Node servers (h2c, IPv6, WebSocket). Each proxy's refusals are checked as typed errors,
 * and each hop is killed and restarted under load.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filter, firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { body, open, text } from '../../lib/index.js';
import type { ConnectionEvent, ConnectionOptions, Intermediary, RetriesExhaustedError } from '../../lib/index.js';
import { connected, leakCheck, record } from '../helpers/lifecycle.js';
import { startOrigin } from '../helpers/origins.js';
import type { Origin, OriginControls } from '../helpers/origins.js';
import { HAPROXY, MICROSOCKS, NGHTTPX, NGINX, SQUID, TINYPROXY, ensureTools } from './helpers/install.js';
import { Nginx } from './helpers/nginx.js';
import { Daemon, PASSWORD, USER } from './helpers/proxies.js';

const ca = readFileSync(new URL('../fixtures/ca.pem', import.meta.url));
const tools = await ensureTools([NGINX, TINYPROXY, SQUID, MICROSOCKS, NGHTTPX, HAPROXY]);
const missing = (...pkgs: string[]): string | undefined => pkgs.map(p => tools[p]).find(Boolean);

/** A proxy set-up under test: the daemons to start (in order), the option, the intermediaries. */
interface Setup {
  readonly name: string;
  readonly needs: string[];
  readonly option: () => ConnectionOptions['proxy'];
  readonly intermediaries: () => Array<Omit<Intermediary, 'port'> & { port: number }>;
}

let tiny: Daemon;
let squid: Daemon;
let socks: Daemon;
let nghttpx: Daemon;
let haproxy: Daemon;
let nginx: Nginx;
let nodeH2c: Origin & OriginControls;
let nodeWs: Origin & OriginControls;

const hop = (type: Intermediary['type'], port: number, transport: Intermediary['transport'], protocol: Intermediary['protocol']): Intermediary => ({ type, host: '127.0.0.1', port, transport, protocol });

const SETUPS: Setup[] = [
  {
    name: 'tinyproxy (HTTP/1.0 200 to CONNECT, Basic auth)',
    needs: ['tinyproxy'],
    option: () => tiny.url('http', true),
    intermediaries: () => [hop('connect', tiny.port, 'tcp', 'http1')],
  },
  {
    name: 'squid (Basic auth through basic_ncsa_auth)',
    needs: ['squid'],
    option: () => squid.url('http', true),
    intermediaries: () => [hop('connect', squid.port, 'tcp', 'http1')],
  },
  {
    name: 'microsocks (SOCKS5, username/password)',
    needs: ['microsocks'],
    option: () => socks.url('socks5', true),
    intermediaries: () => [hop('socks5', socks.port, 'tcp', 'socks5')],
  },
  {
    name: 'nghttpx --http2-proxy (h2c) chained to tinyproxy',
    needs: ['nghttp2-proxy', 'tinyproxy'],
    option: () => ({ url: nghttpx.url('http'), protocols: ['http2'] }),
    intermediaries: () => [hop('connect', nghttpx.ports[0], 'tcp', 'http2')],
  },
  {
    name: 'nghttpx --http2-proxy (TLS, ALPN h2) chained to tinyproxy',
    needs: ['nghttp2-proxy', 'tinyproxy'],
    option: () => ({ url: nghttpx.url('https', false, 1), protocols: ['http2', 'http1'], tls: { ca } }),
    intermediaries: () => [hop('connect', nghttpx.ports[1], 'tls', 'http2')],
  },
  {
    name: 'haproxy TLS wrapper in front of tinyproxy (an https:// proxy)',
    needs: ['haproxy', 'tinyproxy'],
    option: () => ({ url: haproxy.url('https', true), tls: { ca } }),
    intermediaries: () => [hop('connect', haproxy.port, 'tls', 'http1')],
  },
  {
    name: 'a chain: microsocks → tinyproxy → squid',
    needs: ['microsocks', 'tinyproxy', 'squid'],
    option: () => [socks.url('socks5', true), tiny.url('http', true), squid.url('http', true)],
    intermediaries: () => [hop('socks5', socks.port, 'tcp', 'socks5'), hop('connect', tiny.port, 'tcp', 'http1'), hop('connect', squid.port, 'tcp', 'http1')],
  },
];

const started: Array<{ dispose(): Promise<void> }> = [];

beforeAll(async () => {
  nodeH2c = await startOrigin('h2c');
  nodeWs = await startOrigin('http1');
  if (!tools['nginx-light']) {
    nginx = await Nginx.create();
    await nginx.start();
    started.push(nginx);
  }
  const daemons: Array<[string, () => Promise<Daemon>, (d: Daemon) => void]> = [
    ['tinyproxy', () => Daemon.tinyproxy(), d => (tiny = d)],
    ['squid', () => Daemon.squid(), d => (squid = d)],
    ['microsocks', () => Daemon.microsocks(), d => (socks = d)],
  ];
  for (const [pkg, make, keep] of daemons) {
    if (tools[pkg]) continue;
    const daemon = await make();
    await daemon.start();
    started.push(daemon);
    keep(daemon);
  }
  if (!missing('nghttp2-proxy', 'tinyproxy')) {
    nghttpx = await Daemon.nghttpx(tiny.port);
    await nghttpx.start();
    started.push(nghttpx);
  }
  if (!missing('haproxy', 'tinyproxy')) {
    haproxy = await Daemon.haproxy(tiny.port);
    await haproxy.start();
    started.push(haproxy);
  }
});

afterAll(async () => {
  for (const s of started) await s.dispose();
  await nodeH2c?.close();
  await nodeWs?.close();
});

describe.each(SETUPS)('through $name', setup => {
  const skip = missing(...setup.needs, 'nginx-light');
  it.skipIf(skip)('HTTP/1.1 to nginx, HTTP/2 (TLS, ALPN h2) to nginx, h2c to a Node origin, a WebSocket to a Node origin', async () => {
    const leaks = leakCheck();
    const proxy = setup.option();
    const expected = setup.intermediaries();
    const cases: Array<[string, ConnectionOptions, 'http1' | 'http2']> = [
      [nginx.origin('h1'), {}, 'http1'],
      [nginx.origin('tls'), { tls: { ca } }, 'http2'],
      [nodeH2c.origin, { protocols: ['http2'] }, 'http2'],
    ];
    for (const [origin, options, speaks] of cases) {
      const conn = open(origin, { ...options, proxy, keepalive: false, retry: false });
      const log = record(conn);
      const file = await lastValueFrom(conn.get('/files/65536.bin').pipe(body()));
      if (origin !== nodeH2c.origin) expect(Buffer.from(file.body).equals(nginx.files.get(65_536)!)).toBe(true);
      expect(log.events[1]).toEqual({ type: 'connected', protocol: speaks, attempt: 0, intermediaries: expected });
      expect(conn.info().intermediaries).toEqual(expected);
      expect(JSON.stringify(log.events)).not.toContain(PASSWORD);
      await conn.shutdown();
    }
    const conn = open(nodeWs.origin, { proxy, keepalive: false, retry: false });
    await connected(conn);
    const channel = conn.websocket('/ws');
    const echoed = firstValueFrom(channel.pipe(take(2), toArray()));
    channel.send('through');
    channel.send('the proxy');
    expect(await echoed).toEqual(['through', 'the proxy']);
    await conn.shutdown();
    expect(nodeH2c.seen.every(h => h['proxy-authorization'] === undefined)).toBe(true);
    await leaks.check();
  });
});

/** The cause of the failure of a connection that gives up after its first attempt. */
async function failureOf(origin: string, proxy: ConnectionOptions['proxy']): Promise<unknown> {
  const conn = open(origin, { proxy, retry: false, keepalive: false, connectTimeout: 5_000 });
  const log = record(conn);
  await log.done;
  const cause = (log.error() as RetriesExhaustedError).cause;
  expect(JSON.stringify([log.events, cause, (cause as Error).message])).not.toContain(PASSWORD);
  return cause;
}

describe('refusals, as typed hop errors', () => {
  it.skipIf(missing('tinyproxy'))('tinyproxy: 407 without credentials, 401 with a wrong password, 500 for a closed port', async () => {
    expect(await failureOf(nodeH2c.origin, tiny.url('http'))).toMatchObject({ code: 'RXCONN_PROXY', reason: 'status', status: 407, hop: 0 });
    expect(await failureOf(nodeH2c.origin, `http://${USER}:wrong@127.0.0.1:${tiny.port}`)).toMatchObject({ reason: 'status', status: 401, hop: 0 });
    expect(await failureOf('http://127.0.0.1:9', tiny.url('http', true))).toMatchObject({ reason: 'status', status: 500, hop: 0 });
  });

  it.skipIf(missing('squid'))('squid: 407 without or with wrong credentials, 503 for a closed port, and CONNECT [::1]:port', async () => {
    expect(await failureOf(nodeH2c.origin, squid.url('http'))).toMatchObject({ reason: 'status', status: 407 });
    expect(await failureOf(nodeH2c.origin, `http://${USER}:wrong@127.0.0.1:${squid.port}`)).toMatchObject({ reason: 'status', status: 407 });
    expect(await failureOf('http://127.0.0.1:9', squid.url('http', true))).toMatchObject({ reason: 'status', status: 503 });
    const v6 = await startOrigin('http1', '::1');
    const conn = open(v6.origin, { proxy: squid.url('http', true), retry: false });
    expect(await lastValueFrom(conn.get('/host').pipe(text()))).toMatchObject({ body: `[::1]:${v6.port}` });
    await conn.shutdown();
    await v6.close();
  });

  it.skipIf(missing('microsocks'))('microsocks: auth failure, no acceptable method, REP 5 for a closed port', async () => {
    expect(await failureOf(nodeH2c.origin, `socks5://${USER}:wrong@127.0.0.1:${socks.port}`)).toMatchObject({ reason: 'auth-failed', hop: 0 });
    expect(await failureOf(nodeH2c.origin, socks.url('socks5'))).toMatchObject({ reason: 'no-acceptable-method', hop: 0 });
    expect(await failureOf('http://127.0.0.1:9', socks.url('socks5', true))).toMatchObject({ reason: 'socks-reply', socksReply: 5, hop: 0 });
  });

  it.skipIf(missing('nghttp2-proxy', 'tinyproxy'))('nghttpx: a closed port behind tinyproxy comes back as a non-2xx :status', async () => {
    const cause = await failureOf('http://127.0.0.1:9', { url: nghttpx.url('http'), protocols: ['http2'] });
    expect(cause).toMatchObject({ code: 'RXCONN_PROXY', reason: 'status', hop: 0 });
    expect((cause as { status: number }).status).toBeGreaterThanOrEqual(500);
  });
});

/** Kills and restarts `victim` under load; checks the whole-chain redial and that queued requests arrive. */
async function killAndRestart(victim: () => Daemon, proxy: ConnectionOptions['proxy'], origin: Origin & OriginControls): Promise<void> {
  const conn = open(origin.origin, { proxy, protocols: ['http2'], keepalive: false, retry: { maxRetries: Infinity, initialDelay: 20, maxDelay: 200 } });
  const log = record(conn);
  await connected(conn);
  const first = (log.events[1] as Extract<ConnectionEvent, { type: 'connected' }>).intermediaries;
  const before = origin.requests();
  const load = [1, 2, 3, 4, 5].map(i => lastValueFrom(conn.get(`/load-${i}`).pipe(text())));
  expect((await Promise.all(load)).map(r => r.body)).toEqual([1, 2, 3, 4, 5].map(i => `hi /load-${i}`));
  const slow = lastValueFrom(conn.get('/slow').pipe(text())).catch((error: unknown) => error);
  await expect.poll(() => origin.requests()).toBe(before + 6);
  const redialled = firstValueFrom(conn.pipe(filter(e => e.type === 'retrying'), take(2), toArray()));
  await victim().kill9();
  expect(await slow).toMatchObject({ code: 'RXCONN_CONNECTION_DOWN' });
  const queued = [1, 2, 3].map(i => lastValueFrom(conn.get(`/queued-${i}`).pipe(text())));
  await redialled;
  await victim().restart();
  expect((await Promise.all(queued)).map(r => r.body)).toEqual([1, 2, 3].map(i => `hi /queued-${i}`));
  const types = log.types();
  expect(types.slice(0, 3)).toEqual(['connecting', 'connected', 'disconnected']);
  expect(types).toContain('retrying');
  const connects = log.events.filter(e => e.type === 'connected') as Array<Extract<ConnectionEvent, { type: 'connected' }>>;
  expect(connects).toHaveLength(2);
  expect(connects[1].intermediaries).toEqual(first);
  expect(origin.requests()).toBe(before + 6 + 3);
  await conn.shutdown();
}

describe('killing and restarting each hop under load', () => {
  it.skipIf(missing('tinyproxy'))('tinyproxy', async () => {
    await killAndRestart(() => tiny, tiny.url('http', true), nodeH2c);
  });
  it.skipIf(missing('squid'))('squid', { timeout: 60_000 }, async () => {
    await killAndRestart(() => squid, squid.url('http', true), nodeH2c);
  });
  it.skipIf(missing('microsocks'))('microsocks', async () => {
    await killAndRestart(() => socks, socks.url('socks5', true), nodeH2c);
  });
  it.skipIf(missing('nghttp2-proxy', 'tinyproxy'))('nghttpx (the HTTP/2 proxy, first hop)', async () => {
    await killAndRestart(() => nghttpx, { url: nghttpx.url('http'), protocols: ['http2'] }, nodeH2c);
  });
  it.skipIf(missing('nghttp2-proxy', 'tinyproxy'))('tinyproxy behind nghttpx (the second proxy of the path)', async () => {
    await killAndRestart(() => tiny, { url: nghttpx.url('http'), protocols: ['http2'] }, nodeH2c);
  });
  it.skipIf(missing('haproxy', 'tinyproxy'))('haproxy (the TLS wrapper)', async () => {
    await killAndRestart(() => haproxy, { url: haproxy.url('https', true), tls: { ca } }, nodeH2c);
  });
  it.skipIf(missing('microsocks', 'tinyproxy', 'squid'))('the middle hop of microsocks → tinyproxy → squid', { timeout: 60_000 }, async () => {
    await killAndRestart(() => tiny, [socks.url('socks5', true), tiny.url('http', true), squid.url('http', true)], nodeH2c);
  });
});
