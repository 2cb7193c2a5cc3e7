/**
 * WebSockets of a browser connection, on the native `WebSocket`, in Chromium: echo, a server
 * that drops them (1006) and the reconnect, shutdown, and what a page cannot do.
 */
import { firstValueFrom, filter, take, toArray } from 'rxjs';
import { describe, expect, test, vi } from 'vitest';
import { commands } from 'vitest/browser';
import { open, webSocket } from '../../lib/browser/index.js';
import type { ReconnectingWebSocketEvent, RxconnError, WebSocketMessage } from '../../lib/browser/index.js';
import { next, origin, track } from './helpers.js';

const FAST = { retry: { initialDelay: 20, maxDelay: 100, maxRetries: 1_000 } } as const;

describe('conn.websocket()', () => {
  test('echoes text and binary messages; close() completes it', async () => {
    const o = await origin('http1');
    const conn = track(open(o.url, FAST));
    const chat = conn.websocket('/ws');
    const received = firstValueFrom(chat.pipe(take(2), toArray()));
    chat.send('hello');
    chat.send(new Uint8Array([1, 2, 3]));
    const [textMessage, binary] = await received;
    expect(textMessage).toBe('hello');
    expect(binary).toBeInstanceOf(Uint8Array);
    expect([...(binary as Uint8Array)]).toEqual([1, 2, 3]);
    const done = new Promise<string>(resolve => chat.subscribe({ complete: () => resolve('complete'), error: () => resolve('error') }));
    chat.close(1000, 'bye');
    expect(await done).toBe('complete');
    await vi.waitFor(async () => expect((await commands.originState(o.id)).log).toContain('ws close 1000'));
    await conn.shutdown();
  });

  test('the server drops it without a close frame → RXCONN_WEBSOCKET_CLOSED 1006, the link reconnects, and resubscribing opens a new one', async () => {
    const o = await origin('http1');
    const conn = track(open(o.url, FAST));
    const chat = conn.websocket('/ws');
    const opened = firstValueFrom(chat.events.pipe(filter(e => e.type === 'open')));
    const ended = new Promise<unknown>(resolve => chat.subscribe({ error: resolve }));
    await opened;
    const down = next(conn, 'disconnected');
    expect(await commands.killWebSockets(o.id)).toBe(1);
    const error = (await ended) as RxconnError & { closeCode: number };
    expect(error.code).toBe('RXCONN_WEBSOCKET_CLOSED');
    expect(error.closeCode).toBe(1006);
    expect((await down).error.message).toBe('a WebSocket of the connection closed abnormally (1006): the server closed it without a close frame');
    await next(conn, 'connected');
    const again = firstValueFrom(chat);
    chat.send('again');
    expect(await again).toBe('again');
    await conn.shutdown();
  });

  test('shutdown() closes it with 1000 and waits for the echo: subscribers complete', async () => {
    const o = await origin('http1');
    const conn = track(open(o.url, FAST));
    const chat = conn.websocket('/ws');
    const result = new Promise<string>(resolve => chat.subscribe({ complete: () => resolve('complete'), error: (e: RxconnError) => resolve(e.code) }));
    await firstValueFrom(chat.events.pipe(filter(e => e.type === 'open')));
    await conn.shutdown();
    expect(await result).toBe('complete');
    await vi.waitFor(async () => expect((await commands.originState(o.id)).clients).toBe(0));
    expect((await commands.originState(o.id)).log).toContain('ws close 1000');
  });

  test('what a page cannot do is refused, not ignored', async () => {
    const o = await origin('http1');
    const conn = track(open(o.url, FAST));
    const withHeaders = conn.websocket('/ws', { headers: { 'x-token': 'secret' } });
    await expect(firstValueFrom(withHeaders)).rejects.toMatchObject({
      code: 'RXCONN_UNSUPPORTED',
      message: 'websocket options.headers cannot be sent from a browser: the WebSocket API sets the handshake headers itself',
    });
    const chat = conn.websocket('/ws');
    chat.subscribe({ error: () => {} });
    await firstValueFrom(chat.events.pipe(filter(e => e.type === 'open')));
    expect(() => chat.close(1001)).toThrow('close code 1001 cannot be sent from a browser: the WebSocket API allows only 1000 and 3000–4999');
    conn.close();
    await conn.whenClosed();
    await vi.waitFor(async () => expect((await commands.originState(o.id)).clients).toBe(0));
  });
});

describe('webSocket(url)', () => {
  test('echo, a server kill (1006), the reconnect, and the echo again', async () => {
    const o = await origin('http1');
    const ws = webSocket(`${o.wsUrl}/ws`, FAST);
    track(ws.connection);
    const messages: WebSocketMessage[] = [];
    ws.messages.subscribe(m => messages.push(m));
    const events: ReconnectingWebSocketEvent[] = [];
    ws.subscribe({ next: e => events.push(e), error: () => {} });
    ws.send('one');
    await vi.waitFor(() => expect(messages).toEqual(['one']));
    await commands.killWebSockets(o.id);
    await vi.waitFor(() => expect(events.filter(e => e.type === 'open')).toHaveLength(2));
    expect(events.find(e => e.type === 'close')).toMatchObject({ code: 1006, error: { code: 'RXCONN_WEBSOCKET_CLOSED' } });
    expect(events.map(e => e.type)).toContain('disconnected');
    ws.send('two');
    await vi.waitFor(() => expect(messages).toEqual(['one', 'two']));
    await ws.shutdown();
    await vi.waitFor(async () => expect((await commands.originState(o.id)).clients).toBe(0));
  });
});
