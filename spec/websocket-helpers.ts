/**
 * Test peers for the WebSocket specs: a real ws `WebSocketServer` on a node:http server, and a
 * scripted raw peer that answers the handshake itself and reads and writes frames by hand (to
 * play servers that misbehave, and to look at the bytes the client sends).
 */
import { once } from 'node:events';
import { createHash } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { WebSocketServer } from 'ws';
import type { ServerOptions, WebSocket } from 'ws';
import { trackSockets } from './helpers/servers.js';

async function listen(server: net.Server, port = 0): Promise<number> {
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

/** A server-side WebSocket and what it received. */
export interface Peer {
  readonly ws: WebSocket;
  /** The path and query of the upgrade request. */
  readonly url: string;
  readonly messages: Array<string | Buffer>;
  /** The close frame it received: code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Resolves once `n` messages arrived. */
  received(n: number): Promise<void>;
}

export interface WsTestServer {
  readonly port: number;
  readonly origin: string;
  readonly url: string;
  readonly wss: WebSocketServer;
  /** WebSockets accepted so far. */
  readonly peers: Peer[];
  /** The next WebSocket accepted (or the last one, if it has not been awaited yet). */
  nextPeer(): Promise<Peer>;
  /** Stops listening and destroys every socket (no close frame): a crash, as the client sees it. */
  kill(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A ws `WebSocketServer` attached to a node:http server on 127.0.0.1:0. Plain HTTP requests are
 * answered with `method path`. `onPeer` scripts each accepted WebSocket; the default echoes.
 */
export async function startWsServer(options: Omit<ServerOptions, 'server' | 'port' | 'noServer'> = {}, onPeer: (peer: Peer) => void = echo): Promise<WsTestServer> {
  const server = http.createServer((req, res) => res.end(`${req.method} ${req.url}`));
  const wss = new WebSocketServer({ ...options, server });
  const { stop } = trackSockets(server);
  const peers: Peer[] = [];
  let waiting: Array<(peer: Peer) => void> = [];
  let unclaimed: Peer[] = [];
  wss.on('connection', (ws, req) => {
    const messages: Array<string | Buffer> = [];
    const watchers: Array<{ n: number; resolve: () => void }> = [];
    ws.on('message', (data, isBinary) => {
      messages.push(isBinary ? (data as Buffer) : data.toString());
      for (const w of [...watchers]) if (messages.length >= w.n) w.resolve();
    });
    ws.on('error', () => {});
    const closed = new Promise<{ code: number; reason: string }>(resolve => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    const peer: Peer = {
      ws,
      url: req.url ?? '',
      messages,
      closed,
      received: n =>
        messages.length >= n ? Promise.resolve() : new Promise(resolve => watchers.push({ n, resolve })),
    };
    peers.push(peer);
    onPeer(peer);
    const wake = waiting.shift();
    if (wake) wake(peer);
    else unclaimed.push(peer);
  });
  const port = await listen(server);
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    url: `ws://127.0.0.1:${port}`,
    wss,
    peers,
    nextPeer: () => {
      const ready = unclaimed.shift();
      return ready ? Promise.resolve(ready) : new Promise(resolve => waiting.push(resolve));
    },
    kill: stop,
    restart: async () => {
      waiting = [];
      unclaimed = [];
      await listen(server, port);
    },
    close: async () => {
      await stop();
      wss.close();
    },
  };
}

/** Echoes every message with its type. */
export function echo(peer: Peer): void {
  peer.ws.on('message', (data, isBinary) => peer.ws.send(data, { binary: isBinary }));
}

// ---- the raw peer ----

/** One frame as the raw peer read it. */
export interface Frame {
  readonly fin: boolean;
  readonly opcode: number;
  readonly masked: boolean;
  /** Unmasked payload. */
  readonly payload: Buffer;
}

/**
 * A server frame: unmasked and final unless told otherwise. Test-only (scripted peers): the
 * library never frames by hand.
 */
export function serverFrame(opcode: number, payload: Buffer | string = Buffer.alloc(0), options: { fin?: boolean; mask?: boolean } = {}): Buffer {
  const data = Buffer.from(typeof payload === 'string' ? Buffer.from(payload) : payload);
  const b0 = (options.fin === false ? 0 : 0x80) | opcode;
  const maskBit = options.mask ? 0x80 : 0;
  let header: Buffer;
  if (data.length < 126) header = Buffer.from([b0, maskBit | data.length]);
  else if (data.length < 65536) {
    header = Buffer.alloc(4);
    header[0] = b0;
    header[1] = maskBit | 126;
    header.writeUInt16BE(data.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = b0;
    header[1] = maskBit | 127;
    header.writeBigUInt64BE(BigInt(data.length), 2);
  }
  if (!options.mask) return Buffer.concat([header, data]);
  const key = Buffer.from([1, 2, 3, 4]);
  for (let i = 0; i < data.length; i++) data[i]! ^= key[i % 4]!;
  return Buffer.concat([header, key, data]);
}

/** A close frame payload: code and reason. */
export function closePayload(code: number, reason = ''): Buffer {
  const out = Buffer.alloc(2 + Buffer.byteLength(reason));
  out.writeUInt16BE(code, 0);
  out.write(reason, 2);
  return out;
}

/** Reads complete frames from `buffer`; returns them and the unread rest. */
function parseFrames(buffer: Buffer): { frames: Frame[]; rest: Buffer } {
  const frames: Frame[] = [];
  let offset = 0;
  for (;;) {
    if (buffer.length - offset < 2) break;
    const b0 = buffer[offset]!;
    const b1 = buffer[offset + 1]!;
    let length = b1 & 0x7f;
    let at = offset + 2;
    if (length === 126) {
      if (buffer.length < at + 2) break;
      length = buffer.readUInt16BE(at);
      at += 2;
    } else if (length === 127) {
      if (buffer.length < at + 8) break;
      length = Number(buffer.readBigUInt64BE(at));
      at += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    const maskEnd = at + (masked ? 4 : 0);
    if (buffer.length < maskEnd + length) break;
    const payload = Buffer.from(buffer.subarray(maskEnd, maskEnd + length));
    if (masked) for (let i = 0; i < payload.length; i++) payload[i]! ^= buffer[at + (i % 4)]!;
    frames.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, masked, payload });
    offset = maskEnd + length;
  }
  return { frames, rest: buffer.subarray(offset) };
}

/** The scripted side of one raw connection, after the 101. */
export interface RawPeer {
  readonly socket: net.Socket;
  /** Frames received so far. */
  readonly frames: Frame[];
  /** The request head the client sent. */
  readonly request: string;
  /** Resolves with the first frame (from now on, or already received) that matches. */
  frame(match: (frame: Frame) => boolean): Promise<Frame>;
}

export interface RawWsServer {
  readonly port: number;
  readonly origin: string;
  nextPeer(): Promise<RawPeer>;
  close(): Promise<void>;
}

/**
 * A raw TCP peer that answers every WebSocket handshake with a 101 (a correct
 * `sec-websocket-accept` unless `accept` is given; `after101` bytes in the same write), then
 * hands the socket to `script`. It never answers pings or close frames on its own. With
 * `lateRefusal`, the server's first upgrade request is answered 503 (keep-alive) after that many
 * ms instead, and the next request on the socket gets the 101. With `gate`, the 101 waits for
 * the promise it returns (the peer is handed out at once).
 */
export async function rawWsServer(
  script: (peer: RawPeer) => void = () => {},
  options: { after101?: Buffer; accept?: string; lateRefusal?: number; gate?: () => Promise<void> } = {},
): Promise<RawWsServer> {
  let requests = 0;
  const sockets = new Set<net.Socket>();
  let waiting: Array<(peer: RawPeer) => void> = [];
  const unclaimed: RawPeer[] = [];
  const server = net.createServer(socket => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
    let buffered: Buffer = Buffer.alloc(0);
    let peer: (RawPeer & { frames: Frame[] }) | undefined;
    const watchers: Array<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
    socket.on('data', chunk => {
      buffered = Buffer.concat([buffered, chunk]);
      if (!peer) {
        const end = buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const request = buffered.subarray(0, end).toString('latin1');
        buffered = buffered.subarray(end + 4);
        if (++requests === 1 && options.lateRefusal !== undefined) {
          // The very first upgrade is answered late, with a keep-alive refusal: the socket stays usable.
          setTimeout(() => socket.write('HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\n\r\nlate'), options.lateRefusal);
          return;
        }
        const key = /sec-websocket-key: *(.+)/i.exec(request)?.[1]?.trim() ?? '';
        const accept = options.accept ?? createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
        const switchProtocols = (): void => {
          socket.write(
            Buffer.concat([
              Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: ${accept}\r\n\r\n`),
              options.after101 ?? Buffer.alloc(0),
            ]),
          );
        };
        if (options.gate) void options.gate().then(switchProtocols);
        else switchProtocols();
        const frames: Frame[] = [];
        peer = {
          socket,
          frames,
          request,
          frame: match => {
            const found = frames.find(match);
            return found ? Promise.resolve(found) : new Promise(resolve => watchers.push({ match, resolve }));
          },
        };
        script(peer);
        const wake = waiting.shift();
        if (wake) wake(peer);
        else unclaimed.push(peer);
      }
      const { frames, rest } = parseFrames(buffered);
      buffered = rest;
      for (const frame of frames) {
        peer.frames.push(frame);
        for (const w of [...watchers]) {
          if (w.match(frame)) {
            watchers.splice(watchers.indexOf(w), 1);
            w.resolve(frame);
          }
        }
      }
    });
  });
  const port = await listen(server);
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    nextPeer: () => {
      const ready = unclaimed.shift();
      return ready ? Promise.resolve(ready) : new Promise(resolve => waiting.push(resolve));
    },
    close: async () => {
      waiting = [];
      const closed = once(server, 'close');
      server.close();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** Opcodes. */
export const OP = { text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;
