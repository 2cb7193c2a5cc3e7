/**
 * The Node servers behind the suite's nginx: an HTTP upstream that records every request id it
 * was asked (so a test can tell a request the server never processed from one it did), and a ws
 * echo server for WebSockets proxied through nginx. Both on 127.0.0.1, port 0.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';

/** The header that carries a request's unique id, through nginx to the upstream. */
export const ID_HEADER = 'x-request-id';

export interface Upstream {
  readonly port: number;
  /** How many times each request id reached the upstream (through nginx). */
  readonly seen: Map<string, number>;
  close(): Promise<void>;
}

async function listen(server: http.Server): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  server.on('connection', socket => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      const closed = once(server, 'close');
      server.close();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/**
 * Answers every request with `<method> <id> <body bytes>` once the request body has arrived,
 * after recording its id (the {@link ID_HEADER}) as seen.
 */
export async function startUpstream(): Promise<Upstream> {
  const seen = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const id = String(req.headers[ID_HEADER] ?? '');
    seen.set(id, (seen.get(id) ?? 0) + 1);
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => res.end(`${req.method} ${id} ${bytes}`));
  });
  const { port, close } = await listen(server);
  return { port, seen, close };
}

export interface EchoServer {
  readonly port: number;
  /** WebSockets accepted so far. */
  accepted(): number;
  close(): Promise<void>;
}

/** A ws server that echoes every message back, as it came (text as text, binary as binary). */
export async function startEchoServer(): Promise<EchoServer> {
  const server = http.createServer((_req, res) => res.end('websocket only'));
  const wss = new WebSocketServer({ server });
  let accepted = 0;
  wss.on('connection', ws => {
    accepted++;
    ws.on('error', () => undefined);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  const { port, close } = await listen(server);
  return {
    port,
    accepted: () => accepted,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await close();
    },
  };
}
