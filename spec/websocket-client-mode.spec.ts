/**
 * The bytes on the wire, against a scripted raw peer: ws runs in client mode on the upgraded
 * socket (every frame we send is masked; the server's unmasked frames are accepted, a masked one
 * is a protocol error), bytes read past the 101 are not lost, fragments are reassembled, pings
 * are answered, and a broken 101 is refused. Guards `lib/node/websocket/client-socket.ts`, which
 * relies on two ws internals.
 */
import { describe, expect, it } from 'vitest';
import { firstValueFrom, take, toArray } from 'rxjs';
import type { Observable } from 'rxjs';
import { WebSocketHandshakeError, open } from '../lib/index.js';
import type { WebSocketMessage } from '../lib/index.js';
import { leakCheck, next } from './helpers/lifecycle.js';
import { OP, closePayload, rawWsServer, serverFrame } from './websocket-helpers.js';

const fast = { retry: { initialDelay: 5, maxDelay: 20 }, keepalive: false } as const;

function ended(channel: Observable<WebSocketMessage>): Promise<{ error?: unknown }> {
  return new Promise(resolve => channel.subscribe({ error: (error: unknown) => resolve({ error }), complete: () => resolve({}) }));
}

describe('client mode on the upgraded socket', () => {
  it('masks every frame it sends: text, binary, ping and close', async () => {
    const leaks = leakCheck();
    const server = await rawWsServer();
    const conn = open(server.origin, { ...fast, keepalive: { interval: 5, timeout: 5_000 } });
    const chat = conn.websocket('/raw');
    const done = ended(chat);
    const bytes = new Uint8Array([0, 1, 2, 250]);
    chat.send('hello');
    chat.send(bytes);
    const peer = await server.nextPeer();
    expect(peer.request).toMatch(/^GET \/raw HTTP\/1\.1\r\n/);
    expect(peer.request).toMatch(/\r\nsec-websocket-version: 13(\r\n|$)/);
    const ping = await peer.frame(f => f.opcode === OP.ping);
    peer.socket.write(serverFrame(OP.pong, ping.payload)); // keep the keepalive happy
    chat.close(4003, 'bye');
    const close = await peer.frame(f => f.opcode === OP.close);
    peer.socket.end(serverFrame(OP.close, close.payload));
    expect(await done).toEqual({});
    const [text, binary] = peer.frames;
    expect(text).toMatchObject({ opcode: OP.text, masked: true, fin: true, payload: Buffer.from('hello') });
    expect(binary).toMatchObject({ opcode: OP.binary, masked: true, payload: Buffer.from(bytes) });
    expect(bytes).toEqual(new Uint8Array([0, 1, 2, 250])); // masking did not touch the caller's bytes
    expect(ping.masked).toBe(true);
    expect(close).toMatchObject({ masked: true, payload: closePayload(4003, 'bye') });
    expect(peer.frames.every(f => f.masked)).toBe(true);
    await conn.shutdown();
    await server.close();
    await leaks.check();
  });

  it('reads frames that arrived with the 101 (head), unmasked, and reassembles fragments', async () => {
    const leaks = leakCheck();
    const after101 = Buffer.concat([serverFrame(OP.text, 'early'), serverFrame(OP.text, 'hel', { fin: false }), serverFrame(0x0, 'lo')]);
    const server = await rawWsServer(() => {}, { after101 });
    const conn = open(server.origin, fast);
    const chat = conn.websocket('/');
    const got = firstValueFrom(chat.pipe(take(3), toArray()));
    const peer = await server.nextPeer();
    peer.socket.write(serverFrame(OP.binary, Buffer.from([9, 8])));
    expect(await got).toEqual(['early', 'hello', Buffer.from([9, 8])]);
    // take(3) unsubscribed: the client closes with 1000.
    const close = await peer.frame(f => f.opcode === OP.close);
    expect(close.payload).toEqual(closePayload(1000));
    peer.socket.end(serverFrame(OP.close, close.payload));
    await next(conn, 'connected');
    await conn.shutdown();
    await server.close();
    await leaks.check();
  });

  it('answers a server ping with a masked pong of the same payload', async () => {
    const leaks = leakCheck();
    const server = await rawWsServer();
    const conn = open(server.origin, fast);
    const chat = conn.websocket('/');
    const sub = chat.subscribe();
    const peer = await server.nextPeer();
    peer.socket.write(serverFrame(OP.ping, 'are you there'));
    const pong = await peer.frame(f => f.opcode === OP.pong);
    expect(pong).toMatchObject({ masked: true, payload: Buffer.from('are you there') });
    sub.unsubscribe();
    peer.socket.end(serverFrame(OP.close, closePayload(1000)));
    await conn.shutdown();
    await server.close();
    await leaks.check();
  });

  it('a masked server frame is a protocol error: close 1002 and RXCONN_WEBSOCKET_CLOSED', async () => {
    const leaks = leakCheck();
    const server = await rawWsServer();
    const conn = open(server.origin, { ...fast, closeTimeout: 5_000 });
    const chat = conn.websocket('/');
    const done = ended(chat);
    const peer = await server.nextPeer();
    peer.socket.write(serverFrame(OP.text, 'masked', { mask: true }));
    const close = await peer.frame(f => f.opcode === OP.close);
    expect(close.payload.readUInt16BE(0)).toBe(1002);
    peer.socket.end(serverFrame(OP.close, closePayload(1002)));
    expect((await done).error).toMatchObject({ code: 'RXCONN_WEBSOCKET_CLOSED', closeCode: 1002, message: 'websocket protocol error: Invalid WebSocket frame: MASK must be clear (closed with 1002)' });
    await conn.shutdown();
    await server.close();
    await leaks.check();
  });

  it('invalid UTF-8 in a text frame closes with 1007', async () => {
    const leaks = leakCheck();
    const server = await rawWsServer();
    const conn = open(server.origin, fast);
    const chat = conn.websocket('/');
    const done = ended(chat);
    const peer = await server.nextPeer();
    peer.socket.write(serverFrame(OP.text, Buffer.from([0xff, 0xfe])));
    const close = await peer.frame(f => f.opcode === OP.close);
    expect(close.payload.readUInt16BE(0)).toBe(1007);
    peer.socket.end(serverFrame(OP.close, closePayload(1007)));
    expect((await done).error).toMatchObject({ code: 'RXCONN_WEBSOCKET_CLOSED', closeCode: 1007 });
    await conn.shutdown();
    await server.close();
    await leaks.check();
  });

  it('refuses a 101 with a wrong sec-websocket-accept and drops the socket; the connection reconnects', async () => {
    const leaks = leakCheck();
    const server = await rawWsServer(() => {}, { accept: 'bm90IHRoZSByaWdodCBvbmU=' });
    const conn = open(server.origin, fast);
    const down = next(conn, 'disconnected');
    const { error } = await ended(conn.websocket('/'));
    expect(error).toBeInstanceOf(WebSocketHandshakeError);
    expect(error).toMatchObject({ status: 101, message: 'websocket handshake failed: sec-websocket-accept does not match the key sent' });
    expect(await down).toMatchObject({ protocol: 'websocket' });
    await next(conn, 'connected');
    await conn.shutdown();
    await server.close();
    await leaks.check();
  });
});
