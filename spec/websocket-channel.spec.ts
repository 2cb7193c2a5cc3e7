/**
 * `conn.websocket()` against a real ws server on loopback: messages in order, sharing, the send
 * queue, subprotocols, refused handshakes, every way a WebSocket ends, and re-upgrading.
 */
import { describe, expect, it } from 'vitest';
import { filter, firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import type { Observable, Subscription } from 'rxjs';
import { WebSocketHandshakeError, open, text } from '../lib/index.js';
import type { Connection, WebSocketChannelEvent, WebSocketMessage } from '../lib/index.js';
import { connected, leakCheck, next, record } from './helpers/lifecycle.js';
import { startServer } from './helpers/servers.js';
import { rawWsServer, startWsServer } from './websocket-helpers.js';

const fast = { retry: { initialDelay: 5, maxDelay: 20 }, keepalive: false } as const;

/** Subscribes and records the messages and how it ended. */
function watch(channel: Observable<WebSocketMessage>): { messages: WebSocketMessage[]; ended: Promise<{ error?: unknown }> } {
  const messages: WebSocketMessage[] = [];
  const ended = new Promise<{ error?: unknown }>(resolve =>
    channel.subscribe({ next: m => messages.push(m), error: (error: unknown) => resolve({ error }), complete: () => resolve({}) }),
  );
  return { messages, ended };
}

function nextEvent<T extends WebSocketChannelEvent['type']>(events: Observable<WebSocketChannelEvent>, type: T): Promise<Extract<WebSocketChannelEvent, { type: T }>> {
  return firstValueFrom(events.pipe(filter((e): e is Extract<WebSocketChannelEvent, { type: T }> => e.type === type)));
}

/** Resolves once `done()` holds, looking every 2 ms. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise(resolve => setTimeout(resolve, 2));
}

async function end(conn: Connection, ...closers: Array<{ close(): Promise<void> }>): Promise<void> {
  await conn.shutdown();
  for (const c of closers) await c.close();
}

describe('conn.websocket() messages', () => {
  it('echoes text and binary messages in order, as string and Uint8Array', async () => {
    const leaks = leakCheck();
    const server = await startWsServer();
    const conn = open(server.origin, fast);
    const log = record(conn);
    const chat = conn.websocket('/chat');
    const got = firstValueFrom(chat.pipe(take(4), toArray()));
    chat.send('one');
    chat.send(new Uint8Array([1, 2, 3]));
    chat.send('thrée');
    chat.send(Buffer.from('four'));
    const messages = await got;
    // Binary messages are Uint8Arrays (Node Buffers, passed on without a copy).
    expect(messages.map(m => (typeof m === 'string' ? m : [...m]))).toEqual(['one', [1, 2, 3], 'thrée', [...Buffer.from('four')]]);
    expect(messages[1]).toBeInstanceOf(Uint8Array);
    const peer = server.peers[0]!;
    expect(peer.messages).toEqual(['one', Buffer.from([1, 2, 3]), 'thrée', Buffer.from('four')]);
    // take(4) was the last subscriber: the WebSocket closes with 1000, the connection reconnects as HTTP.
    expect(await peer.closed).toEqual({ code: 1000, reason: '' });
    await next(conn, 'connected');
    expect(log.types()).toEqual(['connecting', 'connected', 'upgraded', 'disconnected', 'retrying', 'connecting', 'connected']);
    expect(log.events[3]).toMatchObject({ protocol: 'websocket' });
    expect(await firstValueFrom(conn.get('/after').pipe(text()))).toMatchObject({ status: 200, body: 'GET /after' });
    await end(conn, server);
    await leaks.check();
  });

  it('delivers 10 000 messages each way in order', async () => {
    const leaks = leakCheck();
    const server = await startWsServer();
    const conn = open(server.origin, fast);
    const chat = conn.websocket('/');
    const opened = nextEvent(chat.events, 'open');
    const got = lastValueFrom(chat.pipe(take(10_000), toArray()));
    await opened; // 10 000 is over the default send queue (1 000): send on the open WebSocket
    for (let i = 0; i < 10_000; i++) chat.send(`m${i}`);
    const messages = await got;
    expect(messages).toHaveLength(10_000);
    expect(messages.every((m, i) => m === `m${i}`)).toBe(true);
    await end(conn, server);
    await leaks.check();
  });

  it('is shared: one upgrade for every subscriber; the last unsubscribe closes with 1000', async () => {
    const leaks = leakCheck();
    const server = await startWsServer();
    const conn = open(server.origin, fast);
    const chat = conn.websocket('/');
    const a: WebSocketMessage[] = [];
    const b: WebSocketMessage[] = [];
    const subA = chat.subscribe(m => a.push(m));
    const subB = chat.subscribe(m => b.push(m));
    await nextEvent(chat.events, 'open');
    chat.send('x');
    const peer = await server.nextPeer();
    await peer.received(1);
    await firstValueFrom(chat.pipe(take(1)));
    expect(server.peers).toHaveLength(1);
    expect(a).toEqual(['x']);
    expect(b).toEqual(['x']);
    subA.unsubscribe();
    chat.send('y');
    await peer.received(2);
    await firstValueFrom(chat.pipe(take(1))); // a third subscriber shares too: no new upgrade
    expect(b).toEqual(['x', 'y']);
    expect(a).toEqual(['x']);
    expect(server.peers).toHaveLength(1);
    subB.unsubscribe();
    expect(await peer.closed).toEqual({ code: 1000, reason: '' });
    await end(conn, server);
    await leaks.check();
  });

  it('a subscriber who joins while a message is delivered gets it too, after those before it; one who left during it does not', async () => {
    const leaks = leakCheck();
    const server = await startWsServer();
    const conn = open(server.origin, fast);
    const chat = conn.websocket('/');
    const log: string[] = [];
    const subs: Subscription[] = [];
    subs[1] = chat.subscribe(m => {
      log.push(`1:${String(m)}`);
      // The one subscriber of the channel: a second joins from its handler, a third from the second's.
      if (m === 'x') subs[2] = chat.subscribe(m2 => {
        log.push(`2:${String(m2)}`);
        if (m2 === 'x') subs[3] = chat.subscribe(m3 => log.push(`3:${String(m3)}`));
      });
      if (m === 'y') subs[2]!.unsubscribe();
    });
    await nextEvent(chat.events, 'open');
    const peer = await server.nextPeer();
    // No other subscriber meanwhile: the first message finds the first subscriber alone.
    // (A delivery is synchronous: once the first has its message, the others had theirs.)
    chat.send('x');
    await until(() => log.includes('1:x'));
    chat.send('y');
    await until(() => log.includes('1:y'));
    await peer.received(2);
    expect(log).toEqual(['1:x', '2:x', '3:x', '1:y', '3:y']);
    for (const sub of subs) sub?.unsubscribe();
    await end(conn, server);
    await leaks.check();
  });

  it('one subscriber who leaves after another joined, while a message is delivered to it: the other gets that message and the next', async () => {
    const leaks = leakCheck();
    const server = await startWsServer();
    const conn = open(server.origin, fast);
    const chat = conn.websocket('/');
    const log: string[] = [];
    let second: Subscription | undefined;
    const first: Subscription = chat.subscribe(m => {
      log.push(`1:${String(m)}`);
      second ??= chat.subscribe(m2 => log.push(`2:${String(m2)}`));
      first.unsubscribe();
    });
    await nextEvent(chat.events, 'open');
    chat.send('x');
    await until(() => log.includes('1:x'));
    chat.send('y');
    await until(() => log.includes('2:y'));
    expect(log).toEqual(['1:x', '2:x', '2:y']);
    expect(server.peers).toHaveLength(1);
    second?.unsubscribe();
    await end(conn, server);
    await leaks.check();
  });

  it('a subscribe right after the last unsubscribe waits for the closing WebSocket, then upgrades again', async () => {
    const leaks = leakCheck();
    const server = await startWsServer();
    const conn = open(server.origin, fast);
    const chat = conn.websocket('/');
    const first = firstValueFrom(chat.pipe(take(1)));
    chat.send('one');
    expect(await first).toBe('one');
    // take(1) released the WebSocket: it is closing (1000) on the upgraded connection right now.
    const second = watch(chat.pipe(take(1)));
    chat.send('two');
    expect(chat.queued).toBe(1);
    expect(await second.ended).toEqual({});
    expect(second.messages).toEqual(['two']);
    expect(server.peers).toHaveLength(2);
    expect(await server.peers[0]!.closed).toEqual({ code: 1000, reason: '' });
    await end(conn, server);
    await leaks.check();
  });

  it('queues sends before the upgrade up to maxQueued, then throws RXCONN_QUEUE_FULL', async () => {
    const leaks = leakCheck();
    const server = await startWsServer();
    const conn = open(server.origin, fast);
    const chat = conn.websocket('/', { maxQueued: 2 });
    chat.send('a');
    chat.send('b');
    expect(() => chat.send('c')).toThrow(
      expect.objectContaining({ code: 'RXCONN_QUEUE_FULL', message: 'the websocket send queue is full (websocket options.maxQueued = 2): the message was not queued' }),
    );
    expect(chat.queued).toBe(2);
    const got = firstValueFrom(chat.pipe(take(2), toArray()));
    expect(await got).toEqual(['a', 'b']);
    expect(chat.queued).toBe(0);
    expect(() => chat.send(42 as unknown as string)).toThrow(
      expect.objectContaining({ code: 'RXCONN_INVALID_ARGUMENT', message: 'websocket send() takes a string (text frame) or a Uint8Array (binary frame)' }),
    );
    await end(conn, server);
    expect(() => chat.send('late')).toThrow(expect.objectContaining({ code: 'RXCONN_CONNECTION_CLOSED', message: 'the connection is closed: the message cannot be sent' }));
    expect((await watch(chat).ended).error).toMatchObject({ code: 'RXCONN_CONNECTION_CLOSED' });
    await leaks.check();
  });

  it('refuses HTTP requests while upgraded', async () => {
    const leaks = leakCheck();
    const server = await startWsServer();
    const conn = open(server.origin, fast);
    const chat = conn.websocket('/');
    const sub = chat.subscribe();
    await nextEvent(chat.events, 'open');
    await expect(firstValueFrom(conn.get('/'))).rejects.toMatchObject({ code: 'RXCONN_UNSUPPORTED' });
    sub.unsubscribe();
    await end(conn, server);
    await leaks.check();
  });

  it('throws RXCONN_INVALID_ARGUMENT for bad options and close codes, synchronously', async () => {
    const conn = open('http://127.0.0.1:1', { retry: false });
    expect(() => conn.websocket('chat')).toThrow(expect.objectContaining({ code: 'RXCONN_INVALID_ARGUMENT' }));
    expect(() => conn.websocket('/', { protocols: ['a b'] })).toThrow('websocket subprotocol "a b" is not a valid token');
    const chat = conn.websocket('/');
    expect(() => chat.close(1006)).toThrow('close code 1006 is not allowed: use 1000–1003, 1007–1014 or 3000–4999');
    expect(() => chat.close(1000, 'x'.repeat(200))).toThrow('close reason is 200 bytes in UTF-8: at most 123 are allowed');
    conn.close();
    await conn.whenClosed();
  });
});

describe('conn.websocket() handshake', () => {
  it('negotiates a subprotocol', async () => {
    const leaks = leakCheck();
    const server = await startWsServer({ handleProtocols: protocols => (protocols.has('chat.v2') ? 'chat.v2' : false) });
    const conn = open(server.origin, fast);
    const chat = conn.websocket('/', { protocols: ['chat.v1', 'chat.v2'] });
    const opened = nextEvent(chat.events, 'open');
    const sub = chat.subscribe();
    expect(await opened).toMatchObject({ type: 'open', subprotocol: 'chat.v2', headers: { 'sec-websocket-protocol': 'chat.v2' } });
    expect(chat.subprotocol).toBe('chat.v2');
    expect(server.peers[0]!.ws.protocol).toBe('chat.v2');
    sub.unsubscribe();
    await end(conn, server);
    await leaks.check();
  });

  it('errors when the server picks no subprotocol of those offered, and the connection reconnects', async () => {
    const leaks = leakCheck();
    const server = await startWsServer({ handleProtocols: () => false });
    const conn = open(server.origin, fast);
    const { error } = await watch(conn.websocket('/', { protocols: ['x'] })).ended;
    expect(error).toBeInstanceOf(WebSocketHandshakeError);
    expect(error).toMatchObject({ code: 'RXCONN_PROTOCOL', status: 101, message: 'websocket handshake failed: the server chose no subprotocol (offered: x)' });
    await next(conn, 'connected');
    await end(conn, server);
    await leaks.check();
  });

  it('a refused handshake errors with status and body; the connection stays up on the same socket', async () => {
    const leaks = leakCheck();
    // A plain node:http server: the upgrade request arrives as a request and is answered 403, keep-alive.
    const server = await startServer('http1', (req, res) => {
      if (req.headers.upgrade) {
        res.writeHead(403, { 'content-type': 'text/plain' });
        res.end('go away');
      } else res.end(`${req.method} ${req.url}`);
    });
    const conn = open(server.origin, fast);
    const log = record(conn);
    const { error } = await watch(conn.websocket('/private')).ended;
    expect(error).toBeInstanceOf(WebSocketHandshakeError);
    expect(error).toMatchObject({ code: 'RXCONN_PROTOCOL', status: 403, message: 'websocket handshake refused: the server answered 403 instead of 101', headers: { 'content-type': 'text/plain' } });
    expect((error as WebSocketHandshakeError).text).toBe('go away');
    expect(await firstValueFrom(conn.get('/next').pipe(text()))).toMatchObject({ status: 200, body: 'GET /next' });
    expect(server.connections).toBe(1);
    expect(log.types()).toEqual(['connecting', 'connected']);
    await end(conn, server);
    await leaks.check();
  });

  it('errors RXCONN_TIMEOUT after handshakeTimeout; the connection keeps its socket and the next upgrade succeeds', async () => {
    const leaks = leakCheck();
    const server = await rawWsServer(() => {}, { lateRefusal: 60 });
    const conn = open(server.origin, fast);
    const log = record(conn);
    const chat = conn.websocket('/', { handshakeTimeout: 20 });
    const { error } = await watch(chat).ended;
    expect(error).toMatchObject({ code: 'RXCONN_TIMEOUT', message: 'request exceeded its timeout (20 ms)' });
    // A channel without a deadline: its upgrade waits until the late refusal has been read, on the same socket.
    const patient = conn.websocket('/');
    const again = watch(patient);
    await nextEvent(patient.events, 'open');
    expect(log.types()).toEqual(['connecting', 'connected', 'upgraded']);
    conn.close();
    expect((await again.ended).error).toMatchObject({ code: 'RXCONN_CONNECTION_CLOSED' });
    await conn.whenClosed();
    await server.close();
    await leaks.check();
  });

  it('errors RXCONN_UNSUPPORTED on an HTTP/2 connection whose server did not enable the extended CONNECT (RFC 8441)', async () => {
    const leaks = leakCheck();
    const server = await startServer('http2', (_req, res) => res.end('h2'));
    const conn = open(server.origin, { ...fast, protocols: ['http2'] });
    await connected(conn);
    const { error } = await watch(conn.websocket('/')).ended;
    expect(error).toMatchObject({
      code: 'RXCONN_UNSUPPORTED',
      message: "websocket over HTTP/2 needs the server to allow the extended CONNECT (RFC 8441 SETTINGS_ENABLE_CONNECT_PROTOCOL), and this server does not: nothing was sent; open the connection with protocols: ['http1']",
    });
    await end(conn, server);
    await leaks.check();
  });
});

describe('conn.websocket() closing', () => {
  it.each([
    [1000, ''],
    [1001, 'restarting'],
  ])('completes when the server closes with %i', async (code, reason) => {
    const leaks = leakCheck();
    const server = await startWsServer();
    const conn = open(server.origin, fast);
    const chat = conn.websocket('/');
    const closed = nextEvent(chat.events, 'close');
    const watched = watch(chat);
    const peer = await server.nextPeer();
    peer.ws.close(code, reason);
    expect(await watched.ended).toEqual({});
    expect(await closed).toEqual({ type: 'close', code, reason, error: undefined });
    await next(conn, 'connected');
    await end(conn, server);
    await leaks.check();
  });

  it('errors RXCONN_WEBSOCKET_CLOSED on 4000; resubscribing upgrades again on the next connection', async () => {
    const leaks = leakCheck();
    const server = await startWsServer();
    const conn = open(server.origin, fast);
    const log = record(conn);
    const chat = conn.websocket('/');
    const first = watch(chat);
    (await server.nextPeer()).ws.close(4000, 'bye');
    const { error } = await first.ended;
    expect(error).toMatchObject({ code: 'RXCONN_WEBSOCKET_CLOSED', closeCode: 4000, reason: 'bye', message: 'websocket closed with code 4000 (bye)' });
    const again = firstValueFrom(chat.pipe(take(1)));
    chat.send('again');
    expect(await again).toBe('again');
    expect(server.peers).toHaveLength(2);
    expect(log.types().filter(t => t === 'upgraded')).toHaveLength(2);
    await end(conn, server);
    await leaks.check();
  });

  it('errors RXCONN_WEBSOCKET_CLOSED 1006 when the server drops the connection without a close frame', async () => {
    const leaks = leakCheck();
    const server = await startWsServer();
    const conn = open(server.origin, fast);
    const chat = conn.websocket('/');
    const watched = watch(chat);
    const down = next(conn, 'disconnected');
    (await server.nextPeer()).ws.terminate();
    expect((await watched.ended).error).toMatchObject({
      code: 'RXCONN_WEBSOCKET_CLOSED',
      closeCode: 1006,
      message: 'websocket closed abnormally (1006): the server closed the connection without a close frame',
    });
    expect(await down).toMatchObject({ protocol: 'websocket', error: { code: 'RXCONN_CONNECTION_DOWN' } });
    await next(conn, 'connected');
    await end(conn, server);
    await leaks.check();
  });

  it('errors RXCONN_CONNECTION_DOWN when the connection is reset', async () => {
    const leaks = leakCheck();
    // A raw peer: its socket sends a TCP RST (ws's server socket does not reset reliably).
    const server = await rawWsServer();
    const conn = open(server.origin, fast);
    const chat = conn.websocket('/');
    const opened = nextEvent(chat.events, 'open');
    const watched = watch(chat);
    const peer = await server.nextPeer();
    await opened;
    peer.socket.resetAndDestroy();
    const { error } = await watched.ended;
    expect(error).toMatchObject({ code: 'RXCONN_CONNECTION_DOWN' });
    expect((error as Error).message).toMatch(/^the connection was lost: .*ECONNRESET/);
    await next(conn, 'connected');
    await end(conn, server);
    await leaks.check();
  });

  it('errors RXCONN_CONNECTION_CLOSED when the connection is closed under it', async () => {
    const leaks = leakCheck();
    const server = await startWsServer();
    const conn = open(server.origin, fast);
    const chat = conn.websocket('/');
    const watched = watch(chat);
    await nextEvent(chat.events, 'open');
    conn.close();
    expect((await watched.ended).error).toMatchObject({ code: 'RXCONN_CONNECTION_CLOSED', message: 'the connection was closed' });
    await conn.whenClosed();
    await server.close();
    await leaks.check();
  });

  it('close(code, reason) sends them and completes on the echo', async () => {
    const leaks = leakCheck();
    const server = await startWsServer();
    const conn = open(server.origin, fast);
    const chat = conn.websocket('/');
    const watched = watch(chat);
    const peer = await server.nextPeer();
    chat.close(4001, 'done');
    expect(await peer.closed).toEqual({ code: 4001, reason: 'done' });
    expect(await watched.ended).toEqual({});
    await end(conn, server);
    await leaks.check();
  });

  it('close() during the upgrade sends the queued messages first, then the close frame', async () => {
    const leaks = leakCheck();
    const server = await startWsServer();
    const conn = open(server.origin, fast);
    const chat = conn.websocket('/');
    const watched = watch(chat);
    chat.send('before');
    chat.close(4002, 'early');
    const peer = await server.nextPeer();
    expect(await peer.closed).toEqual({ code: 4002, reason: 'early' });
    expect(peer.messages).toEqual(['before']);
    expect(await watched.ended).toEqual({});
    await end(conn, server);
    await leaks.check();
  });

  it('a message over maxPayload closes with 1009 and errors', async () => {
    const leaks = leakCheck();
    const server = await startWsServer();
    const conn = open(server.origin, fast);
    const chat = conn.websocket('/', { maxPayload: 1024 });
    const watched = watch(chat);
    const peer = await server.nextPeer();
    peer.ws.send('x'.repeat(1024));
    peer.ws.send('y'.repeat(1025));
    const { error } = await watched.ended;
    expect(error).toMatchObject({ code: 'RXCONN_WEBSOCKET_CLOSED', closeCode: 1009, message: 'websocket protocol error: Max payload size exceeded (closed with 1009)' });
    expect(watched.messages).toEqual(['x'.repeat(1024)]);
    expect((await peer.closed).code).toBe(1009);
    await end(conn, server);
    await leaks.check();
  });
});
