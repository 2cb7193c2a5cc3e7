/**
 * Rotation against a production server: nginx closes a connection after `keepalive_requests`
 * requests (HTTP/1.1 `connection: close`, HTTP/2 GOAWAY) and after `keepalive_timeout` idle, and
 * `nginx -s quit` stops listening while the old worker finishes what it serves. Each request goes
 * through nginx to a Node upstream that records its id, so "answered exactly once" is checked on
 * the server side too. Default connection options throughout: what a user gets.
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { filter, firstValueFrom, lastValueFrom } from 'rxjs';
import { open, text } from '../../lib/index.js';
import type { Connection, ConnectionOptions } from '../../lib/index.js';
import { record } from '../helpers/lifecycle.js';
import { watch } from '../faults/helpers/outcomes.js';
import { ensureTools } from './helpers/install.js';
import { Load } from './helpers/load.js';
import { Nginx } from './helpers/nginx.js';
import { ID_HEADER, startUpstream } from './helpers/upstream.js';
import type { Upstream } from './helpers/upstream.js';

const ca = readFileSync(new URL('../fixtures/ca.pem', import.meta.url));
const skip = (await ensureTools())['nginx-light'];

const H1: ConnectionOptions = { protocols: ['http1'] };
const H2: ConnectionOptions = { protocols: ['http2', 'http1'], tls: { ca } };

type Log = ReturnType<typeof record>;
const rotations = (log: Log): number => log.events.filter(e => e.type === 'closing' && e.rotation === true).length;

const opened: Connection[] = [];
afterEach(async () => {
  for (const conn of opened.splice(0)) {
    conn.close();
    await conn.whenClosed();
  }
});
function connect(origin: string, options: ConnectionOptions): Connection {
  const conn = open(origin, options);
  opened.push(conn);
  return conn;
}

describe.skipIf(skip)('nginx keepalive_requests 25: every rotation is invisible to the user', () => {
  const PER_CONNECTION = 25;
  let nginx: Nginx;
  let upstream: Upstream;
  beforeAll(async () => {
    upstream = await startUpstream();
    nginx = await Nginx.create(undefined, { keepaliveRequests: PER_CONNECTION, upstream: upstream.port });
    await nginx.start();
  });
  afterAll(async () => {
    await nginx?.dispose();
    await upstream?.close();
  });

  it.each([
    { name: 'HTTP/1.1', port: 'h1' as const, options: H1, concurrency: 16, total: 600, speaks: 'http1' },
    { name: 'HTTP/2 over TLS (ALPN)', port: 'tls' as const, options: H2, concurrency: 64, total: 1_000, speaks: 'http2' },
  ])('$name: $total requests (GET, every 4th a POST) at $concurrency concurrent: each answered once, no error, state never disconnected', async ({ name, port, options, concurrency, total, speaks }) => {
    const conn = connect(nginx.origin(port), options);
    const log = record(conn);
    const started = Date.now();
    const load = new Load(conn, { name: `rot-${port}`, concurrency, total });
    await load.finished();
    const seconds = (Date.now() - started) / 1000;
    console.log(`[nginx keepalive_requests ${PER_CONNECTION}] ${name}: ${total} requests at ${concurrency} concurrent in ${seconds.toFixed(1)} s, ${JSON.stringify(load.tally())}, rotations ${rotations(log)}, states ${JSON.stringify([...new Set(log.states)])}`);
    // (The last response may have closed the connection: look at every connection it made.)
    expect(log.events.filter(e => e.type === 'connected').every(e => e.type === 'connected' && e.protocol === speaks)).toBe(true);
    expect(load.tally()).toEqual({ ok: total });
    const ids = load.outcomes.map(o => o.id);
    expect(ids.every(id => upstream.seen.get(id) === 1)).toBe(true);
    expect(log.states).not.toContain('disconnected');
    expect(log.types()).not.toContain('retrying');
    // nginx closes each connection after 25 requests: about total / 25 planned closes, each a rotation.
    expect(rotations(log)).toBeGreaterThanOrEqual(Math.floor(total / PER_CONNECTION) - 1);
    expect(log.events.filter(e => e.type === 'closing').every(e => e.type === 'closing' && e.rotation === true && e.initiator === 'server')).toBe(true);
  });

  it('HTTP/1.1: the last request nginx takes on a connection (connection: close), cancelled mid-body, is a rotation too: closed at once, no outage', async () => {
    const conn = connect(nginx.origin('h1'), H1);
    const log = record(conn);
    for (let i = 1; i < PER_CONNECTION; i++) expect((await firstValueFrom(conn.get('/files/1.bin').pipe(text()))).status).toBe(200);
    // The 25th: nginx answers it with connection: close; 1 MiB at 1 MiB/s is still coming when it is cancelled.
    const last = watch(conn.get('/slow/1048576.bin'));
    await last.head;
    last.unsubscribe();
    expect((await firstValueFrom(conn.get('/files/1.bin').pipe(text()))).status).toBe(200);
    expect(log.events.filter(e => e.type === 'connected')).toHaveLength(2);
    expect(log.events.find(e => e.type === 'closing')).toMatchObject({ initiator: 'server', rotation: true });
    expect(log.states).not.toContain('disconnected');
    expect(log.types()).not.toContain('retrying');
  });
});

describe.skipIf(skip)('nginx keepalive_timeout 1s: idle closes are rotations', () => {
  let nginx: Nginx;
  let upstream: Upstream;
  beforeAll(async () => {
    upstream = await startUpstream();
    nginx = await Nginx.create(undefined, { keepaliveTimeout: '1s', upstream: upstream.port });
    await nginx.start();
  });
  afterAll(async () => {
    await nginx?.dispose();
    await upstream?.close();
  });

  // Idle times swept around nginx's 1 s timeout.
  const SPACINGS = [500, 900, 960, 990, 993, 995, 997, 1_000, 1_010, 1_040, 1_100, 1_500];

  it('GETs spaced around the timeout, over HTTP/1.1 and HTTP/2 side by side: every one answered, idle closes are rotations', { timeout: 60_000 }, async () => {
    const sweep = async (port: 'h1' | 'tls', options: ConnectionOptions): Promise<{ results: string[]; log: Log }> => {
      const conn = connect(nginx.origin(port), options);
      const log = record(conn);
      const results: string[] = [];
      for (const [i, spacing] of [0, ...SPACINGS].entries()) {
        // The idle time is what this test is about: a timer is its subject, not a synchronisation.
        if (spacing > 0) await new Promise(resolve => setTimeout(resolve, spacing));
        const id = `idle-${port}-${i}`;
        try {
          const reply = await lastValueFrom(conn.get(`/up/${id}`, { headers: { [ID_HEADER]: id } }).pipe(text()));
          results.push(reply.body === `GET ${id} 0` ? 'ok' : `wrong ${reply.status}`);
        } catch (error) {
          results.push(`after ${spacing} ms: ${(error as { code?: string }).code ?? String(error)}`);
        }
      }
      return { results, log };
    };
    const [h1, h2] = await Promise.all([sweep('h1', H1), sweep('tls', H2)]);
    for (const [name, { results, log }] of [['HTTP/1.1', h1], ['HTTP/2', h2]] as const) {
      console.log(`[nginx keepalive_timeout 1s] ${name}: ${results.length} GETs spaced ${SPACINGS.join('/')} ms, ${results.filter(r => r === 'ok').length} ok, rotations ${rotations(log)}, events ${log.types().join(' ')}`);
      expect(results).toEqual(results.map(() => 'ok'));
      if (name === 'HTTP/2') {
        expect(log.states).not.toContain('disconnected');
      } else {
        // Known bug (spec/idle-close-race.spec.ts): a GET written as nginx closes the idle socket is
        // sent again and answered, but the close is reported as an outage. Only that may show here.
        const outages = log.events.filter(e => e.type === 'disconnected');
        console.log(`[nginx keepalive_timeout 1s] HTTP/1.1: ${outages.length} idle-close race(s) reported as an outage`);
        expect(outages.every(e => e.type === 'disconnected' && e.killedStreams === 0 && e.error.message === 'the server closed the connection')).toBe(true);
      }
      // At least the spacings well past the timeout (1.1 s, 1.5 s) found the connection closed by nginx.
      expect(rotations(log)).toBeGreaterThanOrEqual(2);
    }
  });
});

describe.skipIf(skip)('nginx -s quit with a throttled download in flight over HTTP/2', () => {
  let nginx: Nginx;
  beforeAll(async () => {
    nginx = await Nginx.create();
    await nginx.start();
  });
  afterAll(async () => {
    await nginx?.dispose();
  });

  it('1 MiB at 256 KiB/s (limit_rate), default options: the download completes while every redial is refused, then it reconnects to the next nginx', async () => {
    const MiB = 1024 * 1024;
    const conn = connect(nginx.origin('tls'), H2);
    const log = record(conn);
    const download = watch(conn.get(`/slower/${MiB}.bin`));
    await download.firstData;
    expect(conn.info().protocol).toBe('http2');
    await nginx.quit();
    const result = await download.done;
    expect(result.error).toBeUndefined();
    expect(result.body.equals(nginx.files.get(MiB)!)).toBe(true);
    await nginx.exited();
    const refused = log.events.filter(e => e.type === 'retrying').length;
    await nginx.start();
    await firstValueFrom(conn.state$.pipe(filter(s => s === 'connected')));
    const after = watch(conn.get('/files/1000.bin'));
    expect((await after.done).status).toBe(200);
    console.log(`[nginx -s quit, 1 MiB at 256 KiB/s over HTTP/2] completed, ${refused} redials refused meanwhile, events ${log.types().join(' ')}`);
    expect(log.events.find(e => e.type === 'closing')).toMatchObject({ initiator: 'server', goaway: { errorCode: 0 } });
    expect(log.events.filter(e => e.type === 'disconnected').every(e => e.type === 'disconnected' && e.killedStreams === 0)).toBe(true);
    expect(conn.state).toBe('connected');
  });
});

describe.skipIf(skip)('nginx -s reload on a connection that has not served yet (a rotation\'s fresh replacement)', () => {
  let nginx: Nginx;
  beforeAll(async () => {
    nginx = await Nginx.create();
    await nginx.start();
  });
  afterAll(async () => {
    await nginx?.dispose();
  });

  // Found by the soak: under load a connection rotated by keepalive_requests lives ~0.1 s, so an
  // `nginx -s reload` often GOAWAYs (NO_ERROR, last stream id 0) a fresh replacement that has served
  // nothing. Such a hasty planned close is still a rotation (the first two in a row; more are a server
  // that accepts and closes, see lib/core/lifecycle.ts). (nginx leaves a fresh HTTP/1.1 connection
  // open on reload until client_header_timeout: no HTTP/1.1 twin of this test.)
  it('HTTP/2: the old worker GOAWAYs the fresh, idle connection; it is a rotation, state never disconnected', async ctx => {
    const conn = connect(nginx.origin('tls'), H2);
    await firstValueFrom(conn.state$.pipe(filter(s => s === 'connected')));
    const since = Date.now();
    const log = record(conn);
    const closed = firstValueFrom(conn.pipe(filter(e => e.type === 'closing')));
    // The replacement's `connected` event (state$ reads `connected` all through a rotation).
    const replaced = firstValueFrom(conn.pipe(filter(e => e.type === 'connected')));
    await nginx.reload();
    expect(await closed).toMatchObject({ initiator: 'server', goaway: { errorCode: 0, lastStreamId: 0 } });
    // On a machine too slow to reload within PROVEN_AFTER, the connection proved itself first.
    if (Date.now() - since >= 900) ctx.skip();
    await replaced;
    expect(log.states).not.toContain('disconnected');
    expect(log.types()).toEqual(['closing', 'connecting', 'connected']);
  });
});
