/**
 * TLS: certificates verified by default, failures typed and not retried, ALPN choosing HTTP/1.1.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { open, text } from '../lib/index.js';
import { leakCheck, record } from './helpers/lifecycle.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const ca = fixture('ca.pem');

async function httpsServer(cert: string): Promise<https.Server> {
  const server = https.createServer({ cert: fixture(`${cert}.pem`), key: fixture(`${cert}.key`) }, (req, res) => res.end(`tls ${req.url}`));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

const servers: https.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  }
});

async function origin(cert: string): Promise<string> {
  const server = await httpsServer(cert);
  servers.push(server);
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('TLS', () => {
  it('verifies the certificate against the given CA and speaks HTTP/1.1 when ALPN offers only that', async () => {
    const leaks = leakCheck();
    const conn = open(await origin('server'), { tls: { ca } });
    const log = record(conn);
    expect(await firstValueFrom(conn.get('/secure').pipe(text()))).toMatchObject({ status: 200, body: 'tls /secure' });
    expect(conn.info().protocol).toBe('http1');
    await conn.shutdown();
    expect(log.events[1]).toEqual({ type: 'connected', protocol: 'http1', attempt: 0 });
    await leaks.check();
  });

  it.each([
    ['self-signed', 'self-signed', /self[- ]signed certificate/],
    ['signed by an unknown CA', 'server', /unable to verify the first certificate|unable to get local issuer certificate/],
    ['for another host', 'wrong-host', /Hostname\/IP does not match certificate's altnames/],
  ])('fails with RXCONN_TLS, without retrying, on a certificate %s', async (_name, cert, message) => {
    const conn = open(await origin(cert), { tls: cert === 'server' ? {} : { ca }, retry: { maxRetries: 5, initialDelay: 1 } });
    const log = record(conn);
    const queued = firstValueFrom(conn.get('/')).catch((e: unknown) => e);
    await log.done;
    expect(log.types()).toEqual(['connecting']);
    expect(log.error()).toMatchObject({ code: 'RXCONN_TLS', retryable: false, message: expect.stringMatching(message) });
    expect(await queued).toBe(log.error());
    expect(conn.state).toBe('failed');
  });

  it('accepts any certificate with rejectUnauthorized: false', async () => {
    const conn = open(await origin('self-signed'), { tls: { rejectUnauthorized: false } });
    expect(await firstValueFrom(conn.get('/').pipe(text()))).toMatchObject({ body: 'tls /' });
    await conn.shutdown();
  });
});
