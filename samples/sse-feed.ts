/**
 * Server-Sent Events: a price feed that ends its response now and then (as proxies and load
 * balancers do), and crashes once. The reconnecting `eventSource()` asks again after the server's
 * `retry:`, sending `Last-Event-ID`, so the server resumes where the client left off; a 204 ends
 * the feed for good. `sse()` is the cold one-request form.
 *
 * Run: `npx tsx samples/sse-feed.ts` (starts its own server on 127.0.0.1, exits 0).
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { lastValueFrom, take, toArray } from 'rxjs';
import { open } from '../lib/index.js';

const LAST = 6;
const sockets = new Set<Socket>();
let crashed = false;
const server = http.createServer((req, res) => {
  // Resume after the last id the client saw.
  const from = Number(req.headers['last-event-id'] ?? 0) + 1;
  if (from > LAST) {
    res.writeHead(204).end(); // nothing more, ever: the client stops
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
  res.write('retry: 50\n\n');
  // Two events per response, then the response ends (or, once, the server crashes).
  for (const id of [from, from + 1].filter(n => n <= LAST)) res.write(`id: ${id}\nevent: price\ndata: ${JSON.stringify({ id, eur: 100 + id })}\n\n`);
  if (from === 3 && !crashed) {
    crashed = true;
    req.socket.destroy(); // events 3 and 4 may be lost with it: the client asks again from its last id
  } else res.end();
});
server.on('connection', socket => {
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const conn = open(origin, { retry: { initialDelay: 10 } });
conn.subscribe(event => {
  if (event.type === 'disconnected' || event.type === 'connected') console.log(`connection: ${event.type}`);
});

// Cold: one request, completes when the response ends.
const first = await lastValueFrom(conn.sse('/prices').pipe(toArray()));
console.log(`sse(): ${first.length} events in one response, last id ${first.at(-1)?.id}`);

// Reconnecting and shared: two subscribers, one request at a time, across ends and a crash.
const feed = conn.eventSource('/prices', { minReconnectDelay: 0 });
const other = lastValueFrom(feed.pipe(take(2), toArray()));
const all = await lastValueFrom(feed.pipe(toArray())); // completes at the server's 204
for (const event of all) console.log(`eventSource(): ${event.type} #${event.id} ${event.data}`);
console.log(`the second subscriber shared the stream: ${(await other).map(e => e.id).join(', ')}`);
console.log(`last event id ${feed.lastEventId}, reconnection time ${feed.reconnectDelay} ms`);

await conn.shutdown();
server.close();
for (const socket of sockets) socket.destroy();
