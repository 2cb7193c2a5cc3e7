/**
 * Interop against nghttpd (nghttp2's reference HTTP/2 server), started by the suite on
 * 127.0.0.1: h2c prior knowledge and HTTP/2 over TLS (ALPN h2). Files of every size, many
 * concurrent streams, uploads echoed back (--echo-upload), and a kill -9 and restart.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Observable, filter, firstValueFrom } from 'rxjs';
import { body, open } from '../../lib/index.js';
import type { Connection } from '../../lib/index.js';
import { leakCheck, next } from '../helpers/lifecycle.js';
import { outcome } from '../faults/helpers/outcomes.js';
import { NGHTTPD, ensureTools } from './helpers/install.js';
import { freePort, start, tempDir, waitForPort } from './helpers/processes.js';
import type { Proc } from './helpers/processes.js';

const fixture = (name: string): string => new URL(`../fixtures/${name}`, import.meta.url).pathname;
const ca = readFileSync(fixture('ca.pem'));
const skip = (await ensureTools())['nghttp2-server'];
const SIZES = [0, 1, 16_385, 1024 * 1024] as const;

/** One nghttpd serving `dir`, cleartext or TLS, restartable on its port. */
class Nghttpd {
  #proc: Proc | undefined;
  constructor(
    readonly dir: string,
    readonly port: number,
    readonly tls: boolean,
  ) {}
  get origin(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    const args = ['-a', '127.0.0.1', '-d', this.dir, '--echo-upload', ...(this.tls ? [String(this.port), fixture('server.key'), fixture('server.pem')] : ['--no-tls', String(this.port)])];
    this.#proc = start(NGHTTPD.command, args);
    await Promise.race([
      waitForPort(this.port),
      this.#proc.exited.then(() => {
        throw new Error(`nghttpd exited: ${this.#proc?.output()}`);
      }),
    ]);
  }
  async kill9(): Promise<void> {
    await this.#proc?.kill9();
  }
}

describe.skipIf(skip)('nghttpd', () => {
  const dir = tempDir('rxconn-nghttpd-');
  const files = new Map<number, Buffer>();
  const servers: Record<'h2c' | 'h2', Nghttpd> = {} as Record<'h2c' | 'h2', Nghttpd>;
  beforeAll(async () => {
    mkdirSync(join(dir.path, 'files'));
    for (const size of SIZES) {
      files.set(size, randomBytes(size));
      writeFileSync(join(dir.path, 'files', `${size}.bin`), files.get(size)!);
    }
    servers.h2c = new Nghttpd(dir.path, await freePort(), false);
    servers.h2 = new Nghttpd(dir.path, await freePort(), true);
    await Promise.all([servers.h2c.start(), servers.h2.start()]);
  });
  afterAll(async () => {
    await Promise.all(Object.values(servers).map(s => s.kill9()));
    dir.remove();
  });

  describe.each(['h2c', 'h2'] as const)('over %s', kind => {
    const connect = (): Connection => open(servers[kind].origin, { protocols: ['http2'], tls: { ca }, retry: { initialDelay: 5, maxDelay: 50, maxRetries: Infinity } });

    it('serves files of every size, and 64 concurrent streams, byte for byte', async () => {
      const leaks = leakCheck();
      const conn = connect();
      const paths = [...SIZES.map(size => size), ...Array.from({ length: 60 }, () => 16_385)];
      const replies = await Promise.all(paths.map(size => firstValueFrom(conn.get(`/files/${size}.bin`).pipe(body()))));
      expect(conn.info().protocol).toBe('http2');
      replies.forEach((reply, i) => {
        expect(reply.status).toBe(200);
        expect(Buffer.from(reply.body).equals(files.get(paths[i])!)).toBe(true);
      });
      await conn.shutdown();
      await leaks.check();
    });

    it('uploads a string, 1 MiB of bytes and a streamed body, echoed back whole', async () => {
      const conn = connect();
      const big = files.get(1024 * 1024)!;
      const streamed = new Observable<Uint8Array>(subscriber => {
        for (let at = 0; at < big.length; at += 65_536) subscriber.next(big.subarray(at, at + 65_536));
        subscriber.complete();
      });
      for (const [data, expected] of [['echo me', Buffer.from('echo me')], [big, big], [streamed, big]] as const) {
        const reply = await firstValueFrom(conn.post('/files/1.bin', data).pipe(body()));
        expect(reply.status).toBe(200);
        expect(Buffer.from(reply.body).equals(expected)).toBe(true);
      }
      await conn.shutdown();
    });

    it('kill -9 and restart: the connection goes down and comes back', async () => {
      const conn = connect();
      expect((await outcome(conn.get('/files/1.bin'))).status).toBe(200);
      const down = next(conn, 'disconnected');
      await servers[kind].kill9();
      expect(await down).toMatchObject({ error: { code: 'RXCONN_CONNECTION_DOWN' } });
      await servers[kind].start();
      await firstValueFrom(conn.state$.pipe(filter(s => s === 'connected')));
      expect((await outcome(conn.get('/files/16385.bin'))).body.length).toBe(16_385);
      conn.close();
      await conn.whenClosed();
    });
  });
});
