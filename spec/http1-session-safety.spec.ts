/**
 * HTTP/1.1 sessions against servers that close, rotate and misbehave: no response is ever
 * delivered to a request it does not answer (issue 11), planned closes are reported as such and
 * a request the server may not have processed goes back to the core (issue 10).
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { open, text } from '../lib/index.js';
import { KEEP_ALIVE_MARGIN, retireAfter } from '../lib/node/http1-keep-alive.js';
import { leakCheck, next, record } from './helpers/lifecycle.js';
import { rawServer, startServer } from './helpers/servers.js';
import { outcome } from './faults/helpers/outcomes.js';

const fast = { retry: { initialDelay: 5, maxDelay: 20 } } as const;

/** A raw peer that answers the n-th request it reads (over all connections) with `reply(n, connection)`. */
async function scripted(reply: (n: number, connection: number, socket: net.Socket) => void) {
  let requests = 0;
  let connections = 0;
  const peer = await rawServer(socket => {
    const connection = ++connections;
    let buffered = '';
    socket.on('data', chunk => {
      buffered += chunk.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end !== -1; end = buffered.indexOf('\r\n\r\n')) {
        buffered = buffered.slice(end + 4);
        reply(++requests, connection, socket);
      }
    });
  });
  return {
    ...peer,
    get connections() {
      return connections;
    },
    get requests() {
      return requests;
    },
  };
}

describe('HTTP/1.1: never desynchronised', () => {
  it('a response and a smuggled one in one write: the queued request gets its own response on a fresh connection', async () => {
    const peer = await scripted((n, _connection, socket) => {
      if (n === 1) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nAHTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\nSMUGGLED');
      else socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nreal-${n}`);
    });
    const conn = open(peer.origin, fast);
    const log = record(conn);
    const [first, second] = await Promise.all([firstValueFrom(conn.get('/1').pipe(text())), firstValueFrom(conn.get('/2').pipe(text()))]);
    expect(first.body).toBe('A');
    expect(second.body).toBe('real-2');
    expect(peer.connections).toBe(2);
    expect(log.events.find(e => e.type === 'disconnected')).toMatchObject({
      killedStreams: 0,
      error: { code: 'RXCONN_PROTOCOL', message: 'the server sent data after the end of the response' },
    });
    await conn.shutdown();
    await peer.close();
  });

  it('bytes that arrive while no request waits close the socket; the next request goes to a fresh connection', async () => {
    const peer = await scripted((n, _connection, socket) => {
      socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nreal-${n}`);
      if (n === 1) setTimeout(() => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\nSMUGGLED'), 10);
    });
    const conn = open(peer.origin, fast);
    const down = next(conn, 'disconnected');
    expect((await firstValueFrom(conn.get('/1').pipe(text()))).body).toBe('real-1');
    expect(await down).toMatchObject({ error: { code: 'RXCONN_PROTOCOL', message: 'the server sent data while no response was expected' } });
    expect((await firstValueFrom(conn.get('/2').pipe(text()))).body).toBe('real-2');
    expect(peer.connections).toBe(2);
    await conn.shutdown();
    await peer.close();
  });

  it('CRLFs after a response are skipped, as llhttp skips them: the socket is kept', async () => {
    const peer = await scripted((n, _connection, socket) => socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nreal-${n}\r\n`));
    const conn = open(peer.origin, fast);
    for (let i = 1; i <= 3; i++) expect((await firstValueFrom(conn.get('/').pipe(text()))).body).toBe(`real-${i}`);
    expect(peer.connections).toBe(1);
    await conn.shutdown();
    await peer.close();
  });

  it('a header value with a control character errors RXCONN_PROTOCOL; nothing of the response reaches the subscriber', async () => {
    const peer = await scripted((_n, _connection, socket) => socket.write('HTTP/1.1 200 OK\r\nx-a: 1\x00\r\ncontent-length: 2\r\n\r\nok'));
    const conn = open(peer.origin, fast);
    const result = await outcome(conn.get('/'));
    expect(result).toMatchObject({ code: 'RXCONN_PROTOCOL', events: [] });
    expect((result.error as Error).message).toBe('forbidden character 0x00 in the response head: "x-a: 1\\u0000"');
    conn.close();
    await conn.whenClosed();
    await peer.close();
  });
});

describe('HTTP/1.1: planned closes and keep-alive hints', () => {
  it.each<[string, number | undefined]>([
    ['timeout=5', 5000 - KEEP_ALIVE_MARGIN],
    ['timeout=5, max=100', 5000 - KEEP_ALIVE_MARGIN],
    ['max=100; Timeout = 75', 75000 - KEEP_ALIVE_MARGIN],
    ['timeout=1', 500],
    ['timeout=0', 0],
    ['max=3', undefined],
    ['timeout=99999999', undefined],
  ])('retireAfter(keep-alive: %s) = %s ms', (value, delay) => {
    expect(retireAfter(value)).toBe(delay);
  });

  it('retires an idle socket before the Keep-Alive timeout hint, as a planned close', async () => {
    const leaks = leakCheck();
    let answeredAt = 0;
    let closedAfter = -1;
    const peer = await scripted((n, _connection, socket) => {
      socket.write(`HTTP/1.1 200 OK\r\nkeep-alive: timeout=1\r\ncontent-length: 6\r\n\r\nreal-${n}`);
      answeredAt = performance.now();
      if (n === 1) socket.once('end', () => (closedAfter = performance.now() - answeredAt));
    });
    const conn = open(peer.origin, fast);
    const closing = next(conn, 'closing');
    expect((await firstValueFrom(conn.get('/').pipe(text()))).body).toBe('real-1');
    expect(await closing).toMatchObject({ initiator: 'server', activeStreams: 0 });
    await next(conn, 'connected');
    // The client closed first (the peer never closes), and not before half of the hint.
    expect(closedAfter).toBeGreaterThanOrEqual(500 - 1);
    expect((await firstValueFrom(conn.get('/').pipe(text()))).body).toBe('real-2');
    expect(peer.connections).toBe(2);
    await conn.shutdown();
    await peer.close();
    await leaks.check();
  });

  it('an idle close by the server is a planned close (closing, initiator server), the next request goes out on a new socket', async () => {
    const peer = await scripted((n, _connection, socket) => {
      socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nreal-${n}`);
      setTimeout(() => socket.end(), 10);
    });
    const conn = open(peer.origin, fast);
    const log = record(conn);
    expect((await firstValueFrom(conn.get('/').pipe(text()))).body).toBe('real-1');
    await next(conn, 'connected');
    expect(log.events.find(e => e.type === 'closing')).toMatchObject({ initiator: 'server', activeStreams: 0 });
    expect((await firstValueFrom(conn.get('/').pipe(text()))).body).toBe('real-2');
    await conn.shutdown();
    await peer.close();
  });
});

describe('HTTP/1.1: a request the server may not have processed', () => {
  /** A peer that answers the first request and closes the socket as soon as it reads the second one on it. */
  const closesReused = () =>
    scripted((n, connection, socket) => {
      if (connection === 1 && n === 2) socket.destroy();
      else socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${String(n).length + 5}\r\n\r\nreal-${n}`);
    });

  it('a POST written onto a reused socket closed before any response byte errors RXCONN_NO_RESPONSE', async () => {
    const peer = await closesReused();
    const conn = open(peer.origin, fast);
    expect((await firstValueFrom(conn.get('/').pipe(text()))).body).toBe('real-1');
    const result = await outcome(conn.post('/p', 'body'));
    expect(result).toMatchObject({ code: 'RXCONN_NO_RESPONSE' });
    expect((result.error as Error).message).toMatch(/^the server closed a reused keep-alive connection before responding \(.*\): the request may not have been processed$/);
    conn.close();
    await conn.whenClosed();
    await peer.close();
  });

  it('a request on a fresh socket closed before any response byte is an ordinary loss (RXCONN_CONNECTION_DOWN)', async () => {
    const peer = await scripted((_n, _connection, socket) => socket.destroy());
    const conn = open(peer.origin, { retry: false });
    const result = await outcome(conn.get('/'));
    expect(result.code).toBe('RXCONN_CONNECTION_DOWN');
    conn.close();
    await conn.whenClosed();
    await peer.close();
  });
});

describe('HTTP/1.1: idle closes swept around the server\'s keep-alive timeout', () => {
  /** Requests one after another, each after `spacing` ms idle; their bodies or error codes. */
  async function sweep(origin: string, spacings: readonly number[]): Promise<string[]> {
    const conn = open(origin, fast);
    const codes: string[] = [];
    for (const spacing of spacings) {
      await new Promise(resolve => setTimeout(resolve, spacing));
      const result = await outcome(conn.get(`/${spacing}`));
      codes.push(result.code ?? result.body.toString());
    }
    await conn.shutdown();
    return codes;
  }
  const answered = (codes: readonly string[]): string[] =>
    // A GET that met the server's close goes back to the core, which sends it again on a fresh
    // connection; a core that does not re-send yet errors it RXCONN_NO_RESPONSE, never RXCONN_CONNECTION_DOWN.
    codes.filter(code => !code.startsWith('/') && code !== 'RXCONN_NO_RESPONSE');

  it('node:http (keepAliveTimeout 1 ms, which node enforces at 1001 ms) without its Keep-Alive hint: no request lost', async () => {
    const server = await startServer(
      'http1',
      (req, res) => {
        // A connection field of our own stops node from sending its Keep-Alive hint.
        res.setHeader('connection', 'keep-alive');
        res.end(`${req.url}`);
      },
      { keepAliveTimeout: 1 },
    );
    const spacings = [993, 995, 997, 999, 1001, 1003, 1005, 1007, 1009];
    const codes = await sweep(server.origin, spacings);
    expect(codes).toHaveLength(spacings.length);
    expect(answered(codes)).toEqual([]);
    await server.close();
  }, 30_000);

  it('node:http with its Keep-Alive hint (timeout=0): each socket is retired after its response, before the server closes it', async () => {
    const server = await startServer('http1', (req, res) => res.end(`${req.url}`), { keepAliveTimeout: 1 });
    const codes = await sweep(server.origin, [0, 5, 10, 20]);
    expect(codes).toEqual(['/0', '/5', '/10', '/20']);
    expect(server.connections).toBe(4);
    await server.close();
  });

  it('a raw server closing idle sockets after 20 ms, requests spaced 10 to 30 ms: no request lost', async () => {
    const peer = await scripted((n, _connection, socket) => {
      socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${String(n).length + 1}\r\n\r\n/${n}`);
      clearTimeout((socket as net.Socket & { idle?: NodeJS.Timeout }).idle);
      (socket as net.Socket & { idle?: NodeJS.Timeout }).idle = setTimeout(() => socket.end(), 20);
    });
    const codes = await sweep(
      peer.origin,
      Array.from({ length: 21 }, (_, k) => 10 + k),
    );
    expect(answered(codes)).toEqual([]);
    await peer.close();
  });
});
