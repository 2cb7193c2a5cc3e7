/**
 * A connection through an HTTP CONNECT proxy: the `connected` event names the proxy, requests
 * reach the origin through the tunnel, a wrong password is a typed `ProxyError` (status 407, hop
 * 0) retried like any failed attempt, and when the proxy restarts the connection redials the
 * whole chain by itself. Chains (`proxy: [a, b]`), `https://` and `socks5://` proxies and
 * `proxy: 'env'` work the same way.
 *
 * Run: `npx tsx samples/through-a-proxy.ts` (starts its own proxy and origin on 127.0.0.1, exits 0).
 */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { filter, firstValueFrom } from 'rxjs';
import { ProxyError, RxconnError, open, text } from '../lib/index.js';

// The origin: answers with the path it got and the host it was asked for.
const origin = http.createServer((req, res) => res.end(`${req.url} (host: ${req.headers.host})`));
origin.listen(0, '127.0.0.1');
await once(origin, 'listening');
const originPort = (origin.address() as AddressInfo).port;

// A small CONNECT proxy with Basic auth, as node:http offers it (the 'connect' event).
const expected = `Basic ${Buffer.from('alice:wonderland').toString('base64')}`;
const sockets = new Set<Socket>();
const proxy = http.createServer();
proxy.on('connection', socket => {
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
});
proxy.on('connect', (req: http.IncomingMessage, client: Socket, head: Buffer) => {
  client.on('error', () => {});
  if (req.headers['proxy-authorization'] !== expected) {
    client.end('HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic\r\ncontent-length: 0\r\n\r\n');
    return;
  }
  const [host, port] = [req.url!.slice(0, req.url!.lastIndexOf(':')), Number(req.url!.slice(req.url!.lastIndexOf(':') + 1))];
  const upstream = net.connect({ host, port }, () => {
    client.write('HTTP/1.1 200 Connection established\r\n\r\n');
    upstream.write(head);
    upstream.pipe(client).pipe(upstream);
  });
  sockets.add(upstream);
  upstream.once('close', () => sockets.delete(upstream));
  upstream.on('error', () => client.destroy());
  client.on('close', () => upstream.destroy());
});
proxy.listen(0, '127.0.0.1');
await once(proxy, 'listening');
const proxyPort = (proxy.address() as AddressInfo).port;

// 1. Through the proxy. Credentials go in the proxy URL; they never appear in events or errors.
const conn = open(`http://127.0.0.1:${originPort}`, {
  proxy: `http://alice:wonderland@127.0.0.1:${proxyPort}`,
  retry: { maxRetries: Infinity, initialDelay: 20, maxDelay: 200 },
});
conn.subscribe(event => {
  if (event.type === 'connected') {
    const hops = event.intermediaries?.map(hop => `${hop.type} ${hop.host}:${hop.port} (${hop.transport}, ${hop.protocol})`).join(' → ');
    console.log(`connected over ${event.protocol} through ${hops}`);
  } else if (event.type === 'retrying') {
    console.log(`retrying in ${event.delay} ms: ${event.error.message}`);
  } else {
    console.log(event.type);
  }
});
const first = await firstValueFrom(conn.get('/hello').pipe(text()));
console.log(`GET /hello -> ${first.status} ${first.body}`);

// 2. The proxy restarts: the connection notices, backs off, and redials the whole chain.
const back = firstValueFrom(conn.pipe(filter(event => event.type === 'connected')));
const closed = once(proxy, 'close');
proxy.close();
for (const socket of sockets) socket.destroy();
await closed;
await firstValueFrom(conn.pipe(filter(event => event.type === 'retrying')));
const waiting = firstValueFrom(conn.get('/queued').pipe(text())); // made during the outage: waits
proxy.listen(proxyPort, '127.0.0.1');
await back;
console.log(`GET /queued -> ${(await waiting).body}`);
await conn.shutdown();

// 3. A wrong password: a typed ProxyError for hop 0 with the proxy's status, never the password.
const denied = open(`http://127.0.0.1:${originPort}`, { proxy: `http://alice:guess@127.0.0.1:${proxyPort}`, retry: false });
denied.subscribe({ error: () => undefined });
try {
  await firstValueFrom(denied.get('/'));
} catch (error) {
  const cause = error instanceof RxconnError ? error.cause : undefined;
  if (cause instanceof ProxyError) console.log(`refused: ${cause.code} hop ${cause.hop}, status ${cause.status}: ${cause.message}`);
}
await denied.whenClosed();

proxy.close();
for (const socket of sockets) socket.destroy();
origin.close();
origin.closeAllConnections();
