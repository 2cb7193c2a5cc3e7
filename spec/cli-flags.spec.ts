/**
 * The `rxconn` flags a curl user reaches for: credentials in the URL, `--json`, `-o FILE`,
 * `--cacert`, `--cert`/`--key`, run in-process (`main(argv, io)`) against real loopback servers
 * (HTTP/1.1, h2c, HTTPS asking for a client certificate, wss).
 */
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, main } from '../lib/cli/main.js';
import { BIG, handler, terminal } from './helpers/cli.js';
import { deadPort, startServer } from './helpers/servers.js';
import type { TestServer } from './helpers/servers.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));

describe('rxconn: credentials, --json, -o', () => {
  let h1: TestServer;
  let h2: TestServer;
  let dir: string;
  beforeAll(async () => {
    h1 = await startServer('http1', handler);
    h2 = await startServer('http2', handler);
    dir = mkdtempSync(join(tmpdir(), 'rxconn-cli-flags-'));
  });
  afterAll(async () => {
    await h1.close();
    await h2.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('credentials in the URL are sent as Basic authorization, never dropped; -H authorization wins', async () => {
    const { host } = new URL(h1.origin);
    const t = terminal();
    expect(await main(['get', `http://alice:s%40cret@${host}/auth`, '-q'], t.io)).toBe(EXIT.ok);
    expect(t.out()).toBe(`authorization=Basic ${Buffer.from('alice:s@cret').toString('base64')}`);
    const explicit = terminal();
    expect(await main(['get', `http://alice:x@${host}/auth`, '-H', 'authorization: Bearer tok', '-q'], explicit.io)).toBe(EXIT.ok);
    expect(explicit.out()).toBe('authorization=Bearer tok');
    const h2c = terminal();
    expect(await main(['get', `http://bob:pw@${new URL(h2.origin).host}/auth`, '--http2', '-q'], h2c.io)).toBe(EXIT.ok);
    expect(h2c.out()).toBe(`authorization=Basic ${Buffer.from('bob:pw').toString('base64')}`);
  });

  it('--json sends the body with content-type and accept application/json, and prints a JSON response indented', async () => {
    const t = terminal();
    expect(await main(['post', `${h1.origin}/json`, '--json', '{"name":"x","tags":[1,2]}', '-q'], t.io)).toBe(EXIT.ok);
    expect(t.out()).toBe(`${JSON.stringify({ method: 'POST', type: 'application/json', accept: 'application/json', got: { name: 'x', tags: [1, 2] } }, null, 2)}\n`);
    const file = join(dir, 'body.json');
    writeFileSync(file, '[true]');
    const f = terminal();
    expect(await main(['put', `${h2.origin}/json`, '--http2', '--json', `@${file}`, '-H', 'content-type: application/merge-patch+json', '-q'], f.io)).toBe(EXIT.ok);
    expect(JSON.parse(f.out())).toEqual({ method: 'PUT', type: 'application/merge-patch+json', accept: 'application/json', got: [true] });
    expect(f.out()).toContain('\n  "method": "PUT",\n');
    // A response that is not JSON streams through unchanged.
    const plain = terminal();
    expect(await main(['post', `${h1.origin}/plain`, '--json', '1', '-q'], plain.io)).toBe(EXIT.ok);
    expect(plain.out()).toBe('POST /plain x-token=undefined body=1');
  });

  it('-o FILE writes the body to the file (with --json, indented), nothing to stdout', async () => {
    const file = join(dir, 'out.bin');
    const t = terminal();
    expect(await main(['get', `${h1.origin}/big`, '-o', file], t.io)).toBe(EXIT.ok);
    expect(t.bytes()).toBe(0);
    expect(readFileSync(file).equals(Buffer.alloc(BIG, 'x'))).toBe(true);
    expect(t.err()).toContain('3.0 MiB / 3.0 MiB (100%)');
    const pretty = join(dir, 'out.json');
    const j = terminal();
    expect(await main(['patch', `${h1.origin}/json`, '--json', '{}', '--output', pretty, '-q'], j.io)).toBe(EXIT.ok);
    expect(readFileSync(pretty, 'utf8')).toBe(`${JSON.stringify({ method: 'PATCH', type: 'application/json', accept: 'application/json', got: {} }, null, 2)}\n`);
    const status = join(dir, 'status.txt');
    const e = terminal();
    expect(await main(['get', `${h1.origin}/status/404`, '-o', status, '-q'], e.io)).toBe(EXIT.httpError);
    expect(readFileSync(status, 'utf8')).toBe('GET /status/404 x-token=undefined body=');
  });

  it('-o: a file that cannot be written exits 6; a failed connection creates no file', async () => {
    const t = terminal();
    expect(await main(['get', `${h1.origin}/big`, '-o', join(dir, 'no-such-dir', 'out'), '-q'], t.io)).toBe(EXIT.output);
    expect(t.err()).toMatch(/^rxconn: cannot write -o .*no-such-dir.*: ENOENT/);
    const file = join(dir, 'never.txt');
    const r = terminal();
    expect(await main(['get', `http://127.0.0.1:${await deadPort()}/`, '-o', file, '-q'], r.io)).toBe(EXIT.connection);
    expect(existsSync(file)).toBe(false);
  });
});

describe('rxconn with --cacert, --cert and --key', () => {
  let server: https.Server;
  let wss: WebSocketServer;
  let origin: string;
  let dir: string;
  beforeAll(async () => {
    // Signed by the test CA; asks for a client certificate from the same CA, and tells who it got.
    server = https.createServer({ cert: fixture('server.pem'), key: fixture('server.key'), ca: fixture('ca.pem'), requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.end(`client=${(req.socket as TLSSocket).authorized ? String(peer.subject?.CN) : 'none'}`);
    });
    wss = new WebSocketServer({ server, path: '/chat' });
    wss.on('connection', (ws, req) => ws.send(`client=${(req.socket as TLSSocket).authorized ? 'verified' : 'none'}`));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'rxconn-cli-tls-'));
  });
  afterAll(async () => {
    wss.close();
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
    rmSync(dir, { recursive: true, force: true });
  });
  const path = (name: string): string => new URL(`./fixtures/${name}`, import.meta.url).pathname;

  it('a private CA is refused without --cacert (exit 3) and trusted with it', async () => {
    const t = terminal();
    expect(await main(['get', `${origin}/`], t.io)).toBe(EXIT.connection);
    expect(t.err()).toContain('rxconn: RXCONN_TLS');
    const ca = terminal();
    expect(await main(['get', `${origin}/`, '--cacert', path('ca.pem'), '-q'], ca.io)).toBe(EXIT.ok);
    expect(ca.out()).toBe('client=none');
  });

  it('--cert/--key present a client certificate; --cert alone reads the key from the same file', async () => {
    const t = terminal();
    expect(await main(['get', `${origin}/`, '--cacert', path('ca.pem'), '--cert', path('client.pem'), '--key', path('client.key'), '-q'], t.io)).toBe(EXIT.ok);
    expect(t.out()).toBe('client=rxconn test client');
    const both = join(dir, 'client-and-key.pem');
    writeFileSync(both, Buffer.concat([fixture('client.pem'), fixture('client.key')]));
    const one = terminal();
    expect(await main(['get', `${origin}/`, '--cacert', path('ca.pem'), '--cert', both, '--http1', '-q'], one.io)).toBe(EXIT.ok);
    expect(one.out()).toBe('client=rxconn test client');
  });

  it('wss: the same flags apply to rxconn ws', async () => {
    const t = terminal([]);
    // stdin is empty: the WebSocket closes at once; the greeting may or may not arrive first.
    expect(await main(['ws', `${origin.replace('https:', 'wss:')}/chat`, '--cacert', path('ca.pem'), '--cert', path('client.pem'), '--key', path('client.key')], t.io)).toBe(EXIT.ok);
    expect(t.err()).toContain('websocket open');
    expect(t.out()).toMatch(/^(client=verified\n)?$/);
  });

  it('a missing or broken file is a usage error (exit 2)', async () => {
    const t = terminal();
    expect(await main(['get', `${origin}/`, '--cacert', join(dir, 'missing.pem')], t.io)).toBe(EXIT.usage);
    expect(t.err()).toMatch(/^rxconn: cannot read --cacert .*missing\.pem: ENOENT/);
    const broken = join(dir, 'broken.pem');
    writeFileSync(broken, 'not a certificate');
    const b = terminal();
    expect(await main(['get', `${origin}/`, '--cert', broken, '--key', path('client.key')], b.io)).toBe(EXIT.usage);
    expect(b.err()).toContain('rxconn: RXCONN_INVALID_ARGUMENT');
  });
});
