/**
 * Server-Sent Events end to end: the cold `conn.sse()` and the reconnecting `conn.eventSource()`
 * against node:http and node:http2 servers on 127.0.0.1 — request headers, statuses and types,
 * reconnect with `Last-Event-ID` after the end of a response and after a lost connection, the
 * server's `retry:` within bounds, 204, sharing, and graceful shutdown.
 */
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { SseResponseError, open } from '../lib/index.js';
import type { Connection, Protocol, SseEvent } from '../lib/index.js';
import { connected, leakCheck, record } from './helpers/lifecycle.js';
import { startServer } from './helpers/servers.js';
import type { Handler, TestServer } from './helpers/servers.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const fastRetry = { initialDelay: 5, maxDelay: 20, maxRetries: 50 };
const SSE = { 'content-type': 'text/event-stream' };

/** What the server saw of each request. */
interface Seen {
  method: string;
  url: string;
  accept: string | undefined;
  lastEventId: string | undefined;
  body: string;
}

async function serve(protocol: Protocol, handler: (req: Parameters<Handler>[0], res: Parameters<Handler>[1], n: number) => void): Promise<{ server: TestServer; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = await startServer(protocol, (req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', accept: req.headers.accept, lastEventId: req.headers['last-event-id'] as string | undefined, body });
      handler(req, res, seen.length);
    });
  });
  cleanups.push(() => server.close());
  return { server, seen };
}

function connect(server: TestServer, protocol: Protocol): Connection {
  const conn = open(server.origin, { protocols: [protocol], retry: fastRetry });
  cleanups.unshift(async () => {
    conn.close();
    await conn.whenClosed();
  });
  return conn;
}

describe.each<Protocol>(['http1', 'http2'])('SSE over %s', protocol => {
  describe('conn.sse() (cold)', () => {
    it('one request with accept and Last-Event-ID; events as the server wrote them, split anywhere; completes at the end', async () => {
      const leaks = leakCheck();
      const { server, seen } = await serve(protocol, (_req, res) => {
        res.writeHead(200, { ...SSE, 'cache-control': 'no-store' });
        // A CRLF split across writes, a UTF-8 character split across writes, an unfinished last event.
        res.write(': hi\r\nretry: 40\r\nid: 1\r\ndata: a\r');
        res.write('\n\r\nevent: add\ndata: \xc3'.slice(0, -1) + 'é');
        res.write(Buffer.from([0xe2, 0x82]));
        res.write(Buffer.from([0xac, 0x0a, 0x0a]));
        res.end('data: lost');
      });
      const conn = connect(server, protocol);
      const events = await lastValueFrom(conn.sse('/feed', { lastEventId: '41' }).pipe(toArray()));
      expect(events).toEqual<SseEvent[]>([
        { type: 'message', data: 'a', id: '1', retry: 40 },
        { type: 'add', data: 'é€', id: '1', retry: 40 },
      ]);
      expect(seen).toEqual([{ method: 'GET', url: '/feed', accept: 'text/event-stream', lastEventId: '41', body: '' }]);
      await conn.shutdown();
      await leaks.check();
    });

    it('any method and body; the caller’s accept is kept; content-type parameters are allowed', async () => {
      const { server, seen } = await serve(protocol, (_req, res) => {
        res.writeHead(200, { 'content-type': 'Text/Event-Stream; charset=utf-8' });
        res.end('data: ok\n\n');
      });
      const conn = connect(server, protocol);
      const events = await lastValueFrom(conn.sse('/q', { method: 'POST', body: '{"q":1}', headers: { Accept: 'text/event-stream, */*' } }).pipe(toArray()));
      expect(events.map(e => e.data)).toEqual(['ok']);
      expect(seen).toEqual([{ method: 'POST', url: '/q', accept: 'text/event-stream, */*', lastEventId: undefined, body: '{"q":1}' }]);
    });

    it('204 completes with no event', async () => {
      const { server } = await serve(protocol, (_req, res) => {
        res.writeHead(204);
        res.end();
      });
      const conn = connect(server, protocol);
      expect(await lastValueFrom(conn.sse('/').pipe(toArray()))).toEqual([]);
    });

    it.each([
      ['a status other than 200', 503, { 'content-type': 'text/plain' }, 'status 503'],
      ['a 200 that is not an event stream', 200, { 'content-type': 'text/plain' }, 'content-type "text/plain", not text/event-stream'],
      ['a 200 without content-type', 200, {}, 'no content-type, not text/event-stream'],
    ])('%s errors with SseResponseError carrying status, headers and body', async (_name, status, headers, reason) => {
      const { server } = await serve(protocol, (_req, res) => {
        res.writeHead(status, headers);
        res.end('data: nope\n\n');
      });
      const conn = connect(server, protocol);
      const error = await lastValueFrom(conn.sse('/')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SseResponseError);
      expect(error).toMatchObject({ code: 'RXCONN_PROTOCOL', status, text: 'data: nope\n\n', message: `the server did not answer with an event stream: ${reason}` });
    });

    it('a bad option errors at subscribe, before anything is sent', async () => {
      const { server, seen } = await serve(protocol, (_req, res) => res.end());
      const conn = connect(server, protocol);
      await expect(firstValueFrom(conn.sse('/', { maxEventSize: 0 }))).rejects.toThrow('sse options.maxEventSize must be an integer ≥ 1 (got 0)');
      await expect(firstValueFrom(conn.sse('/', { reconnectDelay: 5 } as never))).rejects.toThrow('sse options.reconnectDelay is an option of eventSource(), not of sse()');
      await expect(firstValueFrom(conn.sse('no-slash'))).rejects.toMatchObject({ code: 'RXCONN_INVALID_ARGUMENT' });
      expect(seen).toEqual([]);
    });
  });

  describe('conn.eventSource() (reconnecting)', () => {
    it('re-requests after each response with Last-Event-ID, after the server’s retry:', async () => {
      const leaks = leakCheck();
      const { server, seen } = await serve(protocol, (req, res, n) => {
        res.writeHead(200, SSE);
        res.end(`retry: 5\nid: n${n}\ndata: last=${String(req.headers['last-event-id'] ?? '')}\n\n`);
      });
      const conn = connect(server, protocol);
      const source = conn.eventSource('/sse', { reconnectDelay: 60_000, minReconnectDelay: 0 });
      const events = await lastValueFrom(source.pipe(take(3), toArray()));
      expect(events).toEqual<SseEvent[]>([
        { type: 'message', data: 'last=', id: 'n1', retry: 5 },
        { type: 'message', data: 'last=n1', id: 'n2', retry: 5 },
        { type: 'message', data: 'last=n2', id: 'n3', retry: 5 },
      ]);
      expect(seen.map(s => s.lastEventId)).toEqual([undefined, 'n1', 'n2']);
      expect(seen.every(s => s.accept === 'text/event-stream')).toBe(true);
      expect(source.lastEventId).toBe('n3');
      expect(source.reconnectDelay).toBe(5);
      await conn.shutdown();
      await leaks.check();
    });

    it('resumes from an id sent in a block without data (no event, but the resume point moves)', async () => {
      const leaks = leakCheck();
      const { server, seen } = await serve(protocol, (req, res, n) => {
        res.writeHead(200, SSE);
        res.end(n === 1 ? 'retry: 0\nid: 1\ndata: first\n\nid: 2\n\n' : `data: last=${String(req.headers['last-event-id'] ?? '')}\n\n`);
      });
      const conn = connect(server, protocol);
      const source = conn.eventSource('/sse', { minReconnectDelay: 0 });
      const events = await lastValueFrom(source.pipe(take(2), toArray()));
      expect(events.map(e => [e.data, e.id])).toEqual([['first', '1'], ['last=2', '2']]);
      expect(seen.map(s => s.lastEventId)).toEqual([undefined, '2']);
      await conn.shutdown();
      await leaks.check();
    });

    it('sends a non-ASCII last event ID as UTF-8 (as WHATWG asks), not as latin1 or not at all', async () => {
      const { server, seen } = await serve(protocol, (_req, res, n) => {
        res.writeHead(200, SSE);
        res.end(n === 1 ? 'retry: 0\nid: é€😀\ndata: a\n\n' : 'data: b\n\n');
      });
      const conn = connect(server, protocol);
      const source = conn.eventSource('/sse', { minReconnectDelay: 0 });
      await lastValueFrom(source.pipe(take(2)));
      expect(source.lastEventId).toBe('é€😀');
      // node gives the header's bytes as latin1 characters.
      expect(seen.map(s => s.lastEventId && Buffer.from(s.lastEventId, 'latin1').toString('utf8'))).toEqual([undefined, 'é€😀']);
      await conn.shutdown();
    });

    it('after a lost connection: requests again on the next connection with Last-Event-ID', async () => {
      let killed = false;
      const { server, seen } = await serve(protocol, (_req, res, n) => {
        res.writeHead(200, SSE);
        res.write(`id: ${n}\ndata: x${n}\n\n`);
        if (n === 1) {
          // Stay open: the server is killed after the client got the event.
        } else res.end();
      });
      const conn = connect(server, protocol);
      const log = record(conn);
      const source = conn.eventSource('/sse', { reconnectDelay: 1, minReconnectDelay: 0 });
      const got: SseEvent[] = [];
      const done = new Promise<void>((resolve, reject) =>
        source.pipe(take(2)).subscribe({
          next: event => {
            got.push(event);
            if (!killed) {
              killed = true;
              void server.kill().then(() => server.restart());
            }
          },
          error: reject,
          complete: resolve,
        }),
      );
      await done;
      expect(got.map(e => e.data)).toEqual(['x1', 'x2']);
      expect(seen.map(s => s.lastEventId)).toEqual([undefined, '1']);
      expect(log.types()).toContain('disconnected');
      expect(server.connections).toBe(2);
    });

    it('shares one request among subscribers; the last unsubscribe cancels it; a new subscriber resumes from the last id', async () => {
      const { server, seen } = await serve(protocol, (_req, res, n) => {
        res.writeHead(200, SSE);
        res.write(`id: ${n}\ndata: hello\n\n`); // and never ends
      });
      const conn = connect(server, protocol);
      await connected(conn);
      const source = conn.eventSource('/sse');
      const a: SseEvent[] = [];
      const b: SseEvent[] = [];
      const first = source.subscribe(e => a.push(e));
      const second = source.subscribe(e => b.push(e));
      await firstValueFrom(source);
      expect(a).toHaveLength(1);
      expect(b).toHaveLength(1);
      expect(seen).toHaveLength(1);
      first.unsubscribe();
      second.unsubscribe();
      await new Promise<void>(resolve => {
        const check = (): void => (conn.info().activeStreams === 0 ? resolve() : void setTimeout(check, 2));
        check();
      });
      expect(await firstValueFrom(source)).toMatchObject({ id: '2' });
      expect(seen.map(s => s.lastEventId)).toEqual([undefined, '1']);
    });

    it('204 stops for good: completes, and a later subscriber completes at once without a request', async () => {
      const { server, seen } = await serve(protocol, (_req, res, n) => {
        if (n === 3) {
          res.writeHead(204);
          res.end();
          return;
        }
        res.writeHead(200, SSE);
        res.end(`data: ${n}\n\n`);
      });
      const conn = connect(server, protocol);
      const source = conn.eventSource('/sse', { reconnectDelay: 0, minReconnectDelay: 0 });
      expect((await lastValueFrom(source.pipe(toArray()))).map(e => e.data)).toEqual(['1', '2']);
      expect(await lastValueFrom(source.pipe(toArray()))).toEqual([]);
      expect(seen).toHaveLength(3);
    });

    it('a refused response errors without a reconnect', async () => {
      const { server, seen } = await serve(protocol, (_req, res) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":"down"}');
      });
      const conn = connect(server, protocol);
      const error = await lastValueFrom(conn.eventSource('/sse', { reconnectDelay: 0, minReconnectDelay: 0 })).catch((e: unknown) => e);
      expect(error).toMatchObject({ status: 500, text: '{"error":"down"}' });
      expect(seen).toHaveLength(1);
    });

    it('the server’s retry: is bounded by min/maxReconnectDelay', async () => {
      const { server } = await serve(protocol, (req, res) => {
        res.writeHead(200, SSE);
        res.end(`retry: ${req.url === '/big' ? 999_999_999 : 0}\ndata: x\n\n`);
      });
      const conn = connect(server, protocol);
      const big = conn.eventSource('/big', { minReconnectDelay: 0, maxReconnectDelay: 50 });
      await firstValueFrom(big);
      expect(big.reconnectDelay).toBe(50);
      const small = conn.eventSource('/small', { minReconnectDelay: 7 });
      expect(small.reconnectDelay).toBe(3_000);
      await firstValueFrom(small);
      expect(small.reconnectDelay).toBe(7);
    });

    it.each(['shutdown', 'close'] as const)('conn.%s() completes it', async end => {
      const { server } = await serve(protocol, (_req, res) => {
        res.writeHead(200, SSE);
        res.write('data: open\n\n'); // never ends
      });
      const conn = connect(server, protocol);
      const source = conn.eventSource('/sse');
      const events = lastValueFrom(source.pipe(toArray()));
      await firstValueFrom(source);
      if (end === 'shutdown') await conn.shutdown({ timeout: 10_000 });
      else conn.close();
      expect((await events).map(e => e.data)).toEqual(['open']);
    });

    it('a bad option throws RXCONN_INVALID_ARGUMENT at once', async () => {
      const { server } = await serve(protocol, (_req, res) => res.end());
      const conn = connect(server, protocol);
      expect(() => conn.eventSource('/', { minReconnectDelay: 10, maxReconnectDelay: 5 })).toThrow(
        'eventSource options.minReconnectDelay (10) must not exceed maxReconnectDelay (5)',
      );
      expect(() => conn.eventSource('/', { lastEventId: 'a\nb' })).toThrow('sse options.lastEventId must be a string without CR, LF, NUL or control characters');
    });
  });
});
