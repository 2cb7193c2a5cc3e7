/**
 * Backpressure on a WebSocket: `channel.pull()` reads messages as an async iterable that stops
 * reading the socket while the loop is behind. The ws server sends as fast as its socket takes
 * (a few messages in flight, the next on each send callback), so it shows whether the client
 * stopped reading: its send callbacks stop coming.
 */
import type { WebSocket } from 'ws';
import { describe, expect, it } from 'vitest';
import { open } from '../lib/index.js';
import { leakCheck } from './helpers/lifecycle.js';
import { startWsServer } from './websocket-helpers.js';

const SIZE = 64 * 1024;
/** Larger than the loopback socket buffers on both sides. */
const COUNT = 768;
const IN_FLIGHT = 4;

interface Sender {
  /** Messages whose send callback fired (written to the socket). */
  flushed: number;
  sent: number;
}

/** Sends COUNT binary messages, message `i` filled with `i % 256` and starting with `i`. */
function flood(ws: WebSocket, sender: Sender): void {
  const more = (): void => {
    while (sender.sent < COUNT && sender.sent - sender.flushed < IN_FLIGHT && ws.readyState === ws.OPEN) {
      const message = Buffer.alloc(SIZE, sender.sent % 256);
      message.writeUInt32BE(sender.sent, 0);
      sender.sent++;
      ws.send(message, error => {
        if (error) return;
        sender.flushed++;
        more();
      });
    }
  };
  more();
}

/** Waits until the sender's callbacks stop for many event-loop turns with messages in flight, or it sent them all. Bounded. */
async function stalled(sender: Sender): Promise<boolean> {
  let quiet = 0;
  for (let turn = 0; turn < 100_000 && sender.flushed < COUNT; turn++) {
    const before = sender.flushed;
    await new Promise(resolve => setImmediate(resolve));
    quiet = sender.flushed === before && sender.sent - sender.flushed === IN_FLIGHT ? quiet + 1 : 0;
    if (quiet >= 200) return true;
  }
  return false;
}

describe('WebSocketChannel.pull()', () => {
  // gun: flow_SUITE, its WebSocket case (a credit on messages that stops reading the socket; here: not pulling)
  it('yields messages in order, and the server sends block while the loop does not pull', async () => {
    const leaks = leakCheck();
    const sender: Sender = { flushed: 0, sent: 0 };
    const server = await startWsServer({ perMessageDeflate: false }, peer => flood(peer.ws, sender));
    const conn = open(server.origin);
    const iterator = conn.websocket('/feed').pull()[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    expect(await stalled(sender)).toBe(true);
    expect(sender.flushed).toBeLessThan(COUNT / 2);
    let expected = 0;
    const check = (message: string | Uint8Array): void => {
      const bytes = Buffer.from(message as Uint8Array);
      expect(bytes.length).toBe(SIZE);
      expect(bytes.readUInt32BE(0)).toBe(expected);
      expect(bytes[SIZE - 1]).toBe(expected % 256);
      expected++;
    };
    check(first.value as Uint8Array);
    while (expected < COUNT) {
      const result = await iterator.next();
      expect(result.done).toBe(false);
      check(result.value as Uint8Array);
    }
    // Leaving the loop unsubscribes: the last subscriber closes the WebSocket with 1000.
    await iterator.return?.();
    expect(await server.peers[0]!.closed).toEqual({ code: 1000, reason: '' });
    await conn.shutdown();
    await server.close();
    await leaks.check();
  });

  it('a push subscriber alongside sees the same messages; breaking out releases the pause', async () => {
    const sender: Sender = { flushed: 0, sent: 0 };
    const server = await startWsServer({ perMessageDeflate: false }, peer => flood(peer.ws, sender));
    const conn = open(server.origin);
    const channel = conn.websocket('/feed');
    let pushed = 0;
    const done = new Promise<void>(resolve => {
      channel.subscribe(() => {
        if (++pushed === COUNT) resolve();
      });
    });
    for await (const _message of channel.pull()) {
      // The loop is behind while it holds the first message: everybody waits.
      expect(await stalled(sender)).toBe(true);
      expect(pushed).toBeLessThan(COUNT);
      break;
    }
    // The push subscriber keeps the WebSocket open and now gets everything.
    await done;
    expect(pushed).toBe(COUNT);
    await conn.shutdown();
    await server.close();
  });
});
