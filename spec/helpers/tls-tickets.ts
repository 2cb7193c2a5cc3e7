/**
 * Measuring what a TLS 1.3 server sends after the handshake: its session tickets, and how long
 * rxconn takes to report a connection to it up; and TLS 1.3 servers that send no ticket at all.
 *
 * node:tls cannot turn tickets off (SSL_OP_NO_TICKET still sends stateful TLS 1.3 tickets), but
 * OpenSSL's `NumTickets = 0` can, through an OpenSSL config: so those servers run in a child node
 * started with `--openssl-config`.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import type { Connection } from '../../lib/index.js';

const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;

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

/** A TLS 1.3 server on 127.0.0.1:`port`. */
export interface TicketlessOrigin {
  readonly port: number;
  readonly url: string;
  /** Ends the child and removes its OpenSSL config. */
  close(): Promise<void>;
}

/**
 * A TLS 1.3 server sending no session ticket (certificate of the test CA for 127.0.0.1), in a
 * child node; `mtls` requires a client certificate of the test CA.
 */
export async function ticketlessOrigin(kind: 'https' | 'h2', mtls = false): Promise<TicketlessOrigin> {
  const dir = mkdtempSync(join(tmpdir(), 'rxconn-no-ticket-'));
  // Read by node at start-up (its default section is nodejs_conf); applies to every SSL_CTX.
  const config = join(dir, 'openssl.cnf');
  writeFileSync(config, ['nodejs_conf = nodejs_init', '[nodejs_init]', 'ssl_conf = ssl_sect', '[ssl_sect]', 'system_default = tls_defaults', '[tls_defaults]', 'NumTickets = 0', ''].join('\n'));
  const child = spawn(process.execPath, [`--openssl-config=${config}`, '--input-type=module', '-e', SERVER, kind, FIXTURES, mtls ? 'mtls' : ''], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill();
      await once(child, 'exit');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  const port = Number(line.toString().trim());
  return { port, url: `https://127.0.0.1:${port}`, close };
}

/** How many session tickets a plain TLS client gets over one whole HTTP/1.1 exchange with 127.0.0.1:`port`, and the TLS version. */
export async function ticketsSent(port: number, ca: Buffer): Promise<{ tickets: number; version: string | null }> {
  const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ALPNProtocols: ['http/1.1'] });
  let tickets = 0;
  socket.on('session', () => tickets++);
  await once(socket, 'secureConnect');
  const version = socket.getProtocol();
  // A server sends its tickets right after the handshake, before it answers.
  socket.end('GET / HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n');
  socket.resume();
  await once(socket, 'close');
  return { tickets, version };
}

/** Milliseconds from the next `connecting` of `conn` to the `connected` that follows, read from its events. */
export function timeToConnect(conn: Connection): Promise<number> {
  return new Promise((resolve, reject) => {
    let started: number | undefined;
    const subscription = conn.subscribe({
      next: event => {
        if (event.type === 'connecting') started = performance.now();
        if (event.type === 'connected' && started !== undefined) {
          resolve(performance.now() - started);
          queueMicrotask(() => subscription.unsubscribe());
        }
      },
      error: reject,
      complete: () => reject(new Error('the connection ended before it connected')),
    });
  });
}
