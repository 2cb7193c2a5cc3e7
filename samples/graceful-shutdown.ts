/**
 * Graceful shutdown with a request in flight, on HTTP/1.1 and on HTTP/2 (h2c): `shutdown()` refuses
 * new requests at once, lets the streams in flight finish, then closes; `closeTimeout` bounds the
 * wait. `close()`, for comparison, is abrupt.
 *
 * Run: `npx tsx samples/graceful-shutdown.ts` (starts its own servers on 127.0.0.1, exits 0).
 */
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { open, text } from '../lib/index.js';
import type { Protocol, RxconnError } from '../lib/index.js';

type Handler = (req: { url?: string }, res: { end(body: string): void }) => void;

/** Called when a request reaches a server: samples wait on it instead of guessing. */
let onArrival: (() => void) | undefined;
const arrival = (): Promise<void> => new Promise<void>(resolve => (onArrival = resolve));

/** `/slow` answers after 100 ms, `/stuck` never; anything else at once. */
const handler: Handler = (req, res) => {
  onArrival?.();
  onArrival = undefined;
  if (req.url === '/stuck') return;
  setTimeout(() => res.end(`${req.url} finished`), req.url === '/slow' ? 100 : 0);
};

async function serve(protocol: Protocol): Promise<{ origin: string; stop: () => Promise<void> }> {
  const server = protocol === 'http1' ? http.createServer(handler) : http2.createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: async () => {
      const closed = once(server, 'close');
      server.close();
      if (server instanceof http.Server) server.closeAllConnections();
      await closed;
    },
  };
}

for (const protocol of ['http1', 'http2'] as const) {
  console.log(`---- ${protocol} ----`);
  const { origin, stop } = await serve(protocol);
  const conn = open(origin, { protocols: [protocol], closeTimeout: 1_000 });
  const events = lastValueFrom(conn.pipe(toArray()));
  await firstValueFrom(conn.get('/warm-up'));

  const arrived = arrival();
  const slow = firstValueFrom(conn.get('/slow').pipe(text()));
  await arrived; // the server is working on it
  console.log(`shutdown() with ${conn.info().activeStreams} stream(s) in flight`);
  const closed = conn.shutdown();
  console.log('state:', conn.state);
  const late = await firstValueFrom(conn.get('/late')).catch((error: RxconnError) => error.code);
  console.log('a new request:', late);
  console.log('the request in flight:', (await slow).body);
  await closed;
  console.log('events:', (await events).map(e => e.type).join(' -> '));
  await stop();
}

// closeTimeout bounds the wait: a stream that never ends is killed when it runs out.
console.log('---- closeTimeout ----');
{
  const { origin, stop } = await serve('http2');
  const conn = open(origin, { protocols: ['http2'], closeTimeout: 100 });
  const arrived = arrival();
  const stuck = firstValueFrom(conn.get('/stuck')).catch((error: RxconnError) => error);
  await arrived;
  const started = performance.now();
  await conn.shutdown();
  const error = (await stuck) as RxconnError;
  console.log(`shutdown gave up after ~${Math.round((performance.now() - started) / 50) * 50} ms; the stuck stream: ${error.code}`);
  await stop();
}

// close() is abrupt: the socket is destroyed now and the stream in flight errors.
console.log('---- close() ----');
{
  const { origin, stop } = await serve('http1');
  const conn = open(origin);
  await firstValueFrom(conn.get('/ready'));
  const arrived = arrival();
  const slow = firstValueFrom(conn.get('/slow')).catch((error: RxconnError) => error.code);
  await arrived;
  conn.close();
  console.log('the request in flight:', await slow);
  await conn.whenClosed();
  console.log('state:', conn.state);
  await stop();
}
