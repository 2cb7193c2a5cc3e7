/**
 * Run in a child process by bad-input.spec.ts: `open()` with `tls.servername` of the wrong type
 * against a peer that resets every connection after a moment. Exits 0 if the process survives.
 */
import { open } from '../../../lib/index.js';
import type { ConnectionOptions } from '../../../lib/index.js';
import { startRawPeer } from './servers.js';

const peer = await startRawPeer(socket => {
  setTimeout(() => socket.resetAndDestroy(), 20);
});
let refused = false;
try {
  const conn = open(peer.origin.replace('http:', 'https:'), { tls: { servername: 5 }, retry: { maxRetries: 2, initialDelay: 1, maxDelay: 2 } } as unknown as ConnectionOptions);
  conn.subscribe({ error: () => {} });
  await conn.whenClosed();
} catch (error) {
  // open() refuses it synchronously now; the process must survive either way.
  refused = (error as { code?: string }).code === 'RXCONN_INVALID_ARGUMENT';
}
process.stdout.write(refused ? 'refused by open()\n' : 'opened\n');
await new Promise(resolve => setTimeout(resolve, 100));
await peer.close();
process.stdout.write('survived\n');
