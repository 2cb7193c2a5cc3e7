/**
 * Interop against nginx (a server nobody here wrote), started by the suite on 127.0.0.1:
 * HTTP/1.1, HTTP/1.1 and HTTP/2 over TLS chosen by ALPN, and h2c prior knowledge. Requests of
 * every size, 1 MiB downloads, uploads (WebDAV PUT, read back), then the server's own lifecycle:
 * `nginx -s quit` with a slow download in flight, `nginx -s reload`, and kill -9 mid-stream.
 */
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Observable, filter, firstValueFrom } from 'rxjs';
import { body, open } from '../../lib/index.js';
import type { Connection, ConnectionOptions, Protocol } from '../../lib/index.js';
import { leakCheck, next, nthConnected, record } from '../helpers/lifecycle.js';
import { outcome, watch } from '../faults/helpers/outcomes.js';
import { ensureTools } from './helpers/install.js';
import { Nginx, SIZES } from './helpers/nginx.js';

const ca = readFileSync(new URL('../fixtures/ca.pem', import.meta.url));
const skip = (await ensureTools())['nginx-light'];

interface Variant {
  readonly name: string;
  readonly port: 'h1' | 'tls' | 'h2c';
  readonly protocols: readonly Protocol[];
  readonly speaks: Protocol;
}

const VARIANTS: readonly Variant[] = [
  { name: 'HTTP/1.1', port: 'h1', protocols: ['http1'], speaks: 'http1' },
  { name: 'HTTP/1.1 over TLS (ALPN)', port: 'tls', protocols: ['http1'], speaks: 'http1' },
  { name: 'HTTP/2 over TLS (ALPN)', port: 'tls', protocols: ['http2', 'http1'], speaks: 'http2' },
  { name: 'h2c (prior knowledge)', port: 'h2c', protocols: ['http2'], speaks: 'http2' },
];

const MiB = 1024 * 1024;

/** Chunks of `data`, emitted one per macrotask: a streamed upload. */
function streamed(data: Buffer, size = 16_384): Observable<Uint8Array> {
  return new Observable<Uint8Array>(subscriber => {
    let at = 0;
    const tick = setInterval(() => {
      if (at >= data.length) {
        clearInterval(tick);
        subscriber.complete();
        return;
      }
      subscriber.next(data.subarray(at, at + size));
      at += size;
    }, 0);
    return () => clearInterval(tick);
  });
}

describe.skipIf(skip)('nginx', () => {
  let nginx: Nginx;
  beforeAll(async () => {
    nginx = await Nginx.create();
    await nginx.start();
  });
  afterAll(async () => {
    await nginx?.dispose();
  });

  describe.each(VARIANTS)('over $name', variant => {
    const options = (extra: ConnectionOptions = {}): ConnectionOptions => ({
      protocols: variant.protocols,
      tls: { ca },
      retry: { initialDelay: 5, maxDelay: 50, maxRetries: Infinity },
      ...extra,
    });
    // Every connection a test opens is closed after it, even when an assertion failed first
    // (a leftover connection would keep nginx's graceful quit waiting).
    const opened: Connection[] = [];
    afterEach(async () => {
      for (const conn of opened.splice(0)) conn.close();
    });
    const connect = (): Connection => {
      const conn = open(nginx.origin(variant.port), options());
      opened.push(conn);
      return conn;
    };

    it('serves files of every size, concurrently, byte for byte', async () => {
      const leaks = leakCheck();
      const conn = connect();
      const replies = await Promise.all(SIZES.map(size => firstValueFrom(conn.get(`/files/${size}.bin`).pipe(body()))));
      expect(conn.info().protocol).toBe(variant.speaks);
      replies.forEach((reply, i) => {
        expect(reply.status).toBe(200);
        expect(reply.headers['content-length']).toBe(String(SIZES[i]));
        expect(Buffer.from(reply.body).equals(nginx.files.get(SIZES[i])!)).toBe(true);
      });
      await conn.shutdown();
      await leaks.check();
    });

    it('HEAD, 404 and an unfollowed 301 are plain responses', async () => {
      const conn = connect();
      const head = await outcome(conn.head(`/files/${MiB}.bin`));
      expect(head).toMatchObject({ status: 200, body: Buffer.alloc(0) });
      expect((await outcome(conn.get('/files/missing'))).status).toBe(404);
      const redirect = await firstValueFrom(conn.get('/redirect').pipe(body()));
      expect(redirect.status).toBe(301);
      expect(String(redirect.headers.location)).toMatch(/\/files\/1\.bin$/);
      await conn.shutdown();
    });

    it('uploads a string, bytes and a streamed 1 MiB body (WebDAV PUT) and reads each back', async () => {
      const leaks = leakCheck();
      const conn = connect();
      const big = nginx.files.get(MiB)!;
      const name = variant.name.replace(/\W+/g, '-');
      const uploads: Array<[string, string | Uint8Array | Observable<Uint8Array>, Buffer]> = [
        [`/dav/${name}/text.txt`, 'hello nginx', Buffer.from('hello nginx')],
        [`/dav/${name}/bytes.bin`, big, big],
        [`/dav/${name}/streamed.bin`, streamed(big), big],
      ];
      for (const [path, data, expected] of uploads) {
        const put = await outcome(conn.put(path, data));
        expect(put.error).toBeUndefined();
        expect([201, 204]).toContain(put.status);
        const back = await firstValueFrom(conn.get(path).pipe(body()));
        expect(Buffer.from(back.body).equals(expected)).toBe(true);
      }
      await conn.shutdown();
      await leaks.check();
    });

    it('cancelling a download mid-body: HTTP/1.1 closes the socket at once (more than 64 KiB left), HTTP/2 resets only the stream; the next request is served', async () => {
      const leaks = leakCheck();
      const conn = connect();
      const log = record(conn);
      expect((await outcome(conn.get('/files/1.bin'))).status).toBe(200);
      const download = watch(conn.get(`/slow/${MiB}.bin`));
      await download.firstData;
      const lost = variant.speaks === 'http1' ? next(conn, 'disconnected') : undefined;
      download.unsubscribe();
      if (lost) {
        // The 1 MiB comes at 1 MiB/s: reading up to the drain limit first would take 64 ms; it is not read at all.
        expect(await lost).toMatchObject({ killedStreams: 0, error: { code: 'RXCONN_CONNECTION_DOWN', message: expect.stringMatching(/^a cancelled response has \d+ bytes left, more than the 65536 read to keep the socket: the socket was closed$/) } });
      }
      expect((await outcome(conn.get('/files/16385.bin'))).status).toBe(200);
      if (!lost) expect(log.types()).not.toContain('disconnected');
      await conn.shutdown();
      await leaks.check();
    });

    it('nginx -s quit with a slow download in flight: the download completes, then the connection reconnects to the next nginx', async () => {
      const conn = connect();
      const log = record(conn);
      const download = watch(conn.get(`/slow/${MiB}.bin`));
      await download.firstData;
      const lost = next(conn, 'disconnected');
      await nginx.quit();
      const result = await download.done;
      expect(result.error).toBeUndefined();
      expect(result.body.equals(nginx.files.get(MiB)!)).toBe(true);
      expect(await lost).toMatchObject({ killedStreams: 0 });
      await nginx.exited();
      await nginx.start();
      expect((await outcome(conn.get('/files/1000.bin'))).status).toBe(200);
      conn.close();
      await log.done;
      if (variant.speaks === 'http2') {
        // nginx ends an HTTP/2 connection gracefully with GOAWAY(NO_ERROR).
        expect(log.events.find(e => e.type === 'closing')).toMatchObject({ initiator: 'server', goaway: { errorCode: 0 } });
      }
    });

    it('nginx -s reload: a download in flight completes and requests keep working', async () => {
      const conn = connect();
      expect((await outcome(conn.get('/files/1.bin'))).status).toBe(200);
      const download = watch(conn.get(`/slow/${MiB}.bin`));
      await download.firstData;
      // The old worker finishes the download, then closes the connection (HTTP/2: GOAWAY first);
      // we reconnect to the new one.
      const log = record(conn);
      const reconnected = nthConnected(conn, 1);
      await nginx.reload();
      const result = await download.done;
      expect(result.error).toBeUndefined();
      expect(result.body.length).toBe(MiB);
      await reconnected;
      // A planned close of a connection that served: a rotation, never an outage.
      expect(log.types()).toEqual(['closing', 'connecting', 'connected']);
      expect(log.states).not.toContain('disconnected');
      expect(log.events[0]).toMatchObject({ initiator: 'server', rotation: true });
      await firstValueFrom(conn.state$.pipe(filter(s => s === 'connected')));
      const after = await Promise.all(Array.from({ length: 5 }, () => outcome(conn.get('/files/16385.bin'))));
      expect(after.map(r => r.code ?? r.status)).toEqual([200, 200, 200, 200, 200]);
      conn.close();
      await conn.whenClosed();
    });

    it('kill -9 mid-stream: every active request errors RXCONN_CONNECTION_DOWN, queued ones wait; it reconnects after the restart', async () => {
      const conn = connect();
      const log = record(conn);
      const downloads = Array.from({ length: 3 }, () => watch(conn.get(`/slow/${MiB}.bin`)));
      const active = variant.speaks === 'http2' ? downloads : downloads.slice(0, 1);
      await Promise.all(active.map(d => d.firstData));
      await nginx.kill9();
      for (const d of active) expect((await d.done).code).toBe('RXCONN_CONNECTION_DOWN');
      expect(log.events.find(e => e.type === 'disconnected')).toMatchObject({ killedStreams: active.length });
      await nginx.start();
      await firstValueFrom(conn.state$.pipe(filter(s => s === 'connected')));
      for (const d of downloads.slice(active.length)) {
        const result = await d.done;
        expect(result.error).toBeUndefined();
        expect(result.body.length).toBe(MiB);
      }
      expect((await outcome(conn.get('/files/1.bin'))).status).toBe(200);
      conn.close();
      await log.done;
    });
  });
});
