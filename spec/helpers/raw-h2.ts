/**
 * Just enough HTTP/2 to script a peer by hand: frame bytes, and the frames in a byte stream.
 */
import { once } from 'node:events';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** The client connection preface (RFC 9113 §3.4). */
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** Frame types used by the scripts. */
export const FRAME = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8 } as const;

/** One frame's bytes. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head.writeUInt8(type, 3);
  head.writeUInt8(flags, 4);
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** A GOAWAY frame. */
export function goaway(lastStreamId: number, errorCode: number): Buffer {
  const payload = Buffer.alloc(8);
  payload.writeUInt32BE(lastStreamId, 0);
  payload.writeUInt32BE(errorCode, 4);
  return frame(FRAME.GOAWAY, 0, 0, payload);
}

/** A parsed frame. */
export interface RawFrame {
  readonly type: number;
  readonly flags: number;
  readonly streamId: number;
  readonly payload: Buffer;
}

/** The whole frames in `bytes` (after the client preface, when it starts with it). */
export function framesOf(bytes: Buffer): RawFrame[] {
  let at = bytes.subarray(0, PREFACE.length).equals(PREFACE) ? PREFACE.length : 0;
  const frames: RawFrame[] = [];
  while (at + 9 <= bytes.length) {
    const length = bytes.readUIntBE(at, 3);
    if (at + 9 + length > bytes.length) break;
    frames.push({ type: bytes[at + 3], flags: bytes[at + 4], streamId: bytes.readUInt32BE(at + 5) & 0x7fffffff, payload: bytes.subarray(at + 9, at + 9 + length) });
    at += 9 + length;
  }
  return frames;
}

/** A raw TCP peer on 127.0.0.1: `script` runs for each connection; `received` collects the bytes of each. */
export async function rawPeer(script: (socket: net.Socket, received: () => Buffer) => void): Promise<{ port: number; received: Buffer[]; sockets: net.Socket[]; close: () => Promise<void> }> {
  const received: Buffer[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer(socket => {
    const index = received.push(Buffer.alloc(0)) - 1;
    sockets.push(socket);
    socket.on('data', chunk => (received[index] = Buffer.concat([received[index], chunk])));
    socket.on('error', () => {});
    script(socket, () => received[index]);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    received,
    sockets,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
