/**
 * Backpressure (Gun's `flow`): `pullBody` reads a response as an async iterable that pauses it on
 * the wire while the loop is not pulling. Against real node:http / node:http2 servers that write
 * a large body honouring `write()`'s backpressure, so the server itself shows whether the client
 * stopped reading (its drain stays pending).
 */
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { open, pullBody } from '../lib/index.js';
import type { Connection } from '../lib/index.js';

const CHUNK = 64 * 1024;
/** Larger than any loopback socket buffers plus the 1 MiB HTTP/2 stream window. */
const TOTAL = 48 * 1024 * 1024;

/** Byte `i` of the body: a pattern that shows any loss or reordering. */
function pattern(offset: number, length: number): Buffer {
  const chunk = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) chunk[i] = (offset + i) % 251;
  return chunk;
}

/** What the server's writer of one response tells the test. */
interface Writer {
  written: number;
  /** `write()` returned false and 'drain' has not come yet. */
  waiting: boolean;
  finished: boolean;
  closed: Promise<void>;
  /** The response was closed before the body was written out (a cancel). */
  aborted: boolean;
  /** HTTP/2: the RST_STREAM code the stream closed with. */
  rstCode?: number;
}

/** Writes TOTAL bytes to `out`, waiting for 'drain' whenever `write()` returns false. */
function writeBody(out: Writable & { once(event: 'close', listener: () => void): unknown }, writer: Writer): void {
  let stopped = false;
  out.once('close', () => {
    stopped = true;
    writer.aborted = !writer.finished;
  });
  const pump = (): void => {
    writer.waiting = false;
    while (!stopped && writer.written < TOTAL) {
      const length = Math.min(CHUNK, TOTAL - writer.written);
      const more = out.write(pattern(writer.written, length));
      writer.written += length;
      if (!more) {
        writer.waiting = true;
        out.once('drain', pump);
        return;
      }
    }
    if (!stopped) {
      writer.finished = true;
      out.end();
    }
  };
  pump();
}

interface Server {
  readonly origin: string;
  /** The writer of the next response. */
  next(): Promise<Writer>;
  close(): Promise<void>;
}

async function startServer(protocol: 'http1' | 'http2'): Promise<Server> {
  const writers: Array<(writer: Writer) => void> = [];
  const pending: Writer[] = [];
  const handle = (out: Writable & { once(event: 'close', listener: () => void): unknown }, rst?: () => number): void => {
    let closedResolve!: () => void;
    const writer: Writer = { written: 0, waiting: false, finished: false, aborted: false, closed: new Promise(resolve => (closedResolve = resolve)) };
    out.once('close', () => {
      if (rst) writer.rstCode = rst();
      closedResolve();
    });
    writeBody(out, writer);
    const waiter = writers.shift();
    if (waiter) waiter(writer);
    else pending.push(writer);
  };
  const server =
    protocol === 'http1'
      ? http.createServer((_request, response) => handle(response))
      : http2.createServer().on('stream', stream => {
          stream.respond({ ':status': 200 });
          handle(stream, () => stream.rstCode);
        });
  const sockets = new Set<{ destroy(): void }>();
  server.on('connection', (socket: { destroy(): void; once(event: 'close', listener: () => void): unknown }) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    next: () => {
      const writer = pending.shift();
      return writer ? Promise.resolve(writer) : new Promise(resolve => writers.push(resolve));
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/**
 * Waits until the server's writer has stalled: its drain has stayed pending for many event-loop
 * turns (each turn polls both sockets, so a client still reading would have drained it), or it
 * has written the whole body (the client did not hold it back). Bounded.
 */
async function stalled(writer: Writer): Promise<boolean> {
  let quiet = 0;
  for (let turn = 0; turn < 100_000 && !writer.finished; turn++) {
    const before = writer.written;
    await new Promise(resolve => setImmediate(resolve));
    quiet = writer.waiting && writer.written === before ? quiet + 1 : 0;
    if (quiet >= 200) return true;
  }
  return false;
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(protocol: 'http1' | 'http2'): Promise<{ server: Server; conn: Connection }> {
  const server = await startServer(protocol);
  cleanups.push(() => server.close());
  const conn = open(server.origin, protocol === 'http2' ? { protocols: ['http2'] } : {});
  cleanups.push(async () => {
    conn.close();
    await conn.whenClosed();
  });
  return { server, conn };
}

describe.each(['http1', 'http2'] as const)('pullBody over %s', protocol => {
  // gun: flow_SUITE flow_http2 and its HTTP/1.1 counterpart (a credit that stops reading; here: not pulling)
  it('yields every byte in order, and the server blocks while the loop does not pull', async () => {
    const { server, conn } = await setup(protocol);
    const iterator = pullBody(flow => conn.get('/big', { flow }))[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    const writer = await server.next();
    // Not pulling: the server's write() returned false and its drain stays pending.
    expect(await stalled(writer)).toBe(true);
    expect(writer.finished).toBe(false);
    // What left the server is what the client holds: HTTP/2, the 1 MiB stream window (plus the
    // server's 16 KiB stream buffer and one chunk); HTTP/1.1, the loopback socket buffers
    // (3.75 MiB here, the kernel's to size).
    expect(writer.written).toBeLessThan(protocol === 'http2' ? 2 * 1024 * 1024 : TOTAL / 2);
    // Pulling again: the rest arrives, every byte in order.
    let offset = 0;
    const check = (chunk: Uint8Array): void => {
      expect(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).equals(pattern(offset, chunk.byteLength))).toBe(true);
      offset += chunk.byteLength;
    };
    check(first.value as Uint8Array);
    for (let result = await iterator.next(); !result.done; result = await iterator.next()) check(result.value);
    expect(offset).toBe(TOTAL);
    expect(writer.finished).toBe(true);
  });

  it('breaking out of the loop cancels the request on the wire', async () => {
    const { server, conn } = await setup(protocol);
    let chunks = 0;
    for await (const chunk of pullBody(flow => conn.get('/big', { flow }))) {
      expect(chunk.byteLength).toBeGreaterThan(0);
      if (++chunks === 3) break;
    }
    const writer = await server.next();
    await writer.closed;
    expect(writer.aborted).toBe(true);
    expect(writer.written).toBeLessThan(TOTAL);
    if (protocol === 'http2') expect(writer.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
    // The connection stays usable.
    const again = pullBody(flow => conn.get('/big', { flow }))[Symbol.asyncIterator]();
    expect((await again.next()).done).toBe(false);
    await again.return?.();
  });
});

describe('pullBody', () => {
  it('hands the head to onResponse; what it throws ends the loop and cancels the request', async () => {
    const { server, conn } = await setup('http2');
    const heads: number[] = [];
    const loop = async (): Promise<void> => {
      const onResponse = (status: number): void => {
        heads.push(status);
        throw new Error(`unexpected ${status}`);
      };
      for await (const _chunk of pullBody(flow => conn.get('/big', { flow }), { onResponse })) {
        throw new Error('no chunk may arrive after onResponse threw');
      }
    };
    await expect(loop()).rejects.toThrow('unexpected 200');
    expect(heads).toEqual([200]);
    const writer = await server.next();
    await writer.closed;
    expect(writer.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
  });
});
