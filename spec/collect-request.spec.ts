/**
 * The collecting operators piped straight onto a request (`conn.get(path).pipe(json())`, what
 * users write) send the request themselves, with the collector receiving its events: one
 * subscription per request instead of two. These cases pin that this path behaves as
 * subscribing would: the same values, the same errors, and cancellation on the wire, over
 * HTTP/2 and HTTP/1.1.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { lastValueFrom, map, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { body, json, open, text } from '../lib/index.js';
import type { Connection } from '../lib/index.js';
import { startH2Server } from './helpers/h2-server.js';
import type { H2Server } from './helpers/h2-server.js';

/** `/big` never ends: 16 KiB chunks until the client goes (HTTP/1.1 then reads 64 KiB of it at most, and closes the socket). */
const CHUNK = 'x'.repeat(16_384);

/** Writes a chunk every turn of the event loop until `closed()` (bounded: 64 MiB at most, should the client never go). */
function endless(write: (chunk: string) => void, closed: () => boolean): void {
  let left = 4096;
  const next = (): void => {
    if (closed() || left-- === 0) return;
    write(CHUNK);
    setImmediate(next);
  };
  next();
}

describe.each(['http2', 'http1'] as const)('collecting operators on a request over %s', protocol => {
  let h2: H2Server | undefined;
  const h1 = createServer();
  /** Responses to /big under way, and those the client cut off before their end. */
  const started: string[] = [];
  const aborted: string[] = [];
  let conn: Connection;

  const respond = (path: string, write: (status: number, type: string, chunk?: string) => void): void => {
    if (path === '/json') write(200, 'application/json', '{"a":[1,2,3]}');
    else if (path === '/blank') write(200, 'application/json', ' \r\n\t ');
    else if (path === '/bad') write(502, 'text/html', '<h1>bad gateway</h1>');
    else write(200, 'text/plain', 'héllo');
  };

  beforeAll(async () => {
    let origin: string;
    if (protocol === 'http2') {
      h2 = await startH2Server((stream, headers) => {
        const path = String(headers[':path']);
        if (path === '/big') {
          stream.respond({ ':status': 200 });
          endless(chunk => stream.write(chunk), () => stream.destroyed);
          started.push(path);
          stream.on('close', () => {
            if (stream.rstCode !== 0) aborted.push(path);
          });
          return;
        }
        if (path === '/early') stream.additionalHeaders({ ':status': 103, link: '</a.css>; rel=preload' });
        respond(path, (status, type, chunk) => {
          stream.respond({ ':status': status, 'content-type': type });
          stream.end(chunk);
        });
      });
      origin = h2.origin;
    } else {
      h1.on('request', (req: IncomingMessage, res: ServerResponse) => {
        const path = req.url ?? '/';
        if (path === '/big') {
          res.writeHead(200);
          endless(chunk => res.write(chunk), () => res.destroyed);
          started.push(path);
          res.on('close', () => {
            if (!res.writableFinished) aborted.push(path);
          });
          return;
        }
        if (path === '/early') res.writeEarlyHints({ link: '</a.css>; rel=preload' });
        respond(path, (status, type, chunk) => {
          res.writeHead(status, { 'content-type': type });
          res.end(chunk);
        });
      });
      h1.listen(0, '127.0.0.1');
      await once(h1, 'listening');
      origin = `http://127.0.0.1:${(h1.address() as AddressInfo).port}`;
    }
    conn = open(origin, { protocols: [protocol] });
  });

  afterAll(async () => {
    conn.close();
    await h2?.close();
    if (protocol === 'http1') await new Promise<void>(resolve => h1.close(() => resolve()));
  });

  it('sends the request once, without subscribing to it, and collects the response', async () => {
    const request = conn.get('/json');
    const subscribe = vi.spyOn(request, 'subscribe');
    const response = await lastValueFrom(request.pipe(json<{ a: number[] }>()));
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.trailers).toEqual({});
    expect(response.body).toEqual({ a: [1, 2, 3] });
    expect(subscribe).not.toHaveBeenCalled();
  });

  it('gives the same as subscribing through another operator first', async () => {
    const direct = await lastValueFrom(conn.get('/text').pipe(text()));
    const through = await lastValueFrom(conn.get('/text').pipe(map(event => event), text()));
    expect(direct).toEqual(through);
    expect(direct.body).toBe('héllo');
  });

  it('collects past an informational response (103), which the events carry and the collector does not listen for', async () => {
    const events = await lastValueFrom(conn.get('/early').pipe(toArray()));
    expect(events.map(event => event.type)).toEqual(['inform', 'response', 'data']);
    expect(events[0]).toMatchObject({ status: 103, headers: { link: '</a.css>; rel=preload' } });
    const response = await lastValueFrom(conn.get('/early').pipe(text()));
    expect(response).toMatchObject({ status: 200, body: 'héllo', trailers: {} });
    expect(response.headers['content-type']).toBe('text/plain');
  });

  it('is cold: each subscription sends the request again', async () => {
    const request = conn.get('/text').pipe(body());
    const [a, b] = await Promise.all([lastValueFrom(request), lastValueFrom(request)]);
    expect(new TextDecoder().decode(a.body)).toBe('héllo');
    expect(b.body).toEqual(a.body);
  });

  it('gives undefined for a body of white space only, and names the status of one that is not JSON', async () => {
    expect((await lastValueFrom(conn.get('/blank').pipe(json()))).body).toBeUndefined();
    await expect(lastValueFrom(conn.get('/bad').pipe(json()))).rejects.toMatchObject({
      code: 'RXCONN_INVALID_BODY',
      message: expect.stringContaining('status 502, content-type text/html'),
    });
  });

  it('past maxBytes errors and cancels the response on the wire', async () => {
    const before = aborted.length;
    await expect(lastValueFrom(conn.get('/big').pipe(text({ maxBytes: 1024 })))).rejects.toMatchObject({ code: 'RXCONN_INVALID_BODY' });
    await vi.waitFor(() => expect(aborted.length).toBe(before + 1));
    // The connection goes on serving.
    expect((await lastValueFrom(conn.get('/text').pipe(text()))).body).toBe('héllo');
  });

  it('unsubscribing cancels the response on the wire', async () => {
    const before = aborted.length;
    const under = started.length;
    const subscription = conn.get('/big').pipe(text()).subscribe();
    await vi.waitFor(() => expect(started.length).toBe(under + 1));
    subscription.unsubscribe();
    await vi.waitFor(() => expect(aborted.length).toBe(before + 1));
    expect((await lastValueFrom(conn.get('/text').pipe(text()))).body).toBe('héllo');
  });
});
