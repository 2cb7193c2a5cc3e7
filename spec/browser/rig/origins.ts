/**
 * Test origins for the browser suite, run in Node by Vitest browser commands: HTTP/1.1 (with a
 * `ws` echo server on the same port) or HTTP/2 over TLS, on 127.0.0.1, with CORS, a log of what
 * the server saw, and faults (stop and restart on the same port, kill WebSocket clients, destroy
 * HTTP/2 sessions, die mid-body). The registry lives on `globalThis` so that the commands and the
 * global teardown reach the same origins whatever module instance loads this file.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';

export type OriginKind = 'http1' | 'h2';

/** What a test gets back from `startOrigin`. */
export interface OriginHandle {
  readonly id: number;
  readonly url: string;
  readonly wsUrl: string;
  readonly port: number;
}

interface Origin {
  readonly id: number;
  readonly kind: OriginKind;
  port: number;
  readonly server: http.Server | http2.Http2SecureServer;
  readonly sockets: Set<Socket>;
  readonly sessions: Set<http2.ServerHttp2Session>;
  readonly wss: WebSocketServer | undefined;
  /** What the server saw, in order: `GET /path`, `aborted /path`, `ws open`, `ws close 1000`... */
  readonly log: string[];
  /** Requests whose response has not ended. */
  open: number;
  /** WebSocket clients connected now. */
  readonly clients: () => number;
  listening: boolean;
}

const KEY = Symbol.for('rxconn.browser-origins');
type Registry = { next: number; origins: Map<number, Origin> };
const registry: Registry = ((globalThis as Record<symbol, unknown>)[KEY] as Registry | undefined) ?? { next: 1, origins: new Map() };
(globalThis as Record<symbol, unknown>)[KEY] = registry;

const fixture = (name: string): Buffer => readFileSync(new URL(`../../fixtures/${name}`, import.meta.url));

const CORS: Record<string, string> = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
  'access-control-allow-headers': '*',
  'access-control-expose-headers': '*',
  'access-control-max-age': '600',
  'timing-allow-origin': '*',
};

type Req = http.IncomingMessage | http2.Http2ServerRequest;
/** Both servers' responses, through the methods they share (HTTP/2's compatibility API mirrors HTTP/1.1's). */
type Res = http.ServerResponse;

function handler(origin: () => Origin) {
  return (req: Req, res: Res): void => {
    const o = origin();
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    for (const [k, v] of Object.entries(CORS)) res.setHeader(k, v);
    if (req.method === 'OPTIONS') {
      res.writeHead(204);
      res.end();
      return;
    }
    o.log.push(`${req.method} ${path}`);
    o.open++;
    res.on('close', () => {
      o.open--;
      // Closed before the handler ended the response: the client went away (or the connection died).
      if (!res.writableEnded) o.log.push(`aborted ${path}`);
    });
    const version = `HTTP/${req.httpVersion}`;
    switch (path) {
      case '/':
      case '/hello':
        res.writeHead(200, { 'content-type': 'text/plain', 'x-version': version });
        res.end(req.method === 'HEAD' ? '' : `hello over ${version}`);
        return;
      case '/json':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true, query: url.searchParams.get('q') }));
        return;
      case '/echo': {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'text/plain', 'x-method': req.method ?? '', 'x-seen-header': String(req.headers['x-test'] ?? '') });
          res.end(Buffer.concat(chunks));
        });
        return;
      }
      case '/status':
        res.writeHead(Number(url.searchParams.get('code') ?? 500), { 'content-type': 'text/plain' });
        res.end('status');
        return;
      case '/slow': {
        const timer = setTimeout(() => {
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end('slow done');
        }, Number(url.searchParams.get('ms') ?? 200));
        res.on('close', () => clearTimeout(timer));
        return;
      }
      case '/stream': {
        // Never ends by itself: a chunk every 20 ms until the client goes away.
        res.writeHead(200, { 'content-type': 'text/plain' });
        let n = 0;
        const timer = setInterval(() => res.write(`chunk ${n++}\n`), 20);
        res.write(`chunk ${n++}\n`);
        res.on('close', () => clearInterval(timer));
        return;
      }
      case '/sse': {
        // An event stream of the given bytes (base64url), whole, then the end; the log keeps the
        // Last-Event-ID each request carried (a browser's EventSource reconnects after the end),
        // read as the UTF-8 it is sent in (node gives header bytes as latin1 characters).
        const id = req.headers['last-event-id'];
        o.log.push(`sse last-event-id=${typeof id === 'string' ? Buffer.from(id, 'latin1').toString('utf8') : '(none)'}`);
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
        res.end(Buffer.from(url.searchParams.get('body') ?? '', 'base64url'));
        return;
      }
      case '/die':
        // Headers and one chunk, then the connection dies mid-body.
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial');
        setTimeout(() => {
          if ('stream' in req) req.stream.session?.destroy();
          else req.socket.destroy();
        }, 50);
        return;
      default:
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
    }
  };
}

function listen(o: Origin, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    o.server.once('error', reject);
    o.server.listen(port, '127.0.0.1', () => {
      o.server.off('error', reject);
      o.port = (o.server.address() as { port: number }).port;
      o.listening = true;
      resolve();
    });
  });
}

/** Starts an origin on 127.0.0.1, port 0. */
export async function startOrigin(kind: OriginKind): Promise<OriginHandle> {
  const id = registry.next++;
  const box: { origin?: Origin } = {};
  const handle = handler(() => box.origin!);
  const server =
    kind === 'h2'
      ? http2.createSecureServer({ key: fixture('server.key'), cert: fixture('server.pem'), allowHTTP1: true }, handle as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void)
      : http.createServer(handle);
  const sockets = new Set<Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  if (kind === 'h2') {
    (server as http2.Http2SecureServer).on('session', session => {
      sessions.add(session);
      session.on('close', () => sessions.delete(session));
    });
  }
  const log: string[] = [];
  const wss = kind === 'http1' ? new WebSocketServer({ server: server as http.Server }) : undefined;
  wss?.on('connection', ws => {
    log.push('ws open');
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    ws.on('close', code => log.push(`ws close ${code}`));
  });
  const origin: Origin = { id, kind, port: 0, server, sockets, sessions, wss, log, open: 0, clients: () => wss?.clients.size ?? 0, listening: false };
  box.origin = origin;
  registry.origins.set(id, origin);
  await listen(origin, 0);
  return describeOrigin(origin);
}

function describeOrigin(o: Origin): OriginHandle {
  const scheme = o.kind === 'h2' ? 'https' : 'http';
  return { id: o.id, port: o.port, url: `${scheme}://127.0.0.1:${o.port}`, wsUrl: `${scheme === 'https' ? 'wss' : 'ws'}://127.0.0.1:${o.port}` };
}

function get(id: number): Origin {
  const o = registry.origins.get(id);
  if (!o) throw new Error(`no test origin ${id}`);
  return o;
}

/** Drops every connection of the origin at once, without a word (no close frame, no GOAWAY). */
function dropAll(o: Origin): void {
  for (const client of o.wss?.clients ?? []) client.terminate();
  for (const session of o.sessions) session.destroy();
  for (const socket of o.sockets) socket.destroy();
}

/** The origin dies: it stops listening and drops every connection. */
export async function stopOrigin(id: number): Promise<void> {
  const o = get(id);
  if (!o.listening) return;
  o.listening = false;
  const closed = new Promise<void>(resolve => o.server.close(() => resolve()));
  dropAll(o);
  await closed;
}

/** The origin comes back on the same port. */
export async function restartOrigin(id: number): Promise<void> {
  const o = get(id);
  if (!o.listening) await listen(o, o.port);
}

/** Terminates every WebSocket client (the browser sees 1006). */
export function killWebSockets(id: number): number {
  const o = get(id);
  const n = o.clients();
  for (const client of o.wss?.clients ?? []) client.terminate();
  return n;
}

/** Destroys every HTTP/2 session (no GOAWAY). */
export function destroySessions(id: number): number {
  const o = get(id);
  const n = o.sessions.size;
  for (const session of o.sessions) session.destroy();
  return n;
}

/** What the origin saw, and what is still open on it. */
export function originState(id: number): { log: string[]; open: number; clients: number; sockets: number; sessions: number } {
  const o = get(id);
  return { log: [...o.log], open: o.open, clients: o.clients(), sockets: o.sockets.size, sessions: o.sessions.size };
}

/** Closes the origin for good. */
export async function closeOrigin(id: number): Promise<void> {
  const o = registry.origins.get(id);
  if (!o) return;
  registry.origins.delete(id);
  await new Promise<void>(resolve => {
    o.wss?.close();
    if (!o.listening) return resolve();
    o.server.close(() => resolve());
    dropAll(o);
  });
}

/** Closes every origin still open (the global teardown). */
export async function closeAllOrigins(): Promise<void> {
  await Promise.all([...registry.origins.keys()].map(closeOrigin));
}
