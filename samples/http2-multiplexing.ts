/**
 * HTTP/2 multiplexing over one h2c connection (`protocols: ['http2']`, prior knowledge): many
 * concurrent streams on one session, answers arriving in their own order, a PING round trip,
 * cancelling one stream without hurting the others, and a graceful shutdown (GOAWAY).
 *
 * Run: `npx tsx samples/http2-multiplexing.ts` (starts its own server on 127.0.0.1, exits 0).
 */
import { once } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { firstValueFrom, lastValueFrom, map, merge, toArray } from 'rxjs';
import { open, text } from '../lib/index.js';

let sessions = 0;
let onStream: ((path: string) => void) | undefined;
const server = http2.createServer();
server.on('session', () => sessions++);
server.on('stream', (stream, headers) => {
  const path = String(headers[':path']);
  onStream?.(path);
  stream.on('error', () => undefined); // a cancelled stream is reset by the client
  if (path === '/never') return; // answered never: the client cancels it
  const delay = Number(new URL(path, 'http://x').searchParams.get('delay') ?? 0);
  setTimeout(() => {
    if (stream.destroyed) return;
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    stream.end(`${path} after ${delay} ms`);
  }, delay);
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const conn = open(origin, { protocols: ['http2'] });
conn.subscribe({
  next: event => console.log(`event: ${event.type}${event.type === 'connected' ? ` (${event.protocol})` : ''}`),
  error: error => console.error('the connection gave up:', error.code), // the event stream errors when it gives up
});

// Ten requests at once, slowest first: on one HTTP/2 session they run concurrently, so the answers
// arrive fastest first, and the whole batch takes about as long as the slowest one.
const started = performance.now();
const delays = [90, 80, 70, 60, 50, 40, 30, 20, 10, 0];
const order = await lastValueFrom(
  merge(...delays.map(delay => conn.get(`/item?delay=${delay}`).pipe(text(), map(() => delay)))).pipe(toArray()),
);
console.log(`10 concurrent streams done in ${Math.round(performance.now() - started)} ms; answer order by delay:`, order.join(' '));
console.log('server sessions so far:', sessions, '(one connection for everything)');

// A PING round trip (HTTP/2 only), the same frame the keepalive uses to detect a dead peer.
console.log(`ping: ${(await firstValueFrom(conn.ping())).toFixed(2)} ms`);

// Unsubscribing cancels one stream (RST_STREAM CANCEL); the session and the other streams go on.
const cancelled = conn.get('/never').subscribe();
const other = firstValueFrom(conn.get('/other?delay=20').pipe(text()));
cancelled.unsubscribe();
console.log('after a cancel, another stream:', (await other).body, `- active streams: ${conn.info().activeStreams}`);

// Graceful shutdown: GOAWAY(NO_ERROR), the stream in flight finishes, new ones are refused.
const arrived = new Promise<void>(resolve => (onStream = () => resolve()));
const inFlight = firstValueFrom(conn.get('/last?delay=50').pipe(text()));
await arrived; // the server has the stream
const closed = conn.shutdown();
const refused = await firstValueFrom(conn.get('/late')).catch((error: { code: string }) => error.code);
console.log('a request after shutdown():', refused);
console.log('the stream in flight finished:', (await inFlight).body);
await closed;
console.log('closed; server sessions in total:', sessions);
server.close();
