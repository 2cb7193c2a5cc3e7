/**
 * Fault matrix: the server dies (every socket destroyed at once) mid-response, mid-upload, with
 * several streams in flight, and while idle, for every wire variant. Every request ends as a
 * response or a typed error, the connection reconnects when the server is back, and nothing of
 * it outlives `close()`.
 */
import { describe, expect, it } from 'vitest';
import { Observable, firstValueFrom } from 'rxjs';
import { open, text } from '../../lib/index.js';
import { leakCheck, next, record } from '../helpers/lifecycle.js';
import { outcome, watch } from './helpers/outcomes.js';
import { VARIANTS, clientOptions, protocolOf, startFaultServer } from './helpers/servers.js';
import type { Handler } from './helpers/servers.js';

/**
 * `/download` sends its head and 16 KiB, then never ends (`/download-ends` ends there);
 * `/upload` answers after the whole body; anything else echoes the path.
 */
const handler: Handler = (req, res) => {
  if (req.url?.startsWith('/download')) {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    if (req.url === '/download-ends') res.end(Buffer.alloc(16_384, 'd'));
    else res.write(Buffer.alloc(16_384, 'd'));
    return;
  }
  if (req.url === '/upload') {
    let size = 0;
    req.on('data', (chunk: Buffer) => (size += chunk.length));
    req.on('end', () => res.end(`got ${size}`));
    return;
  }
  res.end(`ok ${req.url}`);
};

const fast = { retry: { initialDelay: 5, maxDelay: 20, maxRetries: Infinity } } as const;

describe.each(VARIANTS)('server killed, over %s', variant => {
  const protocol = protocolOf(variant);
  // Found here: node ends a stream's readable side when the session is torn down, and
  // lib/http2-stream.ts #onEnd took that for END_STREAM (a truncated response *completed*; an
  // upload without a response errored RXCONN_STREAM_RESET). Fixed with the HTTP/2 session's
  // isGone() check in #onEnd.

  it('mid-response: the stream errors RXCONN_CONNECTION_DOWN, the connection reconnects once the server is back', async () => {
    const leaks = leakCheck();
    const server = await startFaultServer(variant, handler);
    const conn = open(server.origin, clientOptions(variant, fast));
    const log = record(conn);
    const download = watch(conn.get('/download'));
    await download.firstData;
    const down = next(conn, 'disconnected');
    await server.kill();
    const result = await download.done;
    expect(result.code).toBe('RXCONN_CONNECTION_DOWN');
    expect(result.status).toBe(200);
    expect(result.body.length).toBeGreaterThan(0);
    expect(await down).toMatchObject({ protocol, killedStreams: 1, error: { code: 'RXCONN_CONNECTION_DOWN' } });
    await next(conn, 'retrying');
    await server.restart();
    expect(await firstValueFrom(conn.get('/after').pipe(text()))).toMatchObject({ status: 200, body: 'ok /after' });
    conn.close();
    await log.done;
    expect(log.types().at(-1)).toBe('closed');
    await server.close();
    await leaks.check();
  });

  it('mid-upload: the stream errors RXCONN_CONNECTION_DOWN and the body Observable is unsubscribed', async () => {
    const leaks = leakCheck();
    let bodyStarted!: () => void;
    const started = new Promise<void>(resolve => (bodyStarted = resolve));
    const server = await startFaultServer(variant, (req, res) => {
      if (req.url === '/upload') req.once('data', () => bodyStarted());
      handler(req, res);
    });
    const conn = open(server.origin, clientOptions(variant, fast));
    let unsubscribed = false;
    const chunks = new Observable<Uint8Array>(subscriber => {
      subscriber.next(Buffer.alloc(8_192, 'u'));
      // Never completes: the upload is still going when the server dies.
      return () => (unsubscribed = true);
    });
    const upload = watch(conn.post('/upload', chunks));
    await started;
    await server.kill();
    const result = await upload.done;
    expect(result.code).toBe('RXCONN_CONNECTION_DOWN');
    expect(unsubscribed).toBe(true);
    await server.restart();
    expect(await firstValueFrom(conn.post('/upload', 'x'.repeat(1000)).pipe(text()))).toMatchObject({ status: 200, body: 'got 1000' });
    conn.close();
    await conn.whenClosed();
    await server.close();
    await leaks.check();
  });

  it('with several requests: each active stream errors, queued ones wait and go to the next connection', async () => {
    const leaks = leakCheck();
    const server = await startFaultServer(variant, handler);
    const conn = open(server.origin, clientOptions(variant, fast));
    const log = record(conn);
    const downloads = [watch(conn.get('/download')), ...Array.from({ length: 3 }, () => watch(conn.get(protocol === 'http2' ? '/download' : '/download-ends')))];
    // HTTP/1.1 runs one request at a time: one is active, three wait in the queue.
    const active = protocol === 'http2' ? downloads : downloads.slice(0, 1);
    await Promise.all(active.map(d => d.firstData));
    const down = next(conn, 'disconnected');
    await server.kill();
    for (const d of active) expect((await d.done).code).toBe('RXCONN_CONNECTION_DOWN');
    expect((await down).killedStreams).toBe(active.length);
    const queued = downloads.slice(active.length);
    expect(queued.every(d => !d.settled())).toBe(true);
    await server.restart();
    // The queued downloads go out on the new connection and complete.
    for (const d of queued) expect(await d.done).toMatchObject({ status: 200, body: Buffer.alloc(16_384, 'd') });
    expect(await firstValueFrom(conn.get('/after').pipe(text()))).toMatchObject({ body: 'ok /after' });
    conn.close();
    await log.done;
    await server.close();
    await leaks.check();
  });

  it('while idle: requests made during the outage wait and are served after the restart', async () => {
    const leaks = leakCheck();
    const server = await startFaultServer(variant, handler);
    const conn = open(server.origin, clientOptions(variant, fast));
    expect(await firstValueFrom(conn.get('/before').pipe(text()))).toMatchObject({ body: 'ok /before' });
    const down = next(conn, 'disconnected');
    await server.kill();
    expect(await down).toMatchObject({ killedStreams: 0 });
    await next(conn, 'retrying');
    const waiting = ['/a', '/b', '/c'].map(path => outcome(conn.get(path)));
    await server.restart();
    const results = await Promise.all(waiting);
    expect(results.map(r => [r.status, r.body.toString()])).toEqual([
      [200, 'ok /a'],
      [200, 'ok /b'],
      [200, 'ok /c'],
    ]);
    await conn.shutdown();
    await server.close();
    await leaks.check();
  });
});
