/**
 * Origins for the tunnel tests: a cleartext HTTP/1.1 or h2c server (helpers/servers.ts) or an
 * HTTPS server speaking HTTP/2 and HTTP/1.1 by ALPN with the test certificate; every request's
 * headers are recorded, so a test can check what reached the origin.
 */
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import { WebSocketServer } from 'ws';
import { CERT } from './proxies.js';
import { startServer, trackSockets } from './servers.js';

export type OriginKind = 'http1' | 'h2c' | 'https';

export interface Origin {
  readonly kind: OriginKind;
  readonly origin: string;
  readonly port: number;
  /** The headers of every request received. */
  readonly seen: Array<Record<string, unknown>>;
  readonly requests: () => number;
  close(): Promise<void>;
}

/** `/slow` answers once `release` is called; `/echo-host` answers the host it got; the rest `hi <path>`. */
export interface OriginControls {
  release(): void;
}

function handler(seen: Array<Record<string, unknown>>, gate: { released: Promise<void> }): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (req, res) => {
    seen.push({ ...req.headers });
    if (req.url === '/slow') {
      res.write('first;');
      void gate.released.then(() => res.end('last'));
      return;
    }
    if (req.url === '/host') {
      res.end(String(req.headers.host ?? req.headers[':authority']));
      return;
    }
    res.end(`hi ${req.url}`);
  };
}

/** Starts an origin of `kind` on 127.0.0.1 (or `host`), with a WebSocket echo at `/ws` on HTTP/1.1 origins. */
export async function startOrigin(kind: OriginKind, host = '127.0.0.1'): Promise<Origin & OriginControls> {
  const seen: Array<Record<string, unknown>> = [];
  let release!: () => void;
  const gate = { released: new Promise<void>(resolve => (release = resolve)) };
  const onRequest = handler(seen, gate);
  if (kind !== 'https' && host === '127.0.0.1') {
    const server = await startServer(kind === 'h2c' ? 'http2' : 'http1', onRequest);
    const wss = kind === 'http1' ? attachEcho(server.server as http.Server) : undefined;
    return {
      kind,
      origin: server.origin,
      port: server.port,
      seen,
      requests: () => server.requests,
      release,
      close: async () => {
        wss?.close();
        await server.close();
      },
    };
  }
  const server: net.Server =
    kind === 'https'
      ? http2.createSecureServer({ ...CERT, allowHTTP1: true }, onRequest as never)
      : kind === 'h2c'
        ? http2.createServer(onRequest as never)
        : http.createServer(onRequest);
  const wss = server instanceof http.Server ? attachEcho(server) : undefined;
  const { stop } = trackSockets(server);
  server.listen(0, host);
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host;
  return {
    kind,
    origin: `${kind === 'https' ? 'https' : 'http'}://${shown}:${port}`,
    port,
    seen,
    requests: () => seen.length,
    release,
    close: async () => {
      wss?.close();
      await stop();
    },
  };
}

/** A ws echo server on `/ws` of an HTTP/1.1 server. */
function attachEcho(server: http.Server): WebSocketServer {
  const wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('connection', socket => socket.on('message', (data, binary) => socket.send(data, { binary })));
  return wss;
}
