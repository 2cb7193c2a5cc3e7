/**
 * `webSocket(url)`, the reconnecting WebSocket: lifecycle events, a `messages` stream that
 * survives reconnects, the bounded offline queue flushed after a server restart, refusals,
 * giving up, shutdown and close.
 */
import { describe, expect, it } from 'vitest';
import { filter, firstValueFrom, take, toArray } from 'rxjs';
import { WebSocketHandshakeError, webSocket } from '../lib/index.js';
import type { ReconnectingWebSocket, ReconnectingWebSocketEvent, WebSocketMessage } from '../lib/index.js';
import { leakCheck } from './helpers/lifecycle.js';
import { deadPort, startServer } from './helpers/servers.js';
import { rawWsServer, startWsServer } from './websocket-helpers.js';

const retry = { initialDelay: 5, maxDelay: 20, maxRetries: Infinity };

function nextOf<T extends ReconnectingWebSocketEvent['type']>(ws: ReconnectingWebSocket, type: T): Promise<Extract<ReconnectingWebSocketEvent, { type: T }>> {
  return firstValueFrom(ws.pipe(filter((e): e is Extract<ReconnectingWebSocketEvent, { type: T }> => e.type === type)));
}

/** Records events and messages, and how each stream ended. */
function recordAll(ws: ReconnectingWebSocket): {
  types: () => string[];
  messages: WebSocketMessage[];
  eventsEnd: Promise<{ error?: unknown }>;
  messagesEnd: Promise<{ error?: unknown }>;
} {
  const types: string[] = [];
  const messages: WebSocketMessage[] = [];
  const eventsEnd = new Promise<{ error?: unknown }>(resolve =>
    ws.subscribe({ next: e => types.push(e.type), error: (error: unknown) => resolve({ error }), complete: () => resolve({}) }),
  );
  const messagesEnd = new Promise<{ error?: unknown }>(resolve =>
    ws.messages.subscribe({ next: m => messages.push(m), error: (error: unknown) => resolve({ error }), complete: () => resolve({}) }),
  );
  return { types: () => types, messages, eventsEnd, messagesEnd };
}

describe('webSocket(url)', () => {
  it('connects, upgrades on the URL path and query, echoes, and shuts down with 1001', async () => {
    const leaks = leakCheck();
    const server = await startWsServer({ handleProtocols: () => 'v1' });
    const ws = webSocket(`${server.url}/feed?room=7`, { retry, keepalive: false, protocols: ['v1'], headers: { 'x-token': 't' } });
    const log = recordAll(ws);
    const open = nextOf(ws, 'open');
    const got = firstValueFrom(ws.messages.pipe(take(2), toArray()));
    ws.send('hello');
    ws.send(new Uint8Array([7]));
    expect(await open).toMatchObject({ type: 'open', subprotocol: 'v1' });
    expect(await got).toEqual(['hello', Buffer.from([7])]);
    const peer = server.peers[0]!;
    expect(peer.url).toBe('/feed?room=7');
    await ws.shutdown();
    expect(await peer.closed).toEqual({ code: 1001, reason: '' });
    expect(await log.messagesEnd).toEqual({});
    expect(await log.eventsEnd).toEqual({});
    expect(log.types()).toEqual(['connecting', 'connected', 'upgraded', 'open', 'closing', 'close', 'closed']);
    expect(() => ws.send('late')).toThrow(expect.objectContaining({ code: 'RXCONN_CONNECTION_CLOSED' }));
    await server.close();
    await leaks.check();
  });

  it('re-upgrades after a server restart; messages sent while offline are queued and none is lost', async () => {
    const leaks = leakCheck();
    const server = await startWsServer();
    const ws = webSocket(server.url, { retry, keepalive: false });
    const log = recordAll(ws);
    const first = firstValueFrom(ws.messages.pipe(take(1)));
    ws.send('before');
    expect(await first).toBe('before');
    const closed = nextOf(ws, 'close');
    await server.kill();
    expect(await closed).toMatchObject({ code: 1006, error: { code: 'RXCONN_WEBSOCKET_CLOSED' } });
    // Offline: queued, in order.
    for (let i = 0; i < 100; i++) ws.send(`offline ${i}`);
    expect(ws.queued).toBe(100);
    const reopened = nextOf(ws, 'open');
    const echoed = firstValueFrom(ws.messages.pipe(take(100), toArray()));
    await server.restart();
    await reopened;
    const peer = await server.nextPeer();
    await peer.received(100);
    const expected = Array.from({ length: 100 }, (_, i) => `offline ${i}`);
    expect(peer.messages).toEqual(expected);
    expect(await echoed).toEqual(expected);
    expect(ws.queued).toBe(0);
    // One `messages` stream throughout: it saw the message before the restart and every one after.
    expect(log.messages).toEqual(['before', ...expected]);
    const types = log.types();
    expect(types.filter(t => t === 'open')).toHaveLength(2);
    expect(types).toContain('retrying');
    await ws.shutdown();
    expect(await log.messagesEnd).toEqual({});
    await server.close();
    await leaks.check();
  });

  it('asks again at once when a handshake times out on a connection that stays up', async () => {
    const leaks = leakCheck();
    // The first upgrade times out at 100 ms; the retry waits behind it in the queue until the
    // late 503 (150 ms) frees the socket, then gets its 101 well within its own 100 ms.
    const server = await rawWsServer(() => {}, { lateRefusal: 150 });
    const ws = webSocket(server.origin, { retry, keepalive: false, handshakeTimeout: 100 });
    const log = recordAll(ws);
    await nextOf(ws, 'open');
    expect(log.types()).toEqual(['connecting', 'connected', 'upgraded', 'open']);
    ws.close();
    expect(await log.messagesEnd).toEqual({});
    await server.close();
    await leaks.check();
  });

  it('the offline queue is bounded: RXCONN_QUEUE_FULL, never a silent drop', async () => {
    const leaks = leakCheck();
    const ws = webSocket(`ws://127.0.0.1:${await deadPort()}`, { retry, maxQueued: 3 });
    const log = recordAll(ws);
    ws.send('1');
    ws.send('2');
    ws.send('3');
    expect(() => ws.send('4')).toThrow(
      expect.objectContaining({ code: 'RXCONN_QUEUE_FULL', message: 'the websocket send queue is full (websocket options.maxQueued = 3): the message was not queued' }),
    );
    expect(ws.queued).toBe(3);
    ws.close();
    expect(await log.messagesEnd).toEqual({});
    await ws.connection.whenClosed();
    await leaks.check();
  });

  it('a refused handshake is not retried: messages and events error with it, the connection closes', async () => {
    const leaks = leakCheck();
    const server = await startServer('http1', (_req, res) => {
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end('who are you?');
    });
    const ws = webSocket(server.origin.replace('http:', 'ws:') + '/private', { retry });
    const log = recordAll(ws);
    const { error } = await log.messagesEnd;
    expect(error).toBeInstanceOf(WebSocketHandshakeError);
    expect(error).toMatchObject({ status: 401, text: 'who are you?' });
    expect(await log.eventsEnd).toEqual({ error });
    expect(log.types().slice(-1)).toEqual(['closed']);
    expect(server.requests).toBe(1);
    await server.close();
    await leaks.check();
  });

  it('errors with RXCONN_RETRIES_EXHAUSTED when the connection gives up', async () => {
    const leaks = leakCheck();
    const ws = webSocket(`ws://127.0.0.1:${await deadPort()}`, { retry: { initialDelay: 1, maxDelay: 2, maxRetries: 1 } });
    const log = recordAll(ws);
    expect((await log.messagesEnd).error).toMatchObject({ code: 'RXCONN_RETRIES_EXHAUSTED' });
    expect((await log.eventsEnd).error).toMatchObject({ code: 'RXCONN_RETRIES_EXHAUSTED' });
    await ws.connection.whenClosed();
    await leaks.check();
  });

  it('close() is abrupt: messages complete at once, the socket is gone', async () => {
    const leaks = leakCheck();
    const server = await startWsServer();
    const ws = webSocket(server.url, { retry, keepalive: false });
    const log = recordAll(ws);
    await nextOf(ws, 'open');
    const peer = await server.nextPeer();
    ws.close();
    expect(await log.messagesEnd).toEqual({});
    expect(await log.eventsEnd).toEqual({});
    expect((await peer.closed).code).toBe(1006);
    await server.close();
    await leaks.check();
  });

  it('throws RXCONN_INVALID_ARGUMENT for a bad URL or option, before dialing', () => {
    expect(() => webSocket('ftp://127.0.0.1/')).toThrow('websocket url must use ws:, wss:, http: or https: (got "ftp:")');
    expect(() => webSocket('not a url')).toThrow('websocket url "not a url" is not a valid URL');
    expect(() => webSocket('ws://127.0.0.1/#x')).toThrow('websocket url must not have a fragment (#...)');
    expect(() => webSocket('ws://u:p@127.0.0.1/')).toThrow('websocket url must not carry credentials: send an authorization header instead');
    expect(() => webSocket('ws://127.0.0.1/', { maxQueued: -1 })).toThrow('websocket options.maxQueued must be an integer ≥ 0 (got -1)');
    expect(() => webSocket('ws://127.0.0.1/', { connectTimeout: -1 })).toThrow(expect.objectContaining({ code: 'RXCONN_INVALID_ARGUMENT' }));
  });
});
