/**
 * The rolling-restart soak: a steady mixed load on one HTTP/1.1 connection (16 concurrent) and
 * one HTTP/2 connection over TLS (64 concurrent), GETs and POSTs, plus a WebSocket echo, all
 * through one nginx that rotates connections every 25 requests (`keepalive_requests`), while it is
 * `reload`ed and `quit` + started again (its listener gone for a while). Every request carries a
 * unique id that the Node upstream behind nginx records, so a request that errored without the
 * server ever seeing it (lost) is told apart from one the server processed.
 *
 * Lost must be 0. The only errors accepted are the ones no client can avoid:
 * - `RXCONN_NO_RESPONSE` on an HTTP/1.1 POST: nginx, reloading or quitting, closes a keep-alive
 *   socket right after a response, while the next request is already written to it. Nothing says
 *   whether the server read it, and a POST is not idempotent: it must not be sent again by
 *   itself, and the error tells the caller exactly that (GETs are re-sent).
 * - `RXCONN_CONNECTION_DOWN` for a request the upstream did see: a quitting worker that still
 *   serves it after `worker_shutdown_timeout` kills its connection (a real loss, mid-response).
 * Its figures are printed as a table.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filter, firstValueFrom } from 'rxjs';
import { open, webSocket } from '../../lib/index.js';
import type { Connection, ConnectionOptions, ReconnectingWebSocket } from '../../lib/index.js';
import { record } from '../helpers/lifecycle.js';
import { ensureTools } from './helpers/install.js';
import { Load, lost } from './helpers/load.js';
import type { LoadOutcome } from './helpers/load.js';
import { Nginx } from './helpers/nginx.js';
import { startEchoServer, startUpstream } from './helpers/upstream.js';
import type { EchoServer, Upstream } from './helpers/upstream.js';

const ca = readFileSync(new URL('../fixtures/ca.pem', import.meta.url));
const skip = (await ensureTools())['nginx-light'];

/** How long the load runs between two operations on nginx, at least, in ms. */
const PHASE = 4_000;
/** How long nothing listens between `nginx -s quit` (and its exit) and the next start, in ms. */
const PAUSE = 500;
const OPERATIONS = ['reload', 'quit', 'reload', 'quit', 'reload'] as const;
const PER_CONNECTION = 25;

const delay = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms));

/** Rejects with `what` if `promise` takes longer than `ms`: a soak that hangs fails with why. */
function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new Error(`${what} after ${ms} ms`)), ms)));
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** A WebSocket echo loop: a numbered message every `every` ms; what came back, and in what order. */
class Echo {
  sent = 0;
  readonly received: number[] = [];
  readonly #tick: NodeJS.Timeout;
  readonly #waiters = new Set<() => void>();
  constructor(
    readonly ws: ReconnectingWebSocket,
    every = 25,
  ) {
    ws.messages.subscribe({
      next: message => {
        this.received.push(Number(String(message)));
        for (const wake of [...this.#waiters]) wake();
      },
      error: () => undefined,
    });
    this.#tick = setInterval(() => ws.send(String(this.sent++)), every);
  }
  /** Resolves once `count` more echoes arrived. */
  progressed(count: number): Promise<void> {
    const target = this.received.length + count;
    return new Promise(resolve => {
      const check = (): void => {
        if (this.received.length < target) return;
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
      check();
    });
  }
  /** Stops sending; resolves once the last message sent came back. */
  async stop(): Promise<void> {
    clearInterval(this.#tick);
    const last = this.sent - 1;
    while (this.received.at(-1) !== last) await this.progressed(1);
  }
}

interface Row {
  readonly name: string;
  readonly outcomes: readonly LoadOutcome[];
  readonly log: ReturnType<typeof record>;
}

describe.skipIf(skip)('rolling restart soak (nginx reload, quit + start, keepalive_requests 25)', () => {
  let nginx: Nginx;
  let upstream: Upstream;
  let echoServer: EchoServer;
  const opened: Array<Connection | ReconnectingWebSocket> = [];
  beforeAll(async () => {
    upstream = await startUpstream();
    echoServer = await startEchoServer();
    nginx = await Nginx.create(echoServer.port, { keepaliveRequests: PER_CONNECTION, workerShutdownTimeout: '1s', upstream: upstream.port });
    await nginx.start();
  });
  afterAll(async () => {
    for (const conn of opened) conn.close();
    await nginx?.dispose();
    await upstream?.close();
    await echoServer?.close();
  });

  it('GET and POST at 16 (HTTP/1.1) and 64 (HTTP/2) concurrent plus a WebSocket echo, for ~30 s of restarts: none lost, only unavoidable errors', { timeout: 120_000 }, async () => {
    const started = Date.now();
    const h1 = open(nginx.origin('h1'), { protocols: ['http1'] } satisfies ConnectionOptions);
    const h2 = open(nginx.origin('tls'), { protocols: ['http2', 'http1'], tls: { ca } } satisfies ConnectionOptions);
    const ws = webSocket(`ws://127.0.0.1:${nginx.ports.h1}/ws`);
    opened.push(h1, h2, ws);
    const logs = { h1: record(h1), h2: record(h2), ws: record(ws.connection) };
    const at = (): string => ((Date.now() - started) / 1000).toFixed(2);
    // When each outage began and why, for the report.
    const outages: string[] = [];
    for (const [name, conn] of [['h1', h1], ['h2', h2], ['ws', ws.connection]] as const) {
      conn.subscribe({ next: e => void (e.type === 'disconnected' && outages.push(`${name}@${at()} ${e.error.message}`)), error: () => undefined });
    }
    const wsEvents: string[] = [];
    // The number of messages sent when each WebSocket closed.
    const closesAt: number[] = [];
    ws.subscribe({
      next: event => {
        wsEvents.push(event.type);
        if (event.type === 'close') closesAt.push(echo.sent);
      },
      error: () => undefined,
    });
    const loads = { h1: new Load(h1, { name: 'soak-h1', concurrency: 16 }), h2: new Load(h2, { name: 'soak-h2', concurrency: 64 }) };
    const echo = new Echo(ws);

    // Each phase: at least PHASE ms of load, and proof that every client is served again.
    const phase = (): Promise<unknown> =>
      bounded(Promise.all([delay(PHASE), loads.h1.progressed(10), loads.h2.progressed(100), echo.progressed(5)]), 60_000, 'the load did not resume');
    const marks: string[] = [];
    const mark = (what: string): void => void marks.push(`${what}@${at()}`);
    await phase();
    for (const operation of OPERATIONS) {
      mark(operation);
      if (operation === 'reload') {
        await nginx.reload();
      } else {
        await nginx.quit();
        await nginx.exited();
        await delay(PAUSE); // nothing listens meanwhile
        await nginx.start();
      }
      mark('up');
      await phase();
    }
    mark('stop');
    await bounded(Promise.all([loads.h1.stop(), loads.h2.stop(), echo.stop()]), 30_000, 'requests or echoes still pending');
    const seconds = (Date.now() - started) / 1000;

    const rows: Row[] = [
      { name: 'HTTP/1.1 (16)', outcomes: loads.h1.outcomes, log: logs.h1 },
      { name: 'HTTP/2 TLS (64)', outcomes: loads.h2.outcomes, log: logs.h2 },
    ];
    const table = rows.map(({ name, outcomes, log }) => {
      const errors: Record<string, number> = {};
      for (const o of outcomes) if (o.result !== 'ok') errors[`${o.method} ${o.result}`] = (errors[`${o.method} ${o.result}`] ?? 0) + 1;
      return {
        connection: name,
        requests: outcomes.length,
        ok: outcomes.filter(o => o.result === 'ok').length,
        errors: JSON.stringify(errors),
        lost: lost(outcomes, upstream.seen).length,
        'sent twice': outcomes.filter(o => (upstream.seen.get(o.id) ?? 0) > 1).length,
        rotations: log.events.filter(e => e.type === 'closing' && e.rotation === true).length,
        outages: log.events.filter(e => e.type === 'disconnected').length,
        retries: log.events.filter(e => e.type === 'retrying').length,
      };
    });
    const echoed = new Set(echo.received);
    const missing = Array.from({ length: echo.sent }, (_, i) => i).filter(i => !echoed.has(i));
    const closes = wsEvents.filter(t => t === 'close').length;
    console.log(`[rolling restart soak] ${seconds.toFixed(1)} s; keepalive_requests ${PER_CONNECTION}, worker_shutdown_timeout 1s, quit pause ${PAUSE} ms; nginx ${marks.join(' ')} (s from start)`);
    console.table(table);
    console.log(`[rolling restart soak] WebSocket echo: ${echo.sent} sent, ${echo.received.length} echoed, missing ${JSON.stringify(missing)}, ${wsEvents.filter(t => t === 'open').length} opens, ${closes} closes (messages sent by then: ${closesAt.join(', ')})`);
    console.log(`[rolling restart soak] outages:\n  ${outages.join('\n  ')}`);

    for (const { outcomes } of rows) {
      expect(lost(outcomes, upstream.seen)).toEqual([]);
      const unavoidable = (o: LoadOutcome): boolean =>
        o.result === 'ok' || (o.result === 'RXCONN_NO_RESPONSE' && o.method === 'POST') || (o.result === 'RXCONN_CONNECTION_DOWN' && upstream.seen.has(o.id));
      expect(outcomes.filter(o => !unavoidable(o))).toEqual([]);
      // A POST is never sent twice.
      expect(outcomes.filter(o => o.method === 'POST' && (upstream.seen.get(o.id) ?? 0) > 1)).toEqual([]);
    }
    // The 25-request rotations (hundreds of them) never became outages: only nginx's own stops did,
    // one per operation at most (a quit: the listener is gone).
    for (const { log } of rows) expect(log.events.filter(e => e.type === 'disconnected').length).toBeLessThanOrEqual(OPERATIONS.length);
    // WebSocket: echoes come back in order, never twice; a message is missing only when it was
    // in flight (one of the last 4 sent, 100 ms) on a WebSocket that nginx cut (worker_shutdown_timeout):
    // WebSocket has no delivery receipt, so neither side can tell whether it arrived.
    expect(echo.received.every((n, i) => i === 0 || n > echo.received[i - 1]!)).toBe(true);
    expect(missing.filter(n => !closesAt.some(sent => n >= sent - 4 && n < sent))).toEqual([]);
    expect(echo.received.length).toBeGreaterThan(0);
    for (const conn of [h1, h2]) expect(conn.state).toBe('connected');
    await Promise.all([h1.shutdown(), h2.shutdown(), ws.shutdown()]);
    await firstValueFrom(ws.connection.state$.pipe(filter(s => s === 'closed')));
  });
});
