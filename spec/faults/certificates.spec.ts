/**
 * Fault matrix: certificates that must be refused. Expired, self-signed, for another host, or
 * signed by a CA the client does not trust: each ends the connection with RXCONN_TLS after one
 * attempt (retrying cannot fix a certificate), for every ALPN offer, and the queued request
 * errors with the same error. Nothing is sent in clear, nothing is left open.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { open } from '../../lib/index.js';
import type { Protocol } from '../../lib/index.js';
import { leakCheck, record } from '../helpers/lifecycle.js';
import { outcome } from './helpers/outcomes.js';
import { CA, fixture } from './helpers/servers.js';

/** A TLS server with `cert` that counts handshakes and records any application bytes it decrypts. */
async function tlsServer(cert: string): Promise<{ origin: string; handshakes: () => number; decrypted: () => number; close: () => Promise<void> }> {
  let handshakes = 0;
  let decrypted = 0;
  const sockets = new Set<tls.TLSSocket>();
  const server = tls.createServer({ cert: fixture(`${cert}.pem`), key: fixture(`${cert}.key`), ALPNProtocols: ['h2', 'http/1.1'] }, socket => {
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => (decrypted += chunk.length));
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('connection', () => handshakes++);
  server.on('tlsClientError', () => {});
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    origin: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    handshakes: () => handshakes,
    decrypted: () => decrypted,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

const CASES = [
  ['expired', 'expired', { ca: CA }, /certificate has expired/],
  ['self-signed', 'self-signed', { ca: CA }, /self[- ]signed certificate/],
  ['for another host', 'wrong-host', { ca: CA }, /Hostname\/IP does not match certificate's altnames/],
  ['from an untrusted CA', 'server', {}, /unable to verify the first certificate|unable to get local issuer certificate/],
] as const;

const OFFERS: ReadonlyArray<readonly Protocol[]> = [['http2', 'http1'], ['http1'], ['http2']];

describe.each(OFFERS)('certificate failures with ALPN offer %j', (...offer) => {
  it.each(CASES)('a certificate %s: RXCONN_TLS after one attempt, never retried', async (_name, cert, tlsOptions, message) => {
    const leaks = leakCheck();
    const server = await tlsServer(cert);
    const conn = open(server.origin, { protocols: offer, tls: tlsOptions, retry: { maxRetries: 5, initialDelay: 1, maxDelay: 2 } });
    const log = record(conn);
    const queued = outcome(conn.post('/secret', 'password=hunter2'));
    await log.done;
    expect(log.types()).toEqual(['connecting']);
    expect(log.error()).toMatchObject({ code: 'RXCONN_TLS', retryable: false, message: expect.stringMatching(message) });
    expect((await queued).error).toBe(log.error());
    expect(conn.state).toBe('failed');
    expect(server.handshakes()).toBe(1);
    expect(server.decrypted()).toBe(0);
    await server.close();
    await leaks.check();
  });
});

it('an expired certificate is accepted only when verification is turned off explicitly', async () => {
  const server = await tlsServer('expired');
  const conn = open(server.origin, { protocols: ['http1'], tls: { rejectUnauthorized: false }, retry: false });
  const log = record(conn);
  await new Promise<void>(resolve => conn.subscribe(e => e.type === 'connected' && resolve()));
  expect(log.types()).toEqual(['connecting', 'connected']);
  conn.close();
  await conn.whenClosed();
  await server.close();
});
