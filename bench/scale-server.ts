/**
 * The server of the scale jobs (bench/scale.ts): an h2c server and a WebSocket server on
 * 127.0.0.1, in their own process, that can disappear and come back. Driven over IPC:
 * `{ type: 'down', ms }` destroys every connection and stops listening for `ms`, then listens
 * again on the same ports; it reports `down` and `up` with their wall-clock times, and how many
 * connections it accepted after coming back, per 100 ms, when asked (`stats`).
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createH2cServer } from 'node:http2';
import type { Http2Session } from 'node:http2';
import type { AddressInfo, Server, Socket } from 'node:net';
import { WebSocketServer } from 'ws';

export type ToScaleServer = { readonly type: 'down'; readonly ms: number } | { readonly type: 'stats' };
export type FromScaleServer =
  | { readonly type: 'ready'; readonly h2c: number; readonly ws: number }
  | { readonly type: 'down'; readonly at: number }
  | { readonly type: 'up'; readonly at: number }
  | { readonly type: 'stats'; readonly open: number; readonly accepted: readonly number[] };

const send = (message: FromScaleServer): void => void process.send?.(message);

const sessions = new Set<Http2Session>();
const sockets = new Set<Socket>();
/** Wall-clock time the servers came back (0 before any outage), and accepts after it per 100 ms. */
let upAt = 0;
const accepted: number[] = [];

const h2c = createH2cServer({ settings: { maxConcurrentStreams: 100 } });
h2c.on('session', (session: Http2Session) => {
  sessions.add(session);
  session.on('error', () => undefined);
  session.once('close', () => sessions.delete(session));
});
h2c.on('stream', (stream) => {
  stream.on('error', () => undefined);
  stream.respond({ ':status': 200 });
  stream.end('ok');
});
const wsHttp = createHttpServer();
const wss = new WebSocketServer({ server: wsHttp });
wss.on('connection', (ws) => ws.on('error', () => undefined));

for (const server of [h2c, wsHttp] as Server[]) {
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    if (upAt > 0) {
      const slot = Math.floor((Date.now() - upAt) / 100);
      accepted[slot] = (accepted[slot] ?? 0) + 1;
    }
  });
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // A backlog as large as the kernel allows (net.core.somaxconn caps it): the storm's SYNs queue instead of being dropped.
    server.listen({ port, host: '127.0.0.1', backlog: 65_535 }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

async function main(): Promise<void> {
  const ports = { h2c: await listen(h2c, 0), ws: await listen(wsHttp, 0) };
  process.on('message', (message: ToScaleServer) => {
    if (message.type === 'stats') {
      send({ type: 'stats', open: sockets.size, accepted: Array.from(accepted, (n) => n ?? 0) });
      return;
    }
    // Down: no listener (new connections are refused), every connection destroyed.
    h2c.close();
    wsHttp.close();
    for (const session of sessions) session.destroy();
    for (const socket of sockets) socket.destroy();
    send({ type: 'down', at: Date.now() });
    setTimeout(() => {
      void Promise.all([listen(h2c, ports.h2c), listen(wsHttp, ports.ws)]).then(() => {
        upAt = Date.now();
        send({ type: 'up', at: upAt });
      });
    }, message.ms);
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', ...ports });
}

main().catch((error: unknown) => {
  console.error('scale server failed:', error);
  process.exit(1);
});
