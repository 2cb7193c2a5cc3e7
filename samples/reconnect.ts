/**
 * Reconnect after a server restart: the connection reports the loss, retries with jittered
 * backoff while the server is down, and comes back on its own. A stream cut by the loss errors
 * (never retried silently: resubscribing is the retry); a request made during the outage waits
 * for the next connection.
 *
 * Run: `npx tsx samples/reconnect.ts` (starts its own server on 127.0.0.1, exits 0).
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { filter, firstValueFrom, retry, take, tap, toArray } from 'rxjs';
import { RxconnError, open, text } from '../lib/index.js';

let generation = 1;
let flakyHits = 0;
let onSlow: (() => void) | undefined;
const sockets = new Set<Socket>();
const server = http.createServer((req, res) => {
  if (req.url === '/slow') {
    // The response has begun, and its end never comes from this server generation. (Had the
    // server died before any response byte, rxconn would have sent this idempotent GET again.)
    res.writeHead(200);
    res.write('the first half...', () => onSlow?.());
    return;
  }
  if (req.url === '/flaky' && ++flakyHits === 1) {
    req.socket.destroy(); // the first time, the connection dies under this request
    return;
  }
  res.end(`served by server generation ${generation}`);
});
server.on('connection', socket => {
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const port = (server.address() as AddressInfo).port;

async function kill(): Promise<void> {
  const closed = once(server, 'close');
  server.close();
  for (const socket of sockets) socket.destroy();
  await closed;
}

const conn = open(`http://127.0.0.1:${port}`, {
  retry: { maxRetries: Infinity, initialDelay: 20, maxDelay: 200 }, // full jitter: each delay in [0, ceiling]
});
conn.subscribe(event => {
  switch (event.type) {
    case 'disconnected':
      return console.log(`event: disconnected (${event.error.code}), ${event.killedStreams} stream(s) killed`);
    case 'retrying':
      return console.log(`event: retrying #${event.attempt} in ${Math.round(event.delay)} ms (${event.error.code})`);
    case 'connected':
      return console.log(`event: connected (attempt ${event.attempt})`);
    default:
      return console.log(`event: ${event.type}`);
  }
});

console.log((await firstValueFrom(conn.get('/').pipe(text()))).body);

// A response cut off when the server dies errors with RXCONN_CONNECTION_DOWN.
const arrived = new Promise<void>(resolve => (onSlow = resolve));
const cut = firstValueFrom(conn.get('/slow').pipe(text())).catch((error: RxconnError) => error);
await arrived;
const retries = firstValueFrom(conn.pipe(filter(e => e.type === 'retrying'), take(3), toArray()));
await kill();
console.log('the stream in flight:', (await cut as RxconnError).code);

// While the server is down: a new request waits for the connection instead of failing.
const waiting = firstValueFrom(conn.get('/').pipe(text()));
await retries; // three failed attempts, with backoff
console.log('state during the outage:', conn.state, '- queued requests:', conn.info().queuedRequests);

generation = 2;
onSlow = undefined;
server.listen(port, '127.0.0.1');
await once(server, 'listening');
console.log('the queued request, after the restart:', (await waiting).body);

// Resubscribing is the retry: the connection dies under the first send of /flaky; retry()
// resubscribes the cold request, which waits for the reconnect and is sent again.
const flaky = conn.get('/flaky').pipe(
  text(),
  tap({ error: (error: RxconnError) => console.log(`/flaky failed with ${error.code}; retrying`) }),
  retry(2),
);
console.log(`with retry(): ${(await firstValueFrom(flaky)).body}, after ${flakyHits} sends`);

await conn.shutdown();
server.close();
