/**
 * Closing handshakes and their bounds: the connection's graceful shutdown sends close 1001 and
 * waits for the echo (bounded by closeTimeout), and a close() whose echo never comes destroys
 * the socket after closeTimeout.
 */
import { describe, expect, it } from 'vitest';
import { filter, firstValueFrom } from 'rxjs';
import type { Observable } from 'rxjs';
import { open } from '../lib/index.js';
import type { WebSocketChannelEvent, WebSocketMessage } from '../lib/index.js';
import { leakCheck, next, record } from './helpers/lifecycle.js';
import { OP, closePayload, rawWsServer, serverFrame, startWsServer } from './websocket-helpers.js';

const retry = { initialDelay: 5, maxDelay: 20 };

function ended(channel: Observable<WebSocketMessage>): Promise<{ error?: unknown }> {
  return new Promise(resolve => channel.subscribe({ error: (error: unknown) => resolve({ error }), complete: () => resolve({}) }));
}

function opened(events: Observable<WebSocketChannelEvent>): Promise<unknown> {
  return firstValueFrom(events.pipe(filter(e => e.type === 'open')));
}

describe('websocket shutdown', () => {
  it('shutdown() sends close 1001 and waits for the echo before closing', async () => {
    const leaks = leakCheck();
    const server = await rawWsServer();
    const conn = open(server.origin, { retry, keepalive: false, closeTimeout: 10_000 });
    const log = record(conn);
    const chat = conn.websocket('/');
    const open$ = opened(chat.events);
    const done = ended(chat);
    const peer = await server.nextPeer();
    await open$;
    let shutDown = false;
    const shutdown = conn.shutdown().then(() => (shutDown = true));
    const close = await peer.frame(f => f.opcode === OP.close);
    expect(close).toMatchObject({ masked: true, payload: closePayload(1001) });
    // The client waits for the server: nothing is closed yet.
    expect(shutDown).toBe(false);
    expect(conn.state).toBe('closing');
    expect(peer.socket.destroyed).toBe(false);
    peer.socket.end(serverFrame(OP.close, closePayload(1001)));
    await shutdown;
    expect(await done).toEqual({});
    expect(log.types().slice(-2)).toEqual(['closing', 'closed']);
    expect(log.events.find(e => e.type === 'closing')).toMatchObject({ initiator: 'client', activeStreams: 1 }); // the open WebSocket
    await server.close();
    await leaks.check();
  });

  it('against a ws server: the server sees 1001, the channel completes, the connection closes', async () => {
    const leaks = leakCheck();
    const server = await startWsServer();
    const conn = open(server.origin, { retry, keepalive: false });
    const chat = conn.websocket('/');
    const done = ended(chat);
    const peer = await server.nextPeer();
    await conn.shutdown();
    expect(await peer.closed).toEqual({ code: 1001, reason: '' });
    expect(await done).toEqual({});
    expect(conn.state).toBe('closed');
    await server.close();
    await leaks.check();
  });

  it('a close handshake that never ends is cut after closeTimeout: RXCONN_CONNECTION_CLOSED', async () => {
    const leaks = leakCheck();
    const server = await rawWsServer(); // reads the close frame, never answers it
    const conn = open(server.origin, { retry, keepalive: false, closeTimeout: 30 });
    const chat = conn.websocket('/');
    const open$ = opened(chat.events);
    const done = ended(chat);
    const peer = await server.nextPeer();
    await open$;
    const started = performance.now();
    await conn.shutdown();
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    expect((await peer.frame(f => f.opcode === OP.close)).payload).toEqual(closePayload(1001));
    expect((await done).error).toMatchObject({
      code: 'RXCONN_CONNECTION_CLOSED',
      message: 'the connection shut down before the server answered the close frame (1001): the socket was destroyed',
    });
    await server.close();
    await leaks.check();
  });

  it('close() whose echo never comes completes after closeTimeout and the socket is destroyed', async () => {
    const leaks = leakCheck();
    const server = await rawWsServer();
    const conn = open(server.origin, { retry, keepalive: false, closeTimeout: 30 });
    const chat = conn.websocket('/');
    const open$ = opened(chat.events);
    const done = ended(chat);
    const peer = await server.nextPeer();
    await open$;
    const down = next(conn, 'disconnected');
    chat.close(1000, 'enough');
    expect((await peer.frame(f => f.opcode === OP.close)).payload).toEqual(closePayload(1000, 'enough'));
    expect(await done).toEqual({});
    expect(await down).toMatchObject({ protocol: 'websocket' });
    await next(conn, 'connected');
    await conn.shutdown();
    await server.close();
    await leaks.check();
  });

  it('a shutdown while the upgrade is in flight lets the 101 arrive, then closes with 1001', async () => {
    const leaks = leakCheck();
    let release!: () => void;
    const released = new Promise<void>(resolve => (release = resolve));
    const server = await rawWsServer(() => {}, { gate: () => released });
    const conn = open(server.origin, { retry, keepalive: false, closeTimeout: 10_000 });
    const log = record(conn);
    const chat = conn.websocket('/');
    const done = ended(chat);
    chat.send('sent before the close');
    const peer = await server.nextPeer(); // the upgrade request arrived; no 101 yet
    const shutdown = conn.shutdown();
    release();
    const close = await peer.frame(f => f.opcode === OP.close);
    expect(close.payload).toEqual(closePayload(1001));
    expect(peer.frames.map(f => f.payload.toString())[0]).toBe('sent before the close');
    peer.socket.end(serverFrame(OP.close, closePayload(1001)));
    await shutdown;
    expect(await done).toEqual({});
    expect(log.types()).toEqual(['connecting', 'connected', 'closing', 'upgraded', 'closed']);
    await server.close();
    await leaks.check();
  });

  it('a shutdown while the upgrade waits in the queue errors it with RXCONN_CONNECTION_CLOSED', async () => {
    const leaks = leakCheck();
    const server = await startWsServer();
    const conn = open(server.origin, { retry, keepalive: false });
    const done = ended(conn.websocket('/'));
    const shutdown = conn.shutdown();
    expect((await done).error).toMatchObject({ code: 'RXCONN_CONNECTION_CLOSED' });
    await shutdown;
    await server.close();
    await leaks.check();
  });
});
