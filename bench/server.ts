/**
 * The bench server process: node:http, node:http2 (h2c and TLS) and a ws server on 127.0.0.1,
 * started by bench/run.ts (pinned to its own core) and driven over the IPC channel.
 *
 * HTTP: `GET /<size>` answers 200 with `size` bytes (64 or 65536, preallocated); `GET /json/<size>`
 * with a JSON document of `size` bytes ({@link jsonBody}).
 * WebSocket: one endpoint speaking the command protocol described at {@link WS}.
 */
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createSecureServer, createServer as createH2cServer } from 'node:http2';
import type { Http2Server, Http2SecureServer, ServerHttp2Stream } from 'node:http2';
import type { AddressInfo, Server } from 'node:net';
import { WebSocketServer } from 'ws';
import type { RawData, WebSocket } from 'ws';
import { SIZES, WS, jsonBody, tlsFixtures } from './common.js';
import type { FromServer, Ports, ToServer } from './common.js';

const bodies = new Map<string, Buffer>([
  ...SIZES.map((size): [string, Buffer] => [`/${size}`, Buffer.alloc(size, 0x78)]),
  ...SIZES.map((size): [string, Buffer] => [`/json/${size}`, jsonBody(size)]),
]);
let connections = 0;
let requests = 0;

function send(message: FromServer): void {
  process.send?.(message);
}

function onHttp1Request(req: IncomingMessage, res: ServerResponse): void {
  requests++;
  const body = bodies.get(req.url ?? '');
  if (!body) {
    res.writeHead(404, { 'content-length': '0' }).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
  res.end(body);
}

function onH2Stream(stream: ServerHttp2Stream, headers: Record<string, string | string[] | undefined>): void {
  requests++;
  const path = headers[':path'];
  const body = typeof path === 'string' ? bodies.get(path) : undefined;
  stream.on('error', () => undefined); // a client reset is not a server failure
  if (!body) {
    stream.respond({ ':status': 404 }, { endStream: true });
    return;
  }
  stream.respond({ ':status': 200, 'content-type': 'application/octet-stream', 'content-length': body.length });
  stream.end(body);
}

function onWsConnection(ws: WebSocket, req: IncomingMessage): void {
  connections++;
  ws.on('error', () => undefined);
  if (req.url !== WS.path) {
    ws.close(1008, 'unknown path');
    return;
  }
  let mode: 'echo' | 'sink' = 'echo';
  let count = 0;
  ws.on('message', (data: RawData, isBinary: boolean) => {
    if (isBinary) {
      requests++;
      if (mode === 'echo') ws.send(data, { binary: true });
      else if (++count % WS.ackEvery === 0) ws.send(`#ack ${count}`);
      return;
    }
    const text = String(data);
    if (text === WS.echo || text === WS.sink) {
      mode = text === WS.echo ? 'echo' : 'sink';
      count = 0;
      ws.send(WS.ok);
    } else if (text.startsWith('#push ')) {
      const [, n, size] = text.split(' ');
      pump(ws, Number(n), Buffer.alloc(Number(size), 0x78));
    } else if (mode === 'echo') {
      ws.send(text);
    }
  });
}

/** Sends `count` messages, keeping at most ~1 MiB in the socket's send buffer. */
function pump(ws: WebSocket, count: number, payload: Buffer): void {
  let sent = 0;
  const more = (): void => {
    while (sent < count && ws.readyState === ws.OPEN) {
      sent++;
      requests++;
      if (ws.bufferedAmount > 1 << 20) {
        ws.send(payload, { binary: true }, more);
        return;
      }
      ws.send(payload, { binary: true });
    }
  };
  more();
}

function listen(server: Server | Http2Server | Http2SecureServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

async function main(): Promise<void> {
  const { cert, key } = tlsFixtures();
  const http1 = createHttpServer({ keepAliveTimeout: 120_000 }, onHttp1Request);
  http1.on('connection', () => connections++);
  const h2settings = { maxConcurrentStreams: 1000 };
  const h2c = createH2cServer({ settings: h2settings });
  h2c.on('stream', onH2Stream);
  h2c.on('session', () => connections++);
  const h2tls = createSecureServer({ cert, key, allowHTTP1: false, settings: h2settings });
  h2tls.on('stream', onH2Stream);
  h2tls.on('session', () => connections++);
  const wsHttp = createHttpServer();
  const wss = new WebSocketServer({ server: wsHttp, maxPayload: 1 << 20 });
  wss.on('connection', onWsConnection);

  const ports: Ports = {
    http1: await listen(http1),
    h2c: await listen(h2c),
    h2tls: await listen(h2tls),
    ws: await listen(wsHttp),
  };

  const stop = (): void => {
    // No graceful close needed: the parent is done with us.
    process.exit(0);
  };
  process.on('message', (message: ToServer) => {
    if (message.type === 'stop') stop();
    else if (message.type === 'stats') {
      const cpu = process.cpuUsage();
      send({ type: 'stats', id: message.id, stats: { cpuMicros: cpu.user + cpu.system, connections, requests } });
    }
  });
  // The parent died or closed the channel: never outlive it.
  process.on('disconnect', stop);
  send({ type: 'ready', ports });
}

main().catch((error: unknown) => {
  console.error('bench server failed:', error);
  process.exit(1);
});
