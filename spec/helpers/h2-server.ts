/**
 * Test helpers for HTTP/2: real node:http2 servers on 127.0.0.1 port 0, dialing a socket the
 * way the transport does, a session listener that records what the session reports, a sink
 * that collects one response, a TCP proxy that can stop forwarding, and a scripted raw peer.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { Http2Server, Http2Session, Http2SecureServer, ServerHttp2Stream, IncomingHttpHeaders, Settings } from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { createHttp2Session } from '../../lib/node/http2-session.js';
import type { RxconnError } from '../../lib/core/errors.js';
import type { GoawayInfo, ResponseEvent } from '../../lib/core/events.js';
import { resolveNodeOptions as resolveOptions } from '../../lib/node/open.js';
import type { ConnectionOptions } from '../../lib/core/options.js';
import { prepareRequest } from '../../lib/core/request-init.js';
import type { RequestInit } from '../../lib/core/request-init.js';
import type { Session, SessionListener } from '../../lib/core/session.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
export const CA = fixture('ca.pem');
const CERT = fixture('server.pem');
const KEY = fixture('server.key');

export type StreamHandler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;

/** A running node:http2 server and what it saw. */
export interface H2Server {
  readonly port: number;
  readonly origin: string;
  readonly server: Http2Server | Http2SecureServer;
  /** Server-side sessions, in accept order. */
  readonly sessions: Http2Session[];
  /** Error codes of the GOAWAY frames the server received from clients. */
  readonly goaways: number[];
  /** Streams the client reset (the server's stream 'aborted' or rstCode ≠ 0 before its end), by rstCode. */
  readonly resets: number[];
  /** Destroys the raw TCP sockets of every connection: the peer vanishes without a frame. */
  dropConnections(): void;
  /** Destroys every session and closes the server. */
  close(): Promise<void>;
}

export interface H2ServerOptions {
  tls?: boolean;
  settings?: Settings;
  /** ALPN list of the TLS server (default h2 only). */
  allowHTTP1?: boolean;
}

/** Starts a node:http2 server (h2c, or TLS with the test certificate) on 127.0.0.1 port 0. */
export async function startH2Server(handler: StreamHandler, options: H2ServerOptions = {}): Promise<H2Server> {
  const server = options.tls
    ? http2.createSecureServer({ cert: CERT, key: KEY, settings: options.settings, allowHTTP1: options.allowHTTP1 })
    : http2.createServer({ settings: options.settings });
  const sessions: Http2Session[] = [];
  const goaways: number[] = [];
  const resets: number[] = [];
  const raw = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    raw.add(socket);
    socket.on('close', () => raw.delete(socket));
  });
  server.on('session', session => {
    sessions.push(session);
    session.on('error', () => {});
    session.on('goaway', (code: number) => goaways.push(code));
  });
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on('error', () => {});
    stream.on('close', () => {
      if (stream.rstCode !== 0 && stream.rstCode !== undefined) resets.push(stream.rstCode);
    });
    handler(stream, headers);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    origin: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    server,
    sessions,
    goaways,
    resets,
    dropConnections: () => {
      for (const socket of raw) socket.destroy();
    },
    close: async () => {
      for (const session of sessions) session.destroy();
      await new Promise<void>(resolve => server.close(() => resolve()));
    },
  };
}

/** A node:http2 server with the routes the HTTP/2 specs share. */
export interface RoutedH2Server extends H2Server {
  /** Streams of `/hold` and `/hold-data`, in arrival order: answer them with {@link answer}. */
  readonly held: ServerHttp2Stream[];
  /** Resolves once `n` streams are held. */
  heldCount(n: number): Promise<void>;
}

/**
 * Routes: `/hello` (103, headers with set-cookie, body, trailers), `/echo` (echoes the body as it
 * comes), `/big/N` (N bytes with backpressure), `/hold` (no answer until {@link answer}),
 * `/hold-data` (headers and `first`, then held), `/rst` (resets after a chunk), `/refuse`
 * (REFUSED_STREAM), `/huge-headers` (a 2 kB header), `/early` (413 without reading the body);
 * anything else: 200 `ok`.
 */
export async function startRoutedH2Server(options: H2ServerOptions = {}): Promise<RoutedH2Server> {
  const held: ServerHttp2Stream[] = [];
  const waiters: Array<() => void> = [];
  const s = await startH2Server((stream, headers) => {
    const path = headers[':path'] ?? '/';
    if (path === '/hello') {
      stream.additionalHeaders({ ':status': 103, link: '</style.css>; rel=preload' });
      stream.respond({ ':status': 200, 'set-cookie': ['a=1', 'b=2'], 'x-a': 'v' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'abc' }));
      stream.end('hello');
    } else if (path === '/echo') {
      stream.respond({ ':status': 200 });
      stream.pipe(stream);
    } else if (path.startsWith('/big/')) {
      stream.respond({ ':status': 200 });
      pump(stream, Number(path.slice(5)));
    } else if (path === '/hold' || path === '/hold-data') {
      held.push(stream);
      if (path === '/hold-data') {
        stream.respond({ ':status': 200 });
        stream.write('first');
      }
      for (const w of waiters.splice(0)) w();
    } else if (path === '/rst') {
      stream.respond({ ':status': 200 });
      stream.write('partial', () => stream.destroy(new Error('server handler failed')));
    } else if (path === '/refuse') {
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    } else if (path === '/huge-headers') {
      stream.respond({ ':status': 200, 'x-big': 'b'.repeat(2000) });
      stream.end('x');
    } else if (path === '/early') {
      stream.respond({ ':status': 413 });
      stream.end('too large');
    } else {
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.end('ok');
    }
  }, options);
  const heldCount = async (n: number): Promise<void> => {
    while (held.length < n) await new Promise<void>(resolve => waiters.push(resolve));
  };
  return { ...s, held, heldCount };
}

/** Answers a held server stream with 200 and `body`. */
export function answer(stream: ServerHttp2Stream, body = 'ok'): void {
  if (!stream.headersSent) stream.respond({ ':status': 200 });
  stream.end(body);
}

/** Dials 127.0.0.1:port as the transport does: TCP, or TLS offering ALPN h2 and verifying the test CA. */
export async function dial(port: number, secure = false, alpn: string[] = ['h2']): Promise<net.Socket> {
  const socket = secure
    ? tls.connect({ host: '127.0.0.1', port, ca: CA, ALPNProtocols: alpn })
    : net.connect({ host: '127.0.0.1', port });
  await once(socket, secure ? 'secureConnect' : 'connect');
  socket.setNoDelay(true);
  return socket;
}

/** What a session reported to its listener. */
export interface Recorder {
  readonly listener: SessionListener;
  /** Listener calls in order: 'ready', 'capacity', 'draining', 'close'. */
  readonly calls: string[];
  readonly ready: Promise<void>;
  readonly draining: Promise<{ readonly goaway?: GoawayInfo; readonly reason: string }>;
  readonly closed: Promise<RxconnError>;
}

/** A listener recording every call; `onCapacity` also calls `onCapacity` when given. */
export function recorder(onCapacity?: () => void): Recorder {
  const calls: string[] = [];
  let ready!: () => void;
  let draining!: (detail: { readonly goaway?: GoawayInfo; readonly reason: string }) => void;
  let closed!: (error: RxconnError) => void;
  const r: Recorder = {
    calls,
    ready: new Promise(resolve => (ready = resolve)),
    draining: new Promise(resolve => (draining = resolve)),
    closed: new Promise(resolve => (closed = resolve)),
    listener: {
      onReady: () => {
        calls.push('ready');
        ready();
      },
      onCapacity: () => {
        calls.push('capacity');
        onCapacity?.();
      },
      onDraining: detail => {
        calls.push('draining');
        draining(detail);
      },
      onClose: error => {
        calls.push('close');
        closed(error);
      },
    },
  };
  return r;
}

/** A session on a fresh socket to `server`, with its recorder; resolves once ready. */
export async function connectSession(
  server: H2Server,
  options: ConnectionOptions = {},
  onCapacity?: () => void,
): Promise<{ session: Session; socket: net.Socket; rec: Recorder }> {
  const secure = server.origin.startsWith('https');
  const socket = await dial(server.port, secure);
  const rec = recorder(onCapacity);
  const session = createHttp2Session(
    socket,
    resolveOptions(server.origin, { protocols: ['http2'], keepalive: false, tls: secure ? { ca: CA } : undefined, ...options }),
    rec.listener,
  );
  await rec.ready;
  return { session, socket, rec };
}

/** One response as a sink collected it. */
export interface Outcome {
  readonly events: ResponseEvent[];
  readonly error?: Error;
  readonly status?: number;
  readonly text: string;
  /** Handed back as never processed (`StreamSink.unprocessed`). */
  readonly unprocessed?: boolean;
}

/** A request started on `session`: its outcome, and the cancel function. */
export interface Started {
  readonly done: Promise<Outcome>;
  /** Whether the sink got its last call. */
  readonly settled: () => boolean;
  readonly events: ResponseEvent[];
  readonly cancel: () => void;
}

/** Starts `init` on `session` (which must be able to start) and collects its events; `sink.informs` as `StreamSink.informs`. */
export function send(session: Session, init: RequestInit = {}, sink: { informs?: boolean } = {}): Started {
  const events: ResponseEvent[] = [];
  let settled = false;
  let finish!: (outcome: Outcome) => void;
  const done = new Promise<Outcome>(resolve => (finish = resolve));
  const outcome = (error?: Error): Outcome => {
    const head = events.find(e => e.type === 'response');
    const chunks = events.flatMap(e => (e.type === 'data' ? [Buffer.from(e.data)] : []));
    return { events, error, status: head?.type === 'response' ? head.status : undefined, text: Buffer.concat(chunks).toString('utf8') };
  };
  const stream = session.start(prepareRequest(init), {
    ...sink,
    next: event => {
      if (settled) throw new Error(`event after the end: ${event.type}`);
      events.push(event);
    },
    error: error => {
      if (settled) throw new Error('second terminal call: error');
      settled = true;
      finish(outcome(error));
    },
    complete: () => {
      if (settled) throw new Error('second terminal call: complete');
      settled = true;
      finish(outcome());
    },
    unprocessed: error => {
      if (settled) throw new Error('second terminal call: unprocessed');
      settled = true;
      finish({ ...outcome(error), unprocessed: true });
    },
  });
  return { done, settled: () => settled, events, cancel: () => stream.cancel() };
}

/** Writes `total` bytes in 16 KiB chunks, respecting backpressure, then ends (or keeps the stream open when `end` is false). */
export function pump(stream: ServerHttp2Stream, total: number, end = true): void {
  const chunk = Buffer.alloc(16_384, 'x');
  let left = total;
  const go = (): void => {
    while (left > 0 && !stream.destroyed) {
      const size = Math.min(left, chunk.length);
      left -= size;
      const slice = chunk.subarray(0, size);
      if (left === 0 && end) {
        stream.end(slice);
        return;
      }
      if (!stream.write(slice)) {
        stream.once('drain', go);
        return;
      }
    }
  };
  go();
}

/** A TCP proxy to `targetPort`; `stall()` stops forwarding on the connections open now (a dead path), new ones still pass. */
export interface StallProxy {
  readonly port: number;
  readonly origin: string;
  stall(): void;
  close(): Promise<void>;
}

export async function startStallProxy(targetPort: number): Promise<StallProxy> {
  const sockets = new Set<net.Socket>();
  const stallers = new Set<() => void>();
  const server = net.createServer(client => {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    let stalled = false;
    const stall = (): void => {
      stalled = true;
    };
    stallers.add(stall);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    client.on('data', data => {
      if (!stalled) upstream.write(data);
    });
    upstream.on('data', data => {
      if (!stalled) client.write(data);
    });
    client.on('close', () => {
      stallers.delete(stall);
      upstream.destroy();
    });
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    stall: () => {
      for (const stall of stallers) stall();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>(resolve => server.close(() => resolve()));
    },
  };
}

/** A scripted raw TCP peer: `onConnection` runs for every accepted socket. */
export async function startRawServer(onConnection: (socket: net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer(socket => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    onConnection(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>(resolve => server.close(() => resolve()));
    },
  };
}

/** Counts of the active libuv resources the tests care about (sockets and timers). */
export function resourceCounts(): { sockets: number; timers: number } {
  const info = process.getActiveResourcesInfo();
  return {
    sockets: info.filter(r => r === 'TCPSocketWrap' || r === 'TLSWrap').length,
    timers: info.filter(r => r === 'Timeout').length,
  };
}

/** Lets closed handles finish closing (one event-loop turn), then checks that no socket or timer was added since `before`. */
export async function expectNothingLeft(before: { sockets: number; timers: number }): Promise<{ sockets: number; timers: number }> {
  await new Promise(resolve => setImmediate(resolve));
  await new Promise(resolve => setImmediate(resolve));
  const now = resourceCounts();
  if (now.sockets > before.sockets || now.timers > before.timers) {
    throw new Error(`resources left open: ${JSON.stringify(now)} (before: ${JSON.stringify(before)}): ${process.getActiveResourcesInfo().join(', ')}`);
  }
  return now;
}

/** Resolves once `socket` has closed (at once if it already has). */
export async function socketClosed(socket: net.Socket): Promise<void> {
  if (socket.closed) return;
  await once(socket, 'close');
}
