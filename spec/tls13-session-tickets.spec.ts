/**
 * TLS 1.3 servers that send no session ticket. The dial waits for the server's first ticket only
 * when the server asked for a client certificate (its verdict comes after the handshake): any
 * other server is handed over at `secureConnect`, without the grace period.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { open, text } from '../lib/index.js';
import { leakCheck, record } from './helpers/lifecycle.js';
import { ticketlessOrigin as startTicketless, ticketsSent, timeToConnect } from './helpers/tls-tickets.js';
import type { TicketlessOrigin } from './helpers/tls-tickets.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const ca = fixture('ca.pem');

/** Well below the 1 s grace and far above a loopback handshake, even on a loaded machine. */
const PROMPT = 500;

const origins: TicketlessOrigin[] = [];
afterEach(async () => {
  for (const origin of origins.splice(0)) await origin.close();
});

/** A ticketless TLS 1.3 origin, closed after the test. */
async function ticketlessOrigin(kind: 'https' | 'h2', mtls = false): Promise<TicketlessOrigin> {
  const origin = await startTicketless(kind, mtls);
  origins.push(origin);
  return origin;
}

/** Milliseconds from `connecting` to `connected` of a fresh connection to `url` (connectTimeout 10 s: the grace would be 1 s), which then serves. */
async function connectTime(url: string): Promise<number> {
  const conn = open(url, { tls: { ca }, connectTimeout: 10_000 });
  const took = timeToConnect(conn);
  const answer = await firstValueFrom(conn.get('/t').pipe(text()));
  expect(answer).toMatchObject({ status: 200, body: 'ok /t' });
  await conn.shutdown();
  return took;
}

describe('TLS 1.3 without session tickets', () => {
  it('the child server really sends none (OpenSSL NumTickets = 0)', async () => {
    const origin = await ticketlessOrigin('https');
    expect(await ticketsSent(origin.port, ca)).toEqual({ tickets: 0, version: 'TLSv1.3' });
  });

  it.each(['https', 'h2'] as const)('%s: connects at once, without waiting for a ticket that never comes', async kind => {
    const leaks = leakCheck();
    const origin = await ticketlessOrigin(kind);
    expect(await connectTime(origin.url)).toBeLessThan(PROMPT);
    await leaks.check();
  });

  // The server asked for a certificate: its verdict (an alert) comes after the handshake, so the dial still waits for it.
  it('a server that requires a client certificate and sends no ticket: none sent still ends in RXCONN_TLS, with no connected', async () => {
    const origin = await ticketlessOrigin('https', true);
    const conn = open(origin.url, { tls: { ca }, retry: { maxRetries: 5, initialDelay: 1 } });
    const log = record(conn);
    await log.done;
    expect(log.types()).toEqual(['connecting']);
    expect(log.error()).toMatchObject({ code: 'RXCONN_TLS', retryable: false, message: expect.stringMatching(/certificate required/i) });
  });

  it('a server that requires a client certificate and sends no ticket: an accepted certificate connects (after the grace) and serves', async () => {
    const origin = await ticketlessOrigin('h2', true);
    const conn = open(origin.url, { tls: { ca, cert: fixture('client.pem'), key: fixture('client.key') } });
    const log = record(conn);
    const answer = await firstValueFrom(conn.get('/me').pipe(text()));
    expect(answer).toMatchObject({ status: 200, body: 'ok /me' });
    await conn.shutdown();
    expect(log.types().slice(0, 2)).toEqual(['connecting', 'connected']);
  });
});
