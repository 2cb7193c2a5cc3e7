/**
 * Just enough HTTP/2 framing to script a misbehaving raw peer: frame encoding, HPACK literals
 * without indexing, and a reader that reports the client's HEADERS frames.
 */
import type { Socket } from 'node:net';

export const FRAME = { DATA: 0x0, HEADERS: 0x1, SETTINGS: 0x4, PING: 0x6, GOAWAY: 0x7, CONTINUATION: 0x9 } as const;
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;
const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

/** One frame: 9-byte header, then the payload. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** An HPACK integer with an `prefix`-bit prefix, the first byte's high bits set to `high`. */
function hpackInt(value: number, prefix: number, high: number): Buffer {
  const max = (1 << prefix) - 1;
  if (value < max) return Buffer.from([high | value]);
  const bytes = [high | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/** `:status: 200` from the static table. */
export const STATUS_200 = Buffer.from([0x88]);

/** An HPACK literal header field without indexing, new name, no Huffman coding. */
export function literal(name: string, value: string): Buffer {
  const n = Buffer.from(name, 'latin1');
  const v = Buffer.from(value, 'latin1');
  return Buffer.concat([Buffer.from([0x00]), hpackInt(n.length, 7, 0), n, hpackInt(v.length, 7, 0), v]);
}

/**
 * Plays the server side of the connection preface on `socket` (our SETTINGS, and an ACK of the
 * client's unless `ackSettings` is false) and calls `onHeaders` with the stream id of each
 * HEADERS frame the client sends.
 */
export function serveFrames(socket: Socket, onHeaders: (streamId: number) => void, { ackSettings = true } = {}): void {
  let buffer = Buffer.alloc(0);
  let prefaceSeen = false;
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    if (!prefaceSeen) {
      if (buffer.length < PREFACE.length) return;
      if (buffer.subarray(0, PREFACE.length).toString('latin1') !== PREFACE) {
        socket.destroy();
        return;
      }
      prefaceSeen = true;
      buffer = buffer.subarray(PREFACE.length);
      socket.write(frame(FRAME.SETTINGS, 0, 0));
    }
    while (buffer.length >= 9) {
      const length = buffer.readUIntBE(0, 3);
      if (buffer.length < 9 + length) return;
      const type = buffer[3];
      const flags = buffer[4];
      const streamId = buffer.readUInt32BE(5) & 0x7fffffff;
      buffer = buffer.subarray(9 + length);
      if (type === FRAME.SETTINGS && !(flags & FLAG.ACK) && ackSettings) socket.write(frame(FRAME.SETTINGS, FLAG.ACK, 0));
      if (type === FRAME.HEADERS) onHeaders(streamId);
    }
  });
}
