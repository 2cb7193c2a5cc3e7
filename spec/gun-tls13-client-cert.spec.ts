/**
 * Gun scenario D13: on TLS 1.3 the server's verdict on the client certificate (none sent, or one
 * it refuses) arrives as an alert after the handshake. It must end like any certificate failure:
 * RXCONN_TLS, not retried, and no `connected` first.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { open, text } from '../lib/index.js';
import { leakCheck, record } from './helpers/lifecycle.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const ca = fixture('ca.pem');
const serverTls = { cert: fixture('server.pem'), key: fixture('server.key'), ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' as const };

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** An HTTPS (HTTP/1.1) or HTTP/2 server on TLS 1.3 that requires a client certificate signed by the test CA; counts handshakes. */
async function mtlsOrigin(kind: 'https' | 'h2'): Promise<{ url: string; handshakes: () => number }> {
  const server =
    kind === 'https'
      ? https.createServer(serverTls, (req, res) => res.end(`mtls ${req.url} ${(req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject.CN}`))
      : http2.createSecureServer(serverTls, (req, res) => res.end(`mtls ${req.url}`));
  let handshakes = 0;
  server.on('tlsClientError', () => handshakes++);
  server.on('secureConnection', () => handshakes++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(async () => {
    if (server instanceof https.Server) server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, handshakes: () => handshakes };
}

describe('TLS 1.3 client certificates', () => {
  // gun: gun_SUITE tls13_post_handshake_alert_http1
  it.each([
    ['https', 'none sent', {}, /certificate required/i],
    ['https', 'signed by another CA', { cert: fixture('self-signed.pem'), key: fixture('self-signed.key') }, /refused the client certificate/],
    ['h2', 'none sent', {}, /certificate required/i],
  ] as const)('%s: a client certificate %s ends in RXCONN_TLS, with no connected and no retry', async (kind, _name, clientTls, message) => {
    const leaks = leakCheck();
    const origin = await mtlsOrigin(kind);
    const conn = open(origin.url, { tls: { ca, ...clientTls }, retry: { maxRetries: 5, initialDelay: 1 } });
    const log = record(conn);
    const queued = firstValueFrom(conn.get('/')).catch((e: unknown) => e);
    await log.done;
    expect(log.types()).toEqual(['connecting']);
    expect(log.error()).toMatchObject({ code: 'RXCONN_TLS', retryable: false, message: expect.stringMatching(message) });
    expect(await queued).toBe(log.error());
    expect(origin.handshakes()).toBe(1);
    await leaks.check();
  });

  it.each(['https', 'h2'] as const)('%s: an accepted client certificate connects and serves', async kind => {
    const origin = await mtlsOrigin(kind);
    const conn = open(origin.url, { tls: { ca, cert: fixture('client.pem'), key: fixture('client.key') } });
    const log = record(conn);
    const answer = await firstValueFrom(conn.get('/me').pipe(text()));
    expect(answer).toMatchObject({ status: 200, body: expect.stringMatching(/^mtls \/me/) });
    await conn.shutdown();
    expect(log.types().slice(0, 2)).toEqual(['connecting', 'connected']);
  });
});
