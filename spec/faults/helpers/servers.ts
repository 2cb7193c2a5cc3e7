/**
 * Servers for the fault matrix: one handler type over every wire variant rxconn speaks
 * (HTTP/1.1 and HTTP/2, cleartext and TLS), each killable (every socket destroyed, like a
 * crashed process) and restartable on its port; plus the client options that reach each one.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import type { ConnectionOptions, Protocol } from '../../../lib/index.js';
import { trackSockets } from '../../helpers/servers.js';

/** A wire variant: the protocol, and whether it runs over TLS (ALPN picks the protocol). */
export type Variant = 'http1' | 'h2c' | 'https1' | 'h2';

export const VARIANTS: readonly Variant[] = ['http1', 'h2c', 'https1', 'h2'];

export const fixture = (name: string): Buffer => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url));
export const CA = fixture('ca.pem');

/** The protocol a variant speaks. */
export function protocolOf(variant: Variant): Protocol {
  return variant === 'http1' || variant === 'https1' ? 'http1' : 'http2';
}

/** Client options that reach a server of `variant`, merged with `extra`. */
export function clientOptions(variant: Variant, extra: ConnectionOptions = {}): ConnectionOptions {
  const secure = variant === 'https1' || variant === 'h2';
  return {
    protocols: secure ? ['http2', 'http1'] : [protocolOf(variant)],
    ...(secure && { tls: { ca: CA } }),
    ...extra,
  };
}

/**
 * A request handler, typed with node:http's classes; HTTP/2 servers run it on their
 * compatibility API (`Http2ServerRequest`/`Http2ServerResponse`), which has the same surface
 * for what these tests use (`url`, `method`, `headers`, events, `writeHead`, `write`, `end`).
 */
export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
type H2Handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;

export interface FaultServer {
  readonly variant: Variant;
  readonly port: number;
  readonly origin: string;
  /** `performance.now()` of every TCP connection accepted, in order. */
  readonly accepted: number[];
  /** Requests received. */
  readonly requests: number;
  /** Stops listening and destroys every socket at once: a crash, as the client sees it. */
  kill(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
  /** Kills it for good. */
  close(): Promise<void>;
}

async function listen(server: net.Server, port = 0): Promise<number> {
  server.listen({ port, host: '127.0.0.1', backlog: 1024 });
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

function create(variant: Variant, handler: Handler): net.Server {
  const tls = { cert: fixture('server.pem'), key: fixture('server.key') };
  const h2 = handler as unknown as H2Handler;
  switch (variant) {
    case 'http1':
      return http.createServer({ keepAliveTimeout: 60_000 }, handler);
    case 'https1':
      return https.createServer({ ...tls, keepAliveTimeout: 60_000 }, handler);
    case 'h2c':
      return http2.createServer({}, h2);
    case 'h2':
      return http2.createSecureServer({ ...tls, allowHTTP1: false }, h2);
  }
}

/** Starts a server of `variant` on 127.0.0.1 port 0. */
export async function startFaultServer(variant: Variant, handler: Handler): Promise<FaultServer> {
  const accepted: number[] = [];
  let requests = 0;
  const server = create(variant, (req, res) => {
    requests++;
    // A killed server's responses error on write: that is the point, not a test failure.
    res.on('error', () => {});
    req.on('error', () => {});
    handler(req, res);
  });
  server.on('connection', () => accepted.push(performance.now()));
  const { stop: kill } = trackSockets(server);
  server.on('tlsClientError', () => {});
  server.on('sessionError', () => {});
  const port = await listen(server);
  return {
    variant,
    port,
    origin: `${variant === 'https1' || variant === 'h2' ? 'https' : 'http'}://127.0.0.1:${port}`,
    accepted,
    get requests() {
      return requests;
    },
    kill,
    restart: async () => {
      await listen(server, port);
    },
    close: kill,
  };
}

/** A raw TCP peer: `onSocket` plays the server; `received()` is every byte any client sent. */
export interface RawPeer {
  readonly port: number;
  readonly origin: string;
  readonly sockets: ReadonlySet<net.Socket>;
  /** Connections accepted so far. */
  readonly connections: number;
  received(): Buffer;
  close(): Promise<void>;
}

/**
 * Starts a raw peer on 127.0.0.1 port 0: plain TCP, or TLS with the test certificate offering
 * `tls.alpn` (then `onSocket` runs once the handshake is done).
 */
export async function startRawPeer(onSocket: (socket: net.Socket) => void, options: { tls?: { alpn: string[] } } = {}): Promise<RawPeer> {
  const chunks: Buffer[] = [];
  let connections = 0;
  const accept = (socket: net.Socket): void => {
    connections++;
    socket.on('data', chunk => chunks.push(chunk));
    socket.on('error', () => {});
    onSocket(socket);
  };
  const server = options.tls
    ? tls.createServer({ cert: fixture('server.pem'), key: fixture('server.key'), ALPNProtocols: options.tls.alpn }, accept)
    : net.createServer(accept);
  if (options.tls) server.on('tlsClientError', () => {});
  // The TCP sockets under TLS too: destroying them ends their TLS sockets.
  const { sockets, stop } = trackSockets(server);
  const port = await listen(server);
  return {
    port,
    origin: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    sockets,
    get connections() {
      return connections;
    },
    received: () => Buffer.concat(chunks),
    close: stop,
  };
}

/**
 * A TCP proxy in front of `targetPort`. `stall()` makes every connection open now a dead path
 * (bytes are swallowed both ways, nothing is closed: a half-open peer); later connections
 * forward normally.
 */
export interface StallProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  stall(): void;
  close(): Promise<void>;
}

export async function startStallProxy(targetPort: number): Promise<StallProxy> {
  const sockets = new Set<net.Socket>();
  const stalled = new WeakSet<net.Socket>();
  let connections = 0;
  const server = net.createServer(client => {
    connections++;
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.once('close', () => sockets.delete(s));
    }
    client.on('data', data => {
      if (!stalled.has(client)) upstream.write(data);
    });
    upstream.on('data', data => {
      if (!stalled.has(client)) client.write(data);
    });
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  const port = await listen(server);
  return {
    port,
    get connections() {
      return connections;
    },
    stall: () => {
      for (const s of sockets) stalled.add(s);
    },
    close: async () => {
      const closed = once(server, 'close');
      server.close();
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
