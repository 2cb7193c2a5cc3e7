/**
 * A scenario run in a child process by misbehaving-peers.spec.ts: a raw HTTP/2 peer answers a
 * request with HEADERS and then endless CONTINUATION frames. It runs out of the test worker
 * because a native crash was seen there (node 20.20.2: `Assertion failed:
 * (current_nghttp2_memory_) == (0)` in `~Http2Session`, during a GC after such a flood); a crash
 * here fails one test instead of taking the worker down. Prints one JSON line: the request's
 * error code and message, and how many frames the peer wrote.
 */
import { open } from '../../../lib/index.js';
import { FRAME, STATUS_200, frame, literal, serveFrames } from './h2-frames.js';
import { outcome } from './outcomes.js';
import { startRawPeer } from './servers.js';

const MAX_FRAMES = 100_000;
let written = 0;
const peer = await startRawPeer(socket =>
  serveFrames(socket, streamId => {
    socket.write(frame(FRAME.HEADERS, 0, streamId, STATUS_200));
    const continuation = frame(FRAME.CONTINUATION, 0, streamId, literal('x-endless', 'e'.repeat(100)));
    const go = (): void => {
      while (!socket.destroyed && written < MAX_FRAMES) {
        written++;
        if (!socket.write(continuation)) {
          socket.once('drain', go);
          return;
        }
      }
    };
    go();
  }),
);
const conn = open(peer.origin, { protocols: ['http2'], retry: false, keepalive: false });
const result = await outcome(conn.get('/'));
conn.close();
await conn.whenClosed();
await peer.close();
process.stdout.write(`${JSON.stringify({ code: result.code, message: (result.error as Error | undefined)?.message, written, max: MAX_FRAMES })}\n`);
