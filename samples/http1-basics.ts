/**
 * HTTP/1.1 basics: one keep-alive connection, lifecycle events, cold requests, the collecting
 * operators, a streamed upload, an error status, and a graceful shutdown.
 *
 * Run: `npx tsx samples/http1-basics.ts` (starts its own server on 127.0.0.1, exits 0).
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { firstValueFrom, interval, lastValueFrom, map, merge, take, toArray } from 'rxjs';
import { body, json, open, text } from '../lib/index.js';

// ---- a small JSON API ----
const items = new Map<number, { id: number; name: string }>([[1, { id: 1, name: 'first' }]]);
const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const reply = (status: number, value: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    if (req.method === 'GET' && req.url === '/items') return reply(200, [...items.values()]);
    if (req.method === 'POST' && req.url === '/items') {
      const item = { id: items.size + 1, ...(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { name: string }) };
      items.set(item.id, item);
      return reply(201, item);
    }
    if (req.method === 'PUT' && req.url === '/upload') return reply(200, { received: Buffer.concat(chunks).byteLength, chunked: req.headers['transfer-encoding'] === 'chunked' });
    if (req.url === '/socket') return reply(200, { remotePort: req.socket.remotePort });
    reply(404, { error: `no route for ${req.method} ${req.url}` });
  });
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// ---- one connection: open() dials at once; the events are hot ----
const conn = open(origin, { retry: { maxRetries: 3, initialDelay: 50 } });
conn.subscribe({
  next: event => console.log(`event: ${event.type}${event.type === 'connected' ? ` (${event.protocol})` : ''}`),
  error: error => console.error('the connection gave up:', error.code), // the event stream errors when it gives up
});

// Requests are cold: nothing is sent until subscribe; json() collects the whole response.
const list = await firstValueFrom(conn.get('/items').pipe(json<Array<{ id: number; name: string }>>()));
console.log('GET /items ->', list.status, list.body);

const created = await firstValueFrom(
  conn.post('/items', JSON.stringify({ name: 'second' }), { headers: { 'content-type': 'application/json' } }).pipe(json<{ id: number }>()),
);
console.log('POST /items ->', created.status, created.body);

// An HTTP error status is a response, not an error.
const missing = await firstValueFrom(conn.get('/nope').pipe(text()));
console.log('GET /nope ->', missing.status, missing.body);

// A streamed upload: the body is an Observable of chunks, sent as they come (chunked encoding).
const chunks$ = interval(5).pipe(take(4), map(i => new Uint8Array(1024).fill(i)));
const upload = await firstValueFrom(conn.put('/upload', chunks$).pipe(json<{ received: number; chunked: boolean }>()));
console.log('PUT /upload (streamed) ->', upload.body);

// Concurrent requests queue and share the one socket: HTTP/1.1 sends them one after another.
const ports = await lastValueFrom(merge(...[1, 2, 3].map(() => conn.get('/socket').pipe(json<{ remotePort: number }>()))).pipe(toArray()));
console.log('3 concurrent requests, client ports seen by the server:', [...new Set(ports.map(r => r.body.remotePort))]);

// Raw events, for when you want the head before the body: inform/response/data/trailers.
const raw = await lastValueFrom(conn.get('/items').pipe(toArray()));
console.log('raw events:', raw.map(e => e.type).join(', '));
const bytes = await firstValueFrom(conn.get('/items').pipe(body()));
console.log('body() ->', bytes.body.byteLength, 'bytes');

console.log('info:', conn.info());
await conn.shutdown(); // graceful: resolves when the socket is closed
console.log('state after shutdown:', conn.state);
server.close();
