/**
 * `npm run demo`: the whole life of one rxconn connection, against a local embedded server.
 *
 * 1. connect and print every lifecycle event with a timestamp;
 * 2. run requests (sequential and concurrent) over the one connection;
 * 3. kill the server, watch the connection report the loss and retry with backoff, restart it;
 * 4. shut down gracefully with a slow request in flight: it completes, then the connection closes.
 *
 * Everything stays on 127.0.0.1 and the script exits 0 by itself. `npm run demo -- --http2` runs the
 * same story over HTTP/2 (h2c, prior knowledge): the shutdown then sends GOAWAY and lets /slow finish.
 */
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { filter, firstValueFrom, lastValueFrom, merge, toArray } from 'rxjs';
import { json, open, text } from '../lib/index.js';
import type { ConnectionEvent, Protocol } from '../lib/index.js';

const protocol: Protocol = process.argv.includes('--http2') ? 'http2' : 'http1';

const started = performance.now();
const stamp = (): string => `+${String(Math.round(performance.now() - started)).padStart(5)} ms`;
const say = (line: string): void => console.log(`${stamp()}  ${line}`);

function describeEvent(event: ConnectionEvent): string {
  switch (event.type) {
    case 'connecting':
      return `connecting (attempt ${event.attempt})`;
    case 'connected':
      return `connected over ${event.protocol} (attempt ${event.attempt})`;
    case 'disconnected':
      return `disconnected: ${event.error.message} (${event.killedStreams} stream(s) killed)`;
    case 'retrying':
      return `retrying in ${event.delay} ms (attempt ${event.attempt}) after: ${event.error.message}`;
    case 'closing':
      return `closing (${event.initiator}), ${event.activeStreams} active stream(s)`;
    default:
      return event.type;
  }
}

// ---- the embedded server ----
const sockets = new Set<Socket>();
const handler = (req: { url?: string }, res: { setHeader(name: string, value: string): void; end(body: string): void }): void => {
  if (req.url === '/slow') {
    setTimeout(() => res.end('the slow answer made it'), 300);
    return;
  }
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ path: req.url, at: new Date().toISOString() }));
};
// node:http2's compatibility API takes the same handler.
const server = protocol === 'http2' ? http2.createServer(handler) : http.createServer(handler);
server.on('connection', socket => {
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const { port } = server.address() as AddressInfo;
say(`${protocol === 'http2' ? 'HTTP/2 (h2c)' : 'HTTP/1.1'} server listening on 127.0.0.1:${port}`);

// ---- the client ----
const conn = open(`http://127.0.0.1:${port}`, {
  protocols: [protocol],
  retry: { maxRetries: Infinity, initialDelay: 50, maxDelay: 400 },
  closeTimeout: 2_000,
});
const events = conn.subscribe({
  next: event => say(`event  ${describeEvent(event)}`),
  error: error => say(`event  error: ${String(error)}`),
});

const first = await firstValueFrom(conn.get('/hello').pipe(json<{ path: string }>()));
say(`GET /hello -> ${first.status} ${JSON.stringify(first.body)}`);

const many = await lastValueFrom(merge(...Array.from({ length: 5 }, (_, i) => conn.get(`/item/${i}`).pipe(json<{ path: string }>()))).pipe(toArray()));
say(`5 concurrent requests -> ${many.map(r => r.body.path).join(', ')}`);
say(`info: ${JSON.stringify(conn.info())}`);

// ---- the server dies; the connection notices and retries with backoff ----
say('killing the server');
server.close();
for (const socket of sockets) socket.destroy();
await firstValueFrom(conn.pipe(filter(e => e.type === 'retrying' && e.attempt >= 3)));
say('restarting the server on the same port');
server.listen(port, '127.0.0.1');
await firstValueFrom(conn.pipe(filter(e => e.type === 'connected')));
const after = await firstValueFrom(conn.get('/after-restart').pipe(json<{ path: string }>()));
say(`GET /after-restart -> ${after.status} ${JSON.stringify(after.body)}`);

// ---- graceful shutdown with a request in flight ----
const slow = firstValueFrom(conn.get('/slow').pipe(text()));
await new Promise(resolve => setTimeout(resolve, 50));
say('shutdown() with /slow in flight');
const closed = conn.shutdown();
const late = await firstValueFrom(conn.get('/late')).catch((error: { code?: string }) => error.code);
say(`a request after shutdown() -> ${String(late)}`);
say(`GET /slow -> ${(await slow).body}`);
await closed;
say(`closed; state ${conn.state}`);
events.unsubscribe();

server.close();
await once(server, 'close');
say('done');
