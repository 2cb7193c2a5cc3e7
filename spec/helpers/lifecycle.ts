/**
 * Helpers to watch a connection: record its events, wait for one, check nothing is left open.
 */
import { expect } from 'vitest';
import { filter, firstValueFrom, skip } from 'rxjs';
import type { Connection, ConnectionEvent } from '../../lib/index.js';

/** Records every event (and the error or completion) of a connection from now on. */
export function record(conn: Connection): { events: ConnectionEvent[]; states: string[]; types: () => string[]; error: () => unknown; done: Promise<void> } {
  const events: ConnectionEvent[] = [];
  const states: string[] = [];
  conn.state$.subscribe(state => states.push(state));
  let error: unknown;
  const done = new Promise<void>(resolve => {
    conn.subscribe({
      next: event => events.push(event),
      error: e => {
        error = e;
        resolve();
      },
      complete: () => resolve(),
    });
  });
  return { events, states, types: () => events.map(e => e.type), error: () => error, done };
}

/** The next event of `type`. */
export function next<T extends ConnectionEvent['type']>(conn: Connection, type: T): Promise<Extract<ConnectionEvent, { type: T }>> {
  return firstValueFrom(conn.pipe(filter((e): e is Extract<ConnectionEvent, { type: T }> => e.type === type)));
}

/** The `n`-th `connected` event from now on (1-based). */
export function nthConnected(conn: Connection, n: number): Promise<ConnectionEvent> {
  return firstValueFrom(conn.pipe(filter(e => e.type === 'connected'), skip(n - 1)));
}

/** Resolves once the connection's state is `connected`. */
export function connected(conn: Connection): Promise<unknown> {
  return firstValueFrom(conn.state$.pipe(filter(s => s === 'connected')));
}

/** The handles that count as leaks: sockets and timers. */
function handles(): string[] {
  return process.getActiveResourcesInfo().filter(r => r === 'TCPSocketWrap' || r === 'TLSWrap' || r === 'Timeout');
}

/** Snapshot now; `check()` later asserts no socket or timer was added and left open. */
export function leakCheck(): { check: () => Promise<void> } {
  const before = handles().length;
  return {
    check: async () => {
      // Handles (ours and the test server's) close asynchronously: give the loop a few bounded turns.
      for (let turn = 0; turn < 50 && handles().length > before; turn++) {
        await new Promise(resolve => setTimeout(resolve, 2));
      }
      expect(handles().length, `open handles: ${handles().join(", ")}`).toBeLessThanOrEqual(before);
    },
  };
}
