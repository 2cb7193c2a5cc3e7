/**
 * Measuring what a TLS 1.3 server sends after the handshake: its session tickets, and how long
 * rxconn takes to report a connection to it up.
 */
import { once } from 'node:events';
import tls from 'node:tls';
import type { Connection } from '../../lib/index.js';

/** How many session tickets a plain TLS client gets over one whole HTTP/1.1 exchange with 127.0.0.1:`port`, and the TLS version. */
export async function ticketsSent(port: number, ca: Buffer): Promise<{ tickets: number; version: string | null }> {
  const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ALPNProtocols: ['http/1.1'] });
  let tickets = 0;
  socket.on('session', () => tickets++);
  await once(socket, 'secureConnect');
  const version = socket.getProtocol();
  // A server sends its tickets right after the handshake, before it answers.
  socket.end('GET / HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n');
  socket.resume();
  await once(socket, 'close');
  return { tickets, version };
}

/** Milliseconds from the next `connecting` of `conn` to the `connected` that follows, read from its events. */
export function timeToConnect(conn: Connection): Promise<number> {
  return new Promise((resolve, reject) => {
    let started: number | undefined;
    const subscription = conn.subscribe({
      next: event => {
        if (event.type === 'connecting') started = performance.now();
        if (event.type === 'connected' && started !== undefined) {
          resolve(performance.now() - started);
          queueMicrotask(() => subscription.unsubscribe());
        }
      },
      error: reject,
      complete: () => reject(new Error('the connection ended before it connected')),
    });
  });
}
