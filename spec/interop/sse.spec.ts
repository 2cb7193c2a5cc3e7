/**
 * Server-Sent Events against nginx (its `return` writes the event stream and echoes the
 * request's `Last-Event-ID`), over HTTP/1.1, HTTP/2 over TLS and h2c: the reconnecting
 * `eventSource()` resumes with the last id after the server's `retry:`, a BOM and CRLF from a
 * static file, a wrong content-type, and 204.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastValueFrom, take, toArray } from 'rxjs';
import { SseResponseError, open } from '../../lib/index.js';
import type { Protocol } from '../../lib/index.js';
import { leakCheck } from '../helpers/lifecycle.js';
import { ensureTools } from './helpers/install.js';
import { Nginx, SSE_RETRY } from './helpers/nginx.js';

const ca = readFileSync(new URL('../fixtures/ca.pem', import.meta.url));
const skip = (await ensureTools())['nginx-light'];

const VARIANTS: ReadonlyArray<{ name: string; port: 'h1' | 'tls' | 'h2c'; protocols: readonly Protocol[] }> = [
  { name: 'HTTP/1.1', port: 'h1', protocols: ['http1'] },
  { name: 'HTTP/2 over TLS (ALPN)', port: 'tls', protocols: ['http2'] },
  { name: 'h2c (prior knowledge)', port: 'h2c', protocols: ['http2'] },
];

describe.skipIf(skip !== undefined)(`SSE against nginx${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let nginx: Nginx;
  beforeAll(async () => {
    nginx = await Nginx.create();
    await nginx.start();
  });
  afterAll(async () => {
    await nginx?.dispose();
  });

  describe.each(VARIANTS)('$name', variant => {
    const connect = (): ReturnType<typeof open> => open(nginx.origin(variant.port), { protocols: variant.protocols, tls: { ca }, retry: { initialDelay: 5 } });

    it('eventSource(): each response ends, the next request sends its id as Last-Event-ID, after retry:', async () => {
      const leaks = leakCheck();
      const conn = connect();
      const source = conn.eventSource('/sse', { minReconnectDelay: 0 });
      const events = await lastValueFrom(source.pipe(take(3), toArray()));
      expect(events.map(e => e.retry)).toEqual([SSE_RETRY, SSE_RETRY, SSE_RETRY]);
      expect(events[0]!.data).toBe('last-event-id=');
      expect(events[1]!.data).toBe(`last-event-id=${events[0]!.id}`);
      expect(events[2]!.data).toBe(`last-event-id=${events[1]!.id}`);
      expect(events.every(e => /^n\d+\.\d{3}$/.test(e.id))).toBe(true);
      expect(source.lastEventId).toBe(events[2]!.id);
      await conn.shutdown();
      await leaks.check();
    });

    it('sse(): a static file with a BOM and CRLF line ends', async () => {
      const conn = connect();
      expect(await lastValueFrom(conn.sse('/sse-bom').pipe(toArray()))).toEqual([{ type: 'message', data: 'bom', id: 'b1', retry: undefined }]);
      await conn.shutdown();
    });

    it('a text/plain response errors with SseResponseError, and is not retried', async () => {
      const conn = connect();
      const error = await lastValueFrom(conn.eventSource('/sse-wrong-type', { reconnectDelay: 0, minReconnectDelay: 0 })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SseResponseError);
      expect(error).toMatchObject({ status: 200, text: 'data: x\n\n' });
      await conn.shutdown();
    });

    it('204 stops the eventSource for good', async () => {
      const conn = connect();
      expect(await lastValueFrom(conn.eventSource('/sse-stop').pipe(toArray()))).toEqual([]);
      await conn.shutdown();
    });
  });
});
