/**
 * Helpers of the browser suite: origins that close themselves after each test, and waiting on
 * connection events.
 */
import { firstValueFrom, filter } from 'rxjs';
import { afterEach } from 'vitest';
import { commands } from 'vitest/browser';
import type { Connection, ConnectionEvent } from '../../lib/browser/index.js';
import type { OriginHandle, OriginKind } from './rig/origins.js';

declare module 'vitest/browser' {
  interface BrowserCommands {
    startOrigin(kind: OriginKind): Promise<OriginHandle>;
    stopOrigin(id: number): Promise<void>;
    restartOrigin(id: number): Promise<void>;
    killWebSockets(id: number): Promise<number>;
    destroySessions(id: number): Promise<number>;
    originState(id: number): Promise<{ log: string[]; open: number; clients: number; sockets: number; sessions: number }>;
    closeOrigin(id: number): Promise<void>;
    offlineFor(ms: number): Promise<void>;
  }
}

const opened: OriginHandle[] = [];
const connections: Connection[] = [];

afterEach(async () => {
  for (const conn of connections.splice(0)) conn.close();
  await Promise.all(opened.splice(0).map(o => commands.closeOrigin(o.id)));
});

/** Starts a test origin, closed after the test. */
export async function origin(kind: OriginKind): Promise<OriginHandle> {
  const handle = await commands.startOrigin(kind);
  opened.push(handle);
  return handle;
}

/** Registers a connection to be closed after the test (if the test did not). */
export function track<T extends Connection>(conn: T): T {
  connections.push(conn);
  return conn;
}

/** The next event of `type` (subscribe before causing it). */
export function next<T extends ConnectionEvent['type']>(conn: Connection, type: T): Promise<Extract<ConnectionEvent, { type: T }>> {
  return firstValueFrom(conn.pipe(filter((e): e is Extract<ConnectionEvent, { type: T }> => e.type === type)));
}

/** Every event of the connection, from now on, in order. */
export function record(conn: Connection): ConnectionEvent[] {
  const events: ConnectionEvent[] = [];
  conn.subscribe({ next: e => events.push(e), error: () => {} });
  return events;
}

/** Resolves when the connection state is `state` (now or later). */
export function stateIs(conn: Connection, state: string): Promise<unknown> {
  return firstValueFrom(conn.state$.pipe(filter(s => s === state)));
}
