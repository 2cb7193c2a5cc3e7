/**
 * rxconn drivers, written against the public API of DESIGN.md. lib/ is loaded lazily and checked
 * at runtime: a missing `open()` or `websocket()`, or a protocol that fails to connect, makes
 * `setup` reject, and the harness prints "n/a" instead of crashing.
 */
import type { Unsubscribable } from 'rxjs';
import type { HttpClient, HttpDriver, HttpTarget, WsClient, WsDriver, WsMessage } from '../common.js';
import { toError, withTimeout } from '../common.js';

type Rxconn = typeof import('../../lib/index.js');
/** rxconn's `Connection`. */
export type ConnectionLike = InstanceType<Rxconn['Connection']>;

let openPromise: Promise<Rxconn['open']> | undefined;

/** rxconn's `open`, or a rejection saying why it is not there. */
export function loadOpen(): Promise<Rxconn['open']> {
  openPromise ??= (async () => {
    let mod: Partial<Rxconn>;
    try {
      mod = await import('../../lib/index.js');
    } catch (error) {
      throw new Error(`not implemented (lib/index.ts: ${toError(error).message.split('\n')[0]})`);
    }
    if (typeof mod.open !== 'function') throw new Error('not implemented (no open() export)');
    return mod.open;
  })();
  return openPromise;
}

/** Opens a connection and waits for `connected`; rejects on `failed`/`closed`, an error, or after 5 s. */
export async function openConnected(origin: string, options: Parameters<Rxconn['open']>[1]): Promise<ConnectionLike> {
  const open = await loadOpen();
  const conn = open(origin, options);
  const subscriptions: Unsubscribable[] = [];
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        subscriptions.push(
          conn.subscribe({ error: (error: unknown) => reject(toError(error)) }),
          conn.state$.subscribe({
            next: (state) => {
              if (state === 'connected') resolve();
              else if (state === 'failed' || state === 'closed') reject(new Error(`connection ${state}`));
            },
            error: (error: unknown) => reject(toError(error)),
          }),
        );
      }),
      5_000,
      'connect',
    );
  } catch (error) {
    conn.close();
    throw error;
  } finally {
    for (const subscription of subscriptions) subscription.unsubscribe();
  }
  return conn;
}

/** Graceful shutdown, bounded: abrupt close after 2 s. */
export async function shutdown(conn: ConnectionLike): Promise<void> {
  try {
    await withTimeout(conn.shutdown(), 2_000, 'shutdown');
  } catch {
    conn.close();
  }
}

/** rxconn over `protocol` ('http1' or 'http2'; TLS when the origin is https). */
export function rxconnHttp(protocol: 'http1' | 'http2'): HttpDriver {
  return {
    name: 'rxconn',
    async setup(target: HttpTarget): Promise<HttpClient> {
      const conn = await openConnected(target.origin, { protocols: [protocol], tls: { ca: target.ca } });
      return {
        request: (path, done) => {
          let bytes = 0;
          let status = 0;
          conn.request({ method: 'GET', path }).subscribe({
            next: (event) => {
              if (event.type === 'data') bytes += event.data.byteLength;
              else if (event.type === 'response') status = event.status;
            },
            error: (error: unknown) => done(toError(error), bytes),
            complete: () => done(status === 200 ? null : new Error(`status ${status}`), bytes),
          });
        },
        close: () => shutdown(conn),
      };
    },
  };
}

/** rxconn's WebSocket channel over an HTTP/1.1 connection. */
export const rxconnWs: WsDriver = {
  name: 'rxconn',
  async setup(url: string): Promise<WsClient> {
    await loadOpen();
    const { origin, pathname } = new URL(url.replace(/^ws/, 'http'));
    const conn = await openConnected(origin, { protocols: ['http1'] });
    if (typeof conn.websocket !== 'function') {
      await shutdown(conn);
      throw new Error('not available yet (no conn.websocket)');
    }
    const channel = conn.websocket(pathname);
    const client: WsClient = {
      send: (data) => channel.send(data),
      onMessage: (_message: WsMessage) => undefined,
      close: async () => {
        subscription.unsubscribe();
        channel.close(1000);
        await shutdown(conn);
      },
    };
    const subscription = channel.subscribe({
      next: (message) => client.onMessage(message),
      error: () => undefined,
    });
    return client;
  },
};
