/**
 * Gun's own test scenarios (../shared/reference/gun-research.md §3.3), re-created one test each
 * and named after Gun's (`// gun: SUITE case`), for the ones spec/ did not cover yet.
 */
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { of } from 'rxjs';
import { open, text } from '../lib/index.js';
import { endlessUpload } from './helpers/uploads.js';
import { leakCheck, record } from './helpers/lifecycle.js';
import { FRAME, frame, framesOf, goaway, rawPeer } from './helpers/raw-h2.js';
import { nthConnected } from './helpers/lifecycle.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('HTTP/2', () => {
  // gun: rfc7540_SUITE settings_ack_timeout
  it('closes a session whose server never acknowledges our SETTINGS, with GOAWAY(SETTINGS_TIMEOUT), within connectTimeout', async () => {
    const leaks = leakCheck();
    // The peer sends its own SETTINGS (so the session is up) and never acknowledges ours.
    const peer = await rawPeer(socket => socket.write(frame(FRAME.SETTINGS, 0, 0)));
    closers.push(peer.close);
    const conn = open(`http://127.0.0.1:${peer.port}`, { protocols: ['http2'], connectTimeout: 300, retry: false });
    const log = record(conn);
    const request = firstValueFrom(conn.get('/')).catch((e: unknown) => e);
    await log.done;
    expect(log.types()).toEqual(['connecting', 'connected', 'disconnected']);
    expect(log.events[2]).toMatchObject({ error: { code: 'RXCONN_PROTOCOL' } });
    expect(log.error()).toMatchObject({
      code: 'RXCONN_RETRIES_EXHAUSTED',
      cause: { code: 'RXCONN_PROTOCOL', message: 'the server did not acknowledge our HTTP/2 SETTINGS within connectTimeout (300 ms): closed with SETTINGS_TIMEOUT' },
    });
    expect(await request).toMatchObject({ code: expect.stringMatching(/^RXCONN_/) });
    const socket = peer.sockets[0];
    if (!socket.readableEnded && !socket.destroyed) await once(socket, 'close');
    const goaways = framesOf(peer.received[0]).filter(f => f.type === FRAME.GOAWAY);
    expect(goaways.map(f => f.payload.readUInt32BE(4))).toEqual([4]);
    await leaks.check();
  });
});

describe('send bound', () => {
  // gun: send_errors_SUITE http2_send_request_fail (here on HTTP/1.1: the peer stops reading)
  it('HTTP/1.1: a streamed upload to a peer that stopped reading fails with RXCONN_SEND_TIMEOUT, and the connection goes with it', async () => {
    const leaks = leakCheck();
    const peer = await rawPeer(socket => socket.pause());
    closers.push(peer.close);
    const conn = open(`http://127.0.0.1:${peer.port}`, { sendTimeout: 200, retry: false });
    const log = record(conn);
    const failure = await firstValueFrom(conn.post('/upload', endlessUpload(5_000))).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'RXCONN_SEND_TIMEOUT', timeout: 200, message: 'the peer took no more request body bytes for sendTimeout (200 ms)' });
    await log.done;
    expect(log.types()).toEqual(['connecting', 'connected', 'disconnected']);
    await leaks.check();
  });

  it('HTTP/2: an upload the server stops reading fails with RXCONN_SEND_TIMEOUT; the stream is reset, the session serves on', async () => {
    const server = http2.createServer((req, res) => {
      if (req.url === '/upload') req.pause();
      else res.end('still here');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    closers.push(async () => {
      server.close();
      await once(server, 'close');
    });
    const conn = open(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { protocols: ['http2'], sendTimeout: 200 });
    const failure = await firstValueFrom(conn.post('/upload', endlessUpload(5_000))).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'RXCONN_SEND_TIMEOUT', timeout: 200 });
    expect(await firstValueFrom(conn.get('/other').pipe(text()))).toMatchObject({ status: 200, body: 'still here' });
    expect(conn.info().protocol).toBe('http2');
    conn.close();
    await conn.whenClosed();
  });
});

describe('host and :authority', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rxconn-gun-'));
  let count = 0;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** An HTTP/1.1 or h2c server on a fresh Unix socket answering with the host it was sent. */
  async function hostEcho(kind: 'http1' | 'http2'): Promise<string> {
    const path = join(dir, `h${++count}.sock`);
    const answer = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse | http2.Http2ServerResponse): void =>
      void res.end(String(kind === 'http1' ? req.headers.host : req.headers[':authority']));
    const server = kind === 'http1' ? http.createServer(answer) : http2.createServer(answer);
    server.listen(path);
    await once(server, 'listening');
    closers.push(async () => {
      if (server instanceof http.Server) server.closeAllConnections();
      server.close();
      await once(server, 'close');
    });
    return path;
  }

  // gun: rfc7230_SUITE host_default_port_http, host_other_port_http, host_ipv6 (and rfc7540_SUITE authority_*)
  it.each([
    ['http1', 'http://example.test', 'example.test'],
    ['http1', 'http://example.test:80', 'example.test'],
    ['http1', 'http://example.test:8080', 'example.test:8080'],
    ['http1', 'http://[::1]', '[::1]'],
    ['http1', 'http://[::1]:8080', '[::1]:8080'],
    ['http2', 'http://example.test:80', 'example.test'],
    ['http2', 'http://example.test:8443', 'example.test:8443'],
    ['http2', 'http://[::1]:8080', '[::1]:8080'],
  ] as const)('%s %s sends %s', async (kind, origin, expected) => {
    const socketPath = await hostEcho(kind);
    const conn = open(origin, { socketPath, protocols: [kind], keepalive: false });
    expect(await firstValueFrom(conn.get('/').pipe(text()))).toMatchObject({ status: 200, body: expected });
    conn.close();
    await conn.whenClosed();
  });
});

describe('HTTP/1.1 wire', () => {
  // gun: gun_SUITE ignore_empty_data_http, ignore_empty_data_fin_http
  it('an empty chunk of a streamed body sends nothing: one chunked terminator, at the end', async () => {
    const peer = await rawPeer((socket, received) => {
      socket.on('data', () => {
        if (received().toString('latin1').endsWith('\r\n0\r\n\r\n')) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      });
    });
    closers.push(peer.close);
    const conn = open(`http://127.0.0.1:${peer.port}`, { keepalive: false });
    expect(await firstValueFrom(conn.put('/', of('hello ', '', 'world!', '')).pipe(text()))).toMatchObject({ status: 200, body: 'ok' });
    const wire = peer.received[0].toString('latin1');
    const body = wire.slice(wire.indexOf('\r\n\r\n') + 4);
    expect(body).toBe('6\r\nhello \r\n6\r\nworld!\r\n0\r\n\r\n');
    conn.close();
    await conn.whenClosed();
  });

  // gun: raw_SUITE http11_upgrade_raw_unrequested
  it('a 101 to a request that asked for no upgrade is a protocol error', async () => {
    const peer = await rawPeer(socket => socket.once('data', () => socket.write('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: raw\r\n\r\n')));
    closers.push(peer.close);
    const conn = open(`http://127.0.0.1:${peer.port}`, { keepalive: false, retry: false });
    const failure = await firstValueFrom(conn.get('/')).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'RXCONN_PROTOCOL', message: 'the server switched protocols (101) without being asked to' });
    conn.close();
    await conn.whenClosed();
  });
});

/** A scripted h2c peer: its SETTINGS and the ACK of ours at once, then `then` (per connection). */
async function h2Peer(then: (socket: import('node:net').Socket, received: () => Buffer, index: number) => void): ReturnType<typeof rawPeer> {
  let index = 0;
  return rawPeer((socket, received) => {
    socket.write(Buffer.concat([frame(FRAME.SETTINGS, 0, 0), frame(FRAME.SETTINGS, 1, 0)]));
    then(socket, received, index++);
  });
}

describe('HTTP/2 wire', () => {
  // gun: gun_SUITE ignore_empty_data_http2, ignore_empty_data_fin_http2
  it('an empty chunk of a streamed body sends no DATA frame; the end is one END_STREAM', async () => {
    let done!: () => void;
    const ended = new Promise<void>(resolve => (done = resolve));
    const peer = await h2Peer((socket, received) =>
      socket.on('data', () => {
        if (framesOf(received()).some(f => f.type === FRAME.DATA && (f.flags & 1) === 1)) done();
      }),
    );
    closers.push(peer.close);
    const conn = open(`http://127.0.0.1:${peer.port}`, { protocols: ['http2'], keepalive: false });
    const request = conn.put('/', of('hello ', '', 'world!', '')).subscribe({ error: () => {} });
    await ended;
    const data = framesOf(peer.received[0]).filter(f => f.type === FRAME.DATA);
    expect(Buffer.concat(data.map(f => f.payload)).toString()).toBe('hello world!');
    expect(data.slice(0, -1).every(f => f.payload.length > 0 && (f.flags & 1) === 0)).toBe(true);
    expect(data.filter(f => (f.flags & 1) === 1)).toHaveLength(1);
    request.unsubscribe();
    conn.close();
    await conn.whenClosed();
  });

  // gun: shutdown_SUITE http2_server_goaway_no_streams
  it('a GOAWAY(NO_ERROR) on an idle connection: a quiet rotation to a new connection', async () => {
    const peer = await h2Peer((socket, _received, index) => {
      if (index === 0) setImmediate(() => socket.write(goaway(0, 0)));
    });
    closers.push(peer.close);
    const conn = open(`http://127.0.0.1:${peer.port}`, { protocols: ['http2'], keepalive: false });
    const log = record(conn);
    await nthConnected(conn, 2);
    expect(peer.sockets.length).toBe(2);
    expect(log.types()).not.toContain('retrying');
    expect(conn.state).toBe('connected');
    conn.close();
    await conn.whenClosed();
  });
});
