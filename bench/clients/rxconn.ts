/**
 * rxconn drivers, written against the public API of DESIGN.md. lib/ is built concurrently, so it
 * is loaded dynamically and checked at runtime: a missing `open()`, a missing `websocket()`, or a
 * protocol that fails to connect makes `setup` reject, and the harness prints "n/a".
 */
import type { Observable, Subscribable, Unsubscribable } from 'rxjs';
import type { HttpClient, HttpDriver, HttpTarget, WsClient, WsDriver, WsMessage } from '../common.js';
import { toError, withTimeout } from '../common.js';

/** The slice of rxconn's `ResponseEvent` the bench reads. */
interface ResponseEventLike {
  readonly type: string;
  readonly status?: number;
  readonly data?: Uint8Array;
}

/** The slice of rxconn's `WebSocketChannel` the bench uses. */
interface ChannelLike extends Subscribable<unknown> {
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): unknown;
}

/** The slice of rxconn's `Connection` the bench uses. */
export interface ConnectionLike extends Subscribable<{ readonly type: string }> {
  readonly state$: Subscribable<string>;
  request(init: { method: string; path: string }): Observable<ResponseEventLike>;
  shutdown(): Promise<void>;
  close(): unknown;
  websocket?: (path: string) => ChannelLike;
}

type OpenLike = (origin: string, options?: Record<string, unknown>) => ConnectionLike;

let openPromise: Promise<OpenLike> | undefined;

/** rxconn's `open`, or a rejection saying why it is not there. */
export function loadOpen(): Promise<OpenLike> {
  openPromise ??= (async () => {
    // A computed specifier: the type checker must not require lib/index.ts to exist yet.
    const specifier = new URL('../../lib/index.js', import.meta.url).href;
    let mod: { open?: unknown };
    try {
      mod = (await import(specifier)) as { open?: unknown };
    } catch (error) {
      throw new Error(`not implemented (lib/index.ts: ${toError(error).message.split('\n')[0]})`);
    }
    if (typeof mod.open !== 'function') throw new Error('not implemented (no open() export)');
    return mod.open as OpenLike;
  })();
  return openPromise;
}

/** Opens a connection and waits for `connected`; rejects on `failed`/`closed`, an error, or after 5 s. */
export async function openConnected(origin: string, options: Record<string, unknown>): Promise<ConnectionLike> {
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
              if (event.type === 'data' && event.data) bytes += event.data.byteLength;
              else if (event.type === 'response') status = event.status ?? 0;
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
