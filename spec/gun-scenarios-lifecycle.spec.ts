/**
 * More of Gun's scenarios (../shared/reference/gun-research.md §3.3), named after Gun's
 * (`// gun: SUITE case`): requests around a closing HTTP/1.1 response, a GET behind a streaming
 * POST, and a WebSocket channel closed just before the connection shuts down.
 */
import { Subject, filter, firstValueFrom, lastValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { open, text } from '../lib/index.js';
import { leakCheck, record } from './helpers/lifecycle.js';
import { startServer } from './helpers/servers.js';
import { startWsServer } from './websocket-helpers.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe('HTTP/1.1 around a closing response', () => {
  // gun: rfc7230_SUITE http1_response_connection_close_delayed_body
  it('requests made while a `connection: close` response body is still arriving go to the next connection, and all are answered', async () => {
    let release!: () => void;
    let halfSent!: () => void;
    const arriving = new Promise<void>(resolve => (halfSent = resolve));
    const server = await startServer('http1', (req, res) => {
      if (req.url === '/closing') {
        res.writeHead(200, { connection: 'close', 'content-length': '10' });
        release = () => res.end('world');
        res.write('hello', () => halfSent());
        return;
      }
      res.end(`${req.url} on connection ${server.connections}`);
    });
    closers.push(() => server.close());
    const conn = open(server.origin, { protocols: ['http1'] });
    closers.push(async () => {
      conn.close();
      await conn.whenClosed();
    });
    const log = record(conn);
    const closing = lastValueFrom(conn.get('/closing').pipe(text()));
    await arriving;
    const later = [lastValueFrom(conn.get('/a').pipe(text())), lastValueFrom(conn.get('/b').pipe(text()))];
    release();
    expect((await closing).body).toBe('helloworld');
    expect((await Promise.all(later)).map(r => r.body)).toEqual(['/a on connection 2', '/b on connection 2']);
    expect(log.states).not.toContain('disconnected');
  });

  // gun: rfc7230_SUITE (HTTP/1.1 request queue) — a GET issued while a POST body is still streaming
  it('a GET issued while a POST body is still streaming waits for the POST, then is answered on the same socket', async () => {
    const order: string[] = [];
    const server = await startServer('http1', (req, res) => {
      let body = '';
      req.on('data', chunk => (body += chunk));
      req.on('end', () => {
        order.push(`${req.method} ${req.url}`);
        res.end(`${req.method} ${req.url} ${body}`);
      });
    });
    closers.push(() => server.close());
    const conn = open(server.origin, { protocols: ['http1'] });
    closers.push(async () => {
      conn.close();
      await conn.whenClosed();
    });
    await firstValueFrom(conn.state$.pipe(filter(state => state === 'connected')));
    // The body is subscribed as the request goes out, at once on an idle connection.
    const upload = new Subject<string>();
    const post = lastValueFrom(conn.post('/upload', upload).pipe(text()));
    upload.next('part one, ');
    const get = lastValueFrom(conn.get('/status').pipe(text()));
    await new Promise(resolve => setImmediate(resolve));
    expect(order).toEqual([]); // nothing answered yet: the POST is still being sent
    upload.next('part two');
    upload.complete();
    expect((await post).body).toBe('POST /upload part one, part two');
    expect((await get).body).toBe('GET /status ');
    expect(order).toEqual(['POST /upload', 'GET /status']);
    expect(server.connections).toBe(1);
  });
});

describe('a WebSocket channel and shutdown', () => {
  // gun: shutdown_SUITE closing_gun_shutdown (a close already under way, then shutdown)
  it('channel close(4000) followed at once by conn.shutdown(): the server gets 4000 once, the subscriber completes, the connection closes', async () => {
    const leaks = leakCheck();
    const server = await startWsServer({}, () => undefined);
    closers.push(() => server.close());
    const conn = open(server.origin);
    const channel = conn.websocket('/chat');
    const opened = firstValueFrom(channel.events.pipe(filter(event => event.type === 'open')));
    const done = new Promise<string>(resolve => channel.subscribe({ complete: () => resolve('complete'), error: (e: { code?: string }) => resolve(`error ${e.code}`) }));
    const peer = await server.nextPeer();
    await opened;
    channel.close(4000, 'bye');
    await conn.shutdown();
    expect(await done).toBe('complete');
    expect(await peer.closed).toMatchObject({ code: 4000, reason: 'bye' });
    expect(conn.state).toBe('closed');
    await leaks.check();
  });
});
