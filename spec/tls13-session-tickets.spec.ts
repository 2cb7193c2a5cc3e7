/**
 * TLS 1.3 servers that send no session ticket. The dial waits for the server's first ticket only
 * when the server asked for a client certificate (its verdict comes after the handshake): any
 * other server is handed over at `secureConnect`, without the grace period.
 *
 * node:tls cannot turn tickets off (SSL_OP_NO_TICKET still sends stateful TLS 1.3 tickets), but
 * OpenSSL's `NumTickets = 0` can, through an OpenSSL config: so the servers run in a child node
 * started with `--openssl-config`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { open, text } from '../lib/index.js';
import { leakCheck, record } from './helpers/lifecycle.js';
import { ticketsSent, timeToConnect } from './helpers/tls-tickets.js';

const fixtures = new URL('./fixtures/', import.meta.url).pathname;
const fixture = (name: string): Buffer => readFileSync(join(fixtures, name));
const ca = fixture('ca.pem');

/** Well below the 1 s grace and far above a loopback handshake, even on a loaded machine. */
const PROMPT = 500;

/** The child's server: https or h2 on TLS 1.3, answering `ok <path>`; prints its port. */
const SERVER = `
import https from 'node:https';
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';
const [kind, dir, mtls] = process.argv.slice(1);
const f = name => readFileSync(dir + name);
const options = { cert: f('server.pem'), key: f('server.key'), minVersion: 'TLSv1.3',
  ...(mtls === 'mtls' && { ca: f('ca.pem'), requestCert: true, rejectUnauthorized: true }) };
const handler = (req, res) => res.end('ok ' + req.url);
const server = kind === 'h2' ? http2.createSecureServer(options, handler) : https.createServer(options, handler);
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rxconn-no-ticket-'));
  // Read by node at start-up (its default section is nodejs_conf); applies to every SSL_CTX.
  writeFileSync(
    join(dir, 'openssl.cnf'),
    ['nodejs_conf = nodejs_init', '[nodejs_init]', 'ssl_conf = ssl_sect', '[ssl_sect]', 'system_default = tls_defaults', '[tls_defaults]', 'NumTickets = 0', ''].join('\n'),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill();
    await once(child, 'exit');
  }
});

/** A TLS 1.3 server sending no session ticket, in a child node; `mtls` requires a client certificate of the test CA. */
async function ticketlessOrigin(kind: 'https' | 'h2', mtls = false): Promise<{ port: number; url: string }> {
  const child = spawn(process.execPath, [`--openssl-config=${join(dir, 'openssl.cnf')}`, '--input-type=module', '-e', SERVER, kind, fixtures, mtls ? 'mtls' : ''], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = Number(line.toString().trim());
  return { port, url: `https://127.0.0.1:${port}` };
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
