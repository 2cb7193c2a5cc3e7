/**
 * The local server the README's runnable examples are run against: one port that speaks
 * HTTP/1.1 (with WebSocket upgrades on `/chat`) and prior-knowledge HTTP/2 (h2c), told apart by
 * the first bytes of each connection, so that every example can use one origin.
 */
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { WebSocketServer } from 'ws';
import { trackSockets } from './servers.js';

/** The HTTP/2 client preface starts with this. */
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0');

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

/**
 * `/items`: GET a JSON list, POST creates (201, JSON); `/items/N`: PUT 201, PATCH 200, HEAD 200,
 * DELETE 204; `/slow` never answers (until the server closes); anything else 404.
 */
function handle(req: Req, res: Res): void {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const send = (status: number, body?: unknown): void => {
      res.statusCode = status;
      if (body === undefined) {
        res.end();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(body));
    };
    if (req.url === '/slow') return;
    if (req.url === '/items') {
      if (req.method === 'GET') return send(200, [{ id: 1, name: 'pen' }]);
      if (req.method === 'POST') return send(201, { id: 2, ...(JSON.parse(Buffer.concat(chunks).toString('utf8')) as object) });
    }
    if (/^\/items\/\d+$/.test(req.url ?? '')) {
      const status = { PUT: 201, PATCH: 200, HEAD: 200, DELETE: 204 }[req.method ?? ''];
      if (status !== undefined) return send(status, status === 204 || req.method === 'HEAD' ? undefined : { ok: true });
    }
    send(404, { error: 'not found' });
  });
}

export interface ReadmeServer {
  readonly port: number;
  /** Connections that spoke HTTP/2 and HTTP/1.1 so far. */
  readonly seen: { h2: number; h1: number };
  close(): Promise<void>;
}

/** Starts the server on 127.0.0.1, port 0. `/chat` echoes every WebSocket message. */
export async function startReadmeServer(): Promise<ReadmeServer> {
  const h1 = http.createServer(handle);
  const h2 = http2.createServer(handle);
  const sessions = new Set<http2.ServerHttp2Session>();
  h2.on('session', session => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  const wss = new WebSocketServer({ server: h1, path: '/chat' });
  wss.on('connection', ws => ws.on('message', (data, binary) => ws.send(binary ? data : data.toString())));
  const seen = { h2: 0, h1: 0 };
  const front = net.createServer(socket => {
    socket.once('readable', () => {
      const first = socket.read() as Buffer | null;
      if (first === null) return; // closed before a byte: nothing to serve
      socket.unshift(first);
      const isH2 = first.subarray(0, H2_PREFACE.length).equals(H2_PREFACE);
      if (isH2) seen.h2++;
      else seen.h1++;
      (isH2 ? h2 : h1).emit('connection', socket);
    });
  });
  const { stop } = trackSockets(front);
  front.listen(0, '127.0.0.1');
  await once(front, 'listening');
  return {
    port: (front.address() as net.AddressInfo).port,
    seen,
    close: async () => {
      for (const session of sessions) session.destroy();
      for (const client of wss.clients) client.terminate();
      wss.close();
      await stop();
    },
  };
}
