/**
 * Gun's PING and ping/pong scenarios (../shared/reference/gun-research.md §3.3, D8, D10, G8),
 * named after Gun's (`// gun: SUITE case`): PING ACKs we never asked for, keepalive PINGs that
 * cannot go out, and WebSocket control frames kept from the user.
 */
import type net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { open } from '../lib/index.js';
import type { WebSocketMessage } from '../lib/index.js';
import { endlessUpload } from './helpers/uploads.js';
import { leakCheck, next, record } from './helpers/lifecycle.js';
import { FRAME, frame, framesOf, rawPeer } from './helpers/raw-h2.js';
import type { RawFrame } from './helpers/raw-h2.js';
import { OP, closePayload, rawWsServer, serverFrame } from './websocket-helpers.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const ACK = 0x1;

/**
 * A scripted HTTP/2 server: sends its SETTINGS, acknowledges ours, and hands every later frame
 * from the client to `onFrame`.
 */
async function h2Peer(onFrame: (socket: net.Socket, frame: RawFrame) => void = () => {}): Promise<{ port: number; pings: () => number }> {
  let pings = 0;
  const peer = await rawPeer((socket, received) => {
    let seen = 0;
    socket.write(frame(FRAME.SETTINGS, 0, 0));
    socket.on('data', () => {
      const frames = framesOf(received());
      for (const f of frames.slice(seen)) {
        if (f.type === FRAME.SETTINGS && !(f.flags & ACK)) socket.write(frame(FRAME.SETTINGS, ACK, 0));
        else {
          if (f.type === FRAME.PING && !(f.flags & ACK)) pings++;
          onFrame(socket, f);
        }
      }
      seen = frames.length;
    });
  });
  closers.push(peer.close);
  return { port: peer.port, pings: () => pings };
}

describe('HTTP/2 PING', () => {
  // gun: rfc7540_SUITE keepalive_tolerance_unrequested_ping_acks
  it('unrequested PING ACKs end the session with RXCONN_PROTOCOL (node:http2 allows none), with no uncaught error', async () => {
    const leaks = leakCheck();
    // Our one PING gets its true ACK, then 100 ACKs nobody asked for; then silence.
    const peer = await h2Peer((socket, f) => {
      if (f.type !== FRAME.PING || f.flags & ACK) return;
      socket.write(frame(FRAME.PING, ACK, 0, f.payload));
      for (let i = 0; i < 100; i++) socket.write(frame(FRAME.PING, ACK, 0, Buffer.alloc(8, i)));
    });
    const conn = open(`http://127.0.0.1:${peer.port}`, { protocols: ['http2'], keepalive: false, retry: false });
    const log = record(conn);
    await next(conn, 'connected');
    expect(await firstValueFrom(conn.ping())).toBeGreaterThanOrEqual(0);
    await log.done;
    expect(log.types()).toEqual(['connecting', 'connected', 'disconnected']);
    expect(log.events[2]).toMatchObject({ error: { code: 'RXCONN_PROTOCOL', message: 'the server broke the HTTP/2 protocol: Protocol error' } });
    await leaks.check();
  });

  // gun: rfc7540_SUITE keepalive_tolerance_unrequested_ping_acks (an ACK that is not ours earns no credit)
  it('a PING ACK whose payload is not the one we sent earns no keepalive credit: RXCONN_PROTOCOL', async () => {
    const leaks = leakCheck();
    // Were the wrong ACK taken as an answer, the keepalive would go on pinging (every 10 ms).
    let keptPinging!: (outcome: 'kept pinging') => void;
    const manyPings = new Promise<'kept pinging'>(resolve => (keptPinging = resolve));
    const peer = await h2Peer((socket, f) => {
      if (f.type !== FRAME.PING || f.flags & ACK) return;
      socket.write(frame(FRAME.PING, ACK, 0, Buffer.from('notyours')));
      if (peer.pings() >= 5) keptPinging('kept pinging');
    });
    const conn = open(`http://127.0.0.1:${peer.port}`, { protocols: ['http2'], keepalive: { interval: 10, timeout: 5_000 }, retry: false });
    const log = record(conn);
    expect(await Promise.race([log.done.then(() => 'ended' as const), manyPings])).toBe('ended');
    expect(peer.pings()).toBe(1);
    expect(log.events[2]).toMatchObject({ error: { code: 'RXCONN_PROTOCOL', message: 'the server acknowledged a PING we did not send (its payload is not ours)' } });
    await leaks.check();
  });

  // gun: ping_SUITE h2_user_ping, answered with a foreign payload
  it('ping(): an ACK whose payload is not ours errors RXCONN_PROTOCOL and ends the session', async () => {
    const leaks = leakCheck();
    const peer = await h2Peer((socket, f) => {
      if (f.type === FRAME.PING && !(f.flags & ACK)) socket.write(frame(FRAME.PING, ACK, 0, Buffer.from('notyours')));
    });
    const conn = open(`http://127.0.0.1:${peer.port}`, { protocols: ['http2'], keepalive: false, retry: false });
    const log = record(conn);
    await next(conn, 'connected');
    const failure = await firstValueFrom(conn.ping()).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'RXCONN_PROTOCOL', message: 'the server acknowledged a PING we did not send (its payload is not ours)' });
    await log.done;
    expect(log.types()).toEqual(['connecting', 'connected', 'disconnected']);
    expect(log.events[2]).toMatchObject({ error: failure });
    await leaks.check();
  });
});

/** A SETTINGS frame setting INITIAL_WINDOW_SIZE to its maximum, then a connection WINDOW_UPDATE to match: the client may send all it has. */
function openWindows(): Buffer {
  const settings = Buffer.alloc(6);
  settings.writeUInt16BE(0x4, 0);
  settings.writeUInt32BE(2 ** 31 - 1, 2);
  const increment = Buffer.alloc(4);
  increment.writeUInt32BE(2 ** 31 - 1 - 65_535, 0);
  return Buffer.concat([frame(FRAME.SETTINGS, 0, 0, settings), frame(FRAME.WINDOW_UPDATE, 0, 0, increment)]);
}

describe('HTTP/2 PINGs that cannot be sent', () => {
  // gun: send_errors_SUITE http2_send_ping_fail
  it('a keepalive PING stuck behind an upload the server stopped reading ends the session with RXCONN_KEEPALIVE_TIMEOUT; the upload errors typed', async () => {
    const leaks = leakCheck();
    // The peer lets us send without limit, then reads nothing more: our writes (the PING among them) stay queued.
    const peer = await rawPeer(socket => {
      socket.write(frame(FRAME.SETTINGS, 0, 0));
      socket.once('data', () => {
        socket.write(Buffer.concat([frame(FRAME.SETTINGS, ACK, 0), openWindows()]));
        socket.pause();
      });
    });
    closers.push(peer.close);
    const conn = open(`http://127.0.0.1:${peer.port}`, { protocols: ['http2'], keepalive: { interval: 20, timeout: 300 }, sendTimeout: 60_000, retry: false });
    const log = record(conn);
    const failure = await firstValueFrom(conn.post('/upload', endlessUpload(100_000))).catch((e: unknown) => e);
    await log.done;
    expect(log.types()).toEqual(['connecting', 'connected', 'disconnected']);
    expect(log.events[2]).toMatchObject({ error: { code: 'RXCONN_KEEPALIVE_TIMEOUT' } });
    expect(failure).toMatchObject({ code: expect.stringMatching(/^RXCONN_/) });
    await leaks.check();
  });

  // gun: send_errors_SUITE http2_send_ping_ack_fail
  it('a server flooding PINGs while it reads nothing (our ACKs cannot go out) ends the session with RXCONN_PROTOCOL, no uncaught exception', async () => {
    const leaks = leakCheck();
    const ping = frame(FRAME.PING, 0, 0, Buffer.alloc(8));
    const flood = Buffer.concat(Array.from({ length: 4096 }, () => ping));
    const peer = await rawPeer(socket => {
      socket.write(frame(FRAME.SETTINGS, 0, 0));
      socket.once('data', () => {
        socket.write(frame(FRAME.SETTINGS, ACK, 0));
        socket.pause();
        // Our PING ACKs pile up unread until the client gives up on the session.
        const pour = (): void => {
          while (!socket.destroyed && socket.write(flood));
          if (!socket.destroyed) socket.once('drain', pour);
        };
        pour();
      });
    });
    closers.push(peer.close);
    const conn = open(`http://127.0.0.1:${peer.port}`, { protocols: ['http2'], keepalive: false, retry: false });
    const log = record(conn);
    await log.done;
    expect(log.types()).toEqual(['connecting', 'connected', 'disconnected']);
    // nghttp2 refuses to queue more than its bound of unsent PING ACKs.
    expect(log.events[2]).toMatchObject({
      error: { code: 'RXCONN_PROTOCOL', message: 'the server broke the HTTP/2 protocol: Flooding was detected in this HTTP/2 session, and it must be closed' },
    });
    await leaks.check();
  });
});

describe('WebSocket ping and pong', () => {
  // gun: ws_SUITE http11_keepalive_default_silence_pings
  it('pings and pongs from the server are never delivered as messages; each ping is answered with a pong', async () => {
    const leaks = leakCheck();
    const server = await rawWsServer();
    const conn = open(server.origin, { keepalive: { interval: 5, timeout: 5_000 }, retry: false });
    const chat = conn.websocket('/');
    const messages: WebSocketMessage[] = [];
    const last = new Promise<void>(resolve =>
      chat.subscribe(message => {
        messages.push(message);
        if (message === 'last') resolve();
      }),
    );
    const peer = await server.nextPeer();
    // Our keepalive pings get their pongs; the server pings too, and sends an unsolicited pong.
    for (let i = 0; i < 3; i++) {
      const ours = await peer.frame(f => f.opcode === OP.ping && peer.frames.filter(g => g.opcode === OP.ping).indexOf(f) === i);
      peer.socket.write(serverFrame(OP.pong, ours.payload));
    }
    peer.socket.write(serverFrame(OP.ping, 'from the server'));
    peer.socket.write(serverFrame(OP.pong, 'unsolicited'));
    const pong = await peer.frame(f => f.opcode === OP.pong);
    expect(pong.payload).toEqual(Buffer.from('from the server'));
    peer.socket.write(serverFrame(OP.text, 'last'));
    await last;
    expect(messages).toEqual(['last']);
    chat.close(1000);
    const close = await peer.frame(f => f.opcode === OP.close);
    peer.socket.end(serverFrame(OP.close, close.payload));
    await conn.shutdown();
    await server.close();
    expect(close.payload).toEqual(closePayload(1000));
    await leaks.check();
  });
});
