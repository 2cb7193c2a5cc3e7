/**
 * An idle connection weighs little: once a connection has proved itself, nothing of the
 * reconnect machinery (the RxJS retry loop, the dial, the attempt's hooks) stays reachable, and
 * a finished response leaves nothing behind. Measured as heap per idle connection after a full
 * GC, against raw `node:http2` sessions to the same server in the same process (the server's
 * objects count on both sides). Before the loop ended on proof, rxconn held about 24 KiB more
 * than the raw session in this test; today about 4–5 KiB. The bound sits between.
 */
import { connect } from 'node:http2';
import type { ClientHttp2Session } from 'node:http2';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { lastValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { open, text } from '../lib/index.js';
import type { Connection } from '../lib/index.js';
import { startServer } from './helpers/servers.js';
import type { TestServer } from './helpers/servers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const COUNT = 200;
/** rxconn's heap per idle HTTP/2 connection above the raw session's, in bytes. */
const BOUND = 8 * 1024;

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await new Promise(resolve => setImmediate(resolve));
    gc();
  }
  return process.memoryUsage().heapUsed;
}

function rawSession(origin: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(origin);
    session.once('error', reject);
    session.once('remoteSettings', () => resolve(session));
  });
}

/** Opens a connection, makes one request on it (so the proof comes from a response), and leaves it idle. */
async function usedConnection(origin: string): Promise<Connection> {
  const conn = open(origin, { protocols: ['http2'] });
  conn.subscribe({ error: () => undefined }).unsubscribe();
  await lastValueFrom(conn.get('/').pipe(text()));
  return conn;
}

/** Heap per item of `make()`, opened COUNT times and held. */
async function perItem<T>(make: () => Promise<T>): Promise<{ items: T[]; bytes: number }> {
  const before = await heapAfterGc();
  const items: T[] = [];
  for (let i = 0; i < COUNT; i += 50) items.push(...(await Promise.all(Array.from({ length: 50 }, make))));
  return { items, bytes: ((await heapAfterGc()) - before) / COUNT };
}

describe('an idle connection', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer('http2', (_req, res) => res.end('ok'));
  });
  afterAll(() => server.close());

  it(`holds less than ${BOUND / 1024} KiB of heap more than a raw node:http2 session once it has proved itself`, async () => {
    // Warm both paths (code, shared caches) before measuring.
    for (const session of await Promise.all(Array.from({ length: 20 }, () => rawSession(server.origin)))) session.destroy();
    for (const conn of await Promise.all(Array.from({ length: 20 }, () => usedConnection(server.origin)))) conn.close();

    const raw = await perItem(() => rawSession(server.origin));
    const ours = await perItem(() => usedConnection(server.origin));
    try {
      expect(ours.items.every(conn => conn.state === 'connected')).toBe(true);
      expect(ours.bytes - raw.bytes, `rxconn ${Math.round(ours.bytes)} B, raw ${Math.round(raw.bytes)} B per connection`).toBeLessThan(BOUND);
    } finally {
      for (const session of raw.items) session.destroy();
      await Promise.all(ours.items.map(conn => (conn.close(), conn.whenClosed())));
    }
  });
});
