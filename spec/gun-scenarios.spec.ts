/**
 * Gun's own test scenarios (../shared/reference/gun-research.md §3.3), re-created one test each
 * and named after Gun's (`// gun: SUITE case`), for the ones spec/ did not cover yet.
 */
import { once } from 'node:events';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Observable, firstValueFrom } from 'rxjs';
import { open, text } from '../lib/index.js';
import { leakCheck, record } from './helpers/lifecycle.js';
import { FRAME, frame, framesOf, rawPeer } from './helpers/raw-h2.js';

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

/** A streamed body of `count` chunks of 64 KiB, one a millisecond. */
function endlessUpload(count: number): Observable<Uint8Array> {
  return new Observable<Uint8Array>(subscriber => {
    let sent = 0;
    const timer = setInterval(() => {
      if (sent++ === count) subscriber.complete();
      else subscriber.next(new Uint8Array(65_536));
    }, 1);
    return () => clearInterval(timer);
  });
}

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
    await conn.close();
  });
});
