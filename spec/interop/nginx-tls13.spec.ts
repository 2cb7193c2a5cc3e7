/**
 * TLS 1.3 against nginx, with session tickets and without any (`ssl_session_tickets off`,
 * `ssl_session_cache off`, `ssl_conf_command NumTickets 0`). nginx asks for no client
 * certificate, so rxconn has no verdict to wait for after the handshake: with or without
 * tickets, it reports the connection up at once (lib/node/tls13-confirm.ts).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { body, open } from '../../lib/index.js';
import type { Protocol } from '../../lib/index.js';
import { leakCheck } from '../helpers/lifecycle.js';
import { ticketsSent, timeToConnect } from '../helpers/tls-tickets.js';
import { ensureTools } from './helpers/install.js';
import { Nginx } from './helpers/nginx.js';

const ca = readFileSync(new URL('../fixtures/ca.pem', import.meta.url));
const skip = (await ensureTools())['nginx-light'];

/** Well below the 1 s grace a ticket wait would cost, and far above a loopback handshake. */
const PROMPT = 500;

describe.skipIf(skip)('nginx on TLS 1.3', () => {
  const servers = new Map<boolean, Nginx>();
  beforeAll(async () => {
    for (const tickets of [true, false]) {
      const nginx = await Nginx.create(undefined, { tls13Tickets: tickets });
      servers.set(tickets, nginx);
      await nginx.start();
    }
  });
  afterAll(async () => {
    for (const nginx of servers.values()) await nginx.dispose();
  });

  it.each([
    [true, 'sends session tickets'],
    [false, 'sends none'],
  ] as const)('tickets %s: nginx %s', async (tickets: boolean, _what: string) => {
    const sent = await ticketsSent(servers.get(tickets)!.ports.tls, ca);
    expect(sent.version).toBe('TLSv1.3');
    if (tickets) expect(sent.tickets).toBeGreaterThan(0);
    else expect(sent.tickets).toBe(0);
  });

  it.each([
    ['HTTP/1.1', ['http1']],
    ['HTTP/2', ['http2', 'http1']],
  ] as const)('%s: connects at once with tickets and without (no 1 s wait for a ticket that never comes)', async (_name, protocols: readonly Protocol[]) => {
    const leaks = leakCheck();
    const took = new Map<boolean, number>();
    for (const [tickets, nginx] of servers) {
      const conn = open(nginx.origin('tls'), { protocols, tls: { ca }, connectTimeout: 10_000 });
      const connected = timeToConnect(conn);
      const reply = await firstValueFrom(conn.get('/files/1000.bin').pipe(body()));
      expect(reply.status).toBe(200);
      expect(Buffer.from(reply.body).equals(nginx.files.get(1000)!)).toBe(true);
      expect(conn.info().protocol).toBe(protocols[0]);
      took.set(tickets, await connected);
      await conn.shutdown();
    }
    expect(took.get(true)).toBeLessThan(PROMPT);
    expect(took.get(false), `connect times (ms): with tickets ${took.get(true)}, without ${took.get(false)}`).toBeLessThan(PROMPT);
    await leaks.check();
  });
});
