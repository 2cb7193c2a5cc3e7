/**
 * Real loopback servers for tests: node:http and node:http2 (h2c) behind one handler type, and
 * scripted raw TCP peers. Each can be killed (every socket destroyed) and restarted on its port.
 */
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { Protocol } from '../../lib/index.js';

/**
 * A request handler, typed as node:http's; node:http2's compatibility API accepts the same calls
 * (writeHead, write, end, setHeader, addTrailers), which is all the tests use.
 */
export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface TestServer {
  readonly port: number;
  readonly origin: string;
  /** Connections (HTTP/1.1 sockets or HTTP/2 sessions) accepted so far. */
  readonly connections: number;
  /** Requests received so far. */
  readonly requests: number;
  /** Stops listening and destroys every open socket: a crash, as seen by the client. */
  kill(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
  /** Closes the server (graceful for the listener; open sockets destroyed). */
  close(): Promise<void>;
  /** The underlying server, for protocol-specific calls. */
  readonly server: http.Server | http2.Http2Server;
}

async function listen(server: net.Server, port = 0): Promise<number> {
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

/**
 * Follows a server's open sockets (errors on them ignored: a killed peer's sockets error by
 * design). `stop()` stops listening and destroys every one of them: a crash, as a client sees it.
 * Idempotent; the server can listen again afterwards.
 */
export function trackSockets(server: net.Server): { readonly sockets: ReadonlySet<net.Socket>; stop: () => Promise<void> } {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
  });
  return {
    sockets,
    stop: async () => {
      if (!server.listening) return;
      const closed = once(server, 'close');
      server.close();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** Starts a server speaking `protocol` (http1: node:http; http2: h2c prior knowledge). */
export async function startServer(protocol: Protocol, handler: Handler, options: { keepAliveTimeout?: number; port?: number } = {}): Promise<TestServer> {
  let requests = 0;
  let connections = 0;
  const counted: Handler = (req, res) => {
    requests++;
    handler(req, res);
  };
  const server =
    protocol === 'http1'
      ? http.createServer(counted as http.RequestListener)
      : http2.createServer(counted as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void);
  if (server instanceof http.Server && options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
  server.on('connection', () => connections++);
  const { stop } = trackSockets(server);
  const port = await listen(server, options.port);
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    server,
    get connections() {
      return connections;
    },
    get requests() {
      return requests;
    },
    kill: stop,
    restart: async () => {
      await listen(server, port);
    },
    close: stop,
  };
}

/** A port with nothing listening on it (bound, then released). */
/**
 * Starts `server` (node:http or node:https) on 127.0.0.1 and an ephemeral port; returns its port
 * and a closer that ends every connection, then waits for the close.
 */
export async function listenLocal(server: http.Server): Promise<{ port: number; close: () => Promise<void> }> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

export async function deadPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  server.close();
  await once(server, 'close');
  return port;
}

/** A scripted raw TCP peer: `onSocket` plays the server side. */
export async function rawServer(onSocket: (socket: net.Socket) => void): Promise<{ port: number; origin: string; received: () => Buffer; close: () => Promise<void> }> {
  const chunks: Buffer[] = [];
  const server = net.createServer(socket => {
    socket.on('data', chunk => chunks.push(chunk));
    onSocket(socket);
  });
  const { stop } = trackSockets(server);
  const port = await listen(server);
  return { port, origin: `http://127.0.0.1:${port}`, received: () => Buffer.concat(chunks), close: stop };
}
