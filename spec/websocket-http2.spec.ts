/**
 * WebSocket over HTTP/2 (RFC 8441) against node:http2 servers on 127.0.0.1 running ws on the
 * extended CONNECT stream: the request's pseudo-headers and headers, messages both ways next to
 * ordinary requests on the same session, subprotocols, a refusal with status and body, a server
 * without SETTINGS_ENABLE_CONNECT_PROTOCOL (nothing sent), a reset before any close frame, and
 * a graceful shutdown with 1001.
 */
import http2 from 'node:http2';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WebSocketHandshakeError, open, text } from '../lib/index.js';
import type { Connection, WebSocketChannelEvent, WebSocketMessage } from '../lib/index.js';
import { startH2Server } from './helpers/h2-server.js';
import type { H2Server } from './helpers/h2-server.js';
import { connected, leakCheck, next } from './helpers/lifecycle.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** A server-side ws on an accepted extended CONNECT stream. */
function serverWebSocket(stream: ServerHttp2Stream): WebSocket {
  const ServerSide = WebSocket as unknown as new (address: null, protocols: undefined, options: { autoPong: boolean }) => WebSocket;
  const ws = new ServerSide(null, undefined, { autoPong: true });
  (ws as unknown as { setSocket(socket: unknown, head: Buffer, options: object): void }).setSocket(stream, Buffer.alloc(0), {
    allowSynchronousEvents: true,
    maxPayload: 1024 * 1024,
    skipUTF8Validation: false,
  });
  return ws;
}

interface Seen {
  connects: IncomingHttpHeaders[];
  sockets: WebSocket[];
  /** Resolves with the server-side WebSocket once it has received its first message. */
  firstMessage: Promise<WebSocket>;
}

/** An h2c server: CONNECT streams with :protocol websocket go to `onWebSocket`, others get "plain". */
async function wsServer(options: { enable?: boolean; onConnect?: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, seen: Seen) => boolean } = {}): Promise<{ server: H2Server; seen: Seen }> {
  let onFirst!: (ws: WebSocket) => void;
  const seen: Seen = { connects: [], sockets: [], firstMessage: new Promise(resolve => (onFirst = resolve)) };
  const server = await startH2Server(
    (stream, headers) => {
      if (headers[':method'] !== 'CONNECT') {
        stream.respond({ ':status': 200 });
        stream.end('plain');
        return;
      }
      seen.connects.push(headers);
      if (options.onConnect?.(stream, headers, seen)) return;
      const offered = String(headers['sec-websocket-protocol'] ?? '').split(/, */).filter(Boolean);
      stream.respond({ ':status': 200, ...(offered.length > 0 && { 'sec-websocket-protocol': offered.at(-1) }) });
      const ws = serverWebSocket(stream);
      seen.sockets.push(ws);
      ws.on('message', (data, isBinary) => {
        onFirst(ws);
        ws.send(isBinary ? data : `echo:${String(data)}`, { binary: isBinary });
      });
    },
    { settings: { enableConnectProtocol: options.enable ?? true } },
  );
  cleanups.push(() => server.close());
  return { server, seen };
}

function connect(server: H2Server): Connection {
  const conn = open(server.origin, { protocols: ['http2'], closeTimeout: 2_000, retry: { initialDelay: 5, maxDelay: 20 } });
  cleanups.unshift(async () => {
    conn.close();
    await conn.whenClosed();
  });
  return conn;
}

describe('WebSocket over HTTP/2 (RFC 8441)', () => {
  it('an extended CONNECT stream: headers as RFC 8441 §5 says, messages both ways, requests alongside, close 1000', async () => {
    const leaks = leakCheck();
    const { server, seen } = await wsServer();
    const conn = connect(server);
    const chat = conn.websocket('/chat?room=1', { headers: { origin: 'http://example.test' } });
    const events: WebSocketChannelEvent[] = [];
    chat.events.subscribe(event => events.push(event));
    const received: WebSocketMessage[] = [];
    const done = new Promise<void>((resolve, reject) => chat.subscribe({ next: m => received.push(m), error: reject, complete: resolve }));
    chat.send('hi');
    chat.send(Uint8Array.from([1, 2, 3]));
    // An ordinary request on the same session while the WebSocket is open.
    expect((await lastValueFrom(conn.get('/plain').pipe(text()))).body).toBe('plain');
    while (received.length < 2) await new Promise(resolve => setTimeout(resolve, 2));
    expect(received[0]).toBe('echo:hi');
    expect(Buffer.from(received[1] as Uint8Array)).toEqual(Buffer.from([1, 2, 3]));
    chat.close(1000, 'bye');
    await done;

    expect(seen.connects).toHaveLength(1);
    const headers = seen.connects[0]!;
    expect(headers).toMatchObject({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'http', ':path': '/chat?room=1', ':authority': `127.0.0.1:${server.port}`, 'sec-websocket-version': '13', origin: 'http://example.test' });
    expect(headers['sec-websocket-key']).toBeUndefined();
    expect(headers.upgrade).toBeUndefined();
    expect(headers.connection).toBeUndefined();
    expect(server.sessions).toHaveLength(1);
    expect(events.map(e => e.type)).toEqual(['open', 'close']);
    expect(events[1]).toMatchObject({ code: 1000, error: undefined });
    expect(conn.info()).toMatchObject({ protocol: 'http2', state: 'connected' });
    await conn.shutdown();
    await leaks.check();
  });

  it('subprotocol: the server’s choice among those offered', async () => {
    const { server } = await wsServer();
    const conn = connect(server);
    const chat = conn.websocket('/', { protocols: ['v1', 'v2'] });
    const opened = firstValueFrom(chat.events);
    chat.subscribe({ error: () => {} });
    expect(await opened).toMatchObject({ type: 'open', subprotocol: 'v2' });
  });

  it('a server without SETTINGS_ENABLE_CONNECT_PROTOCOL: RXCONN_UNSUPPORTED, nothing sent, the connection carries on', async () => {
    const { server, seen } = await wsServer({ enable: false });
    const conn = connect(server);
    await connected(conn);
    const error = await lastValueFrom(conn.websocket('/')).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'RXCONN_UNSUPPORTED' });
    expect(seen.connects).toEqual([]);
    expect((await lastValueFrom(conn.get('/').pipe(text()))).body).toBe('plain');
  });

  it('a refusal (non-2xx) is a handshake error with status and body; the session and its other streams carry on', async () => {
    const { server } = await wsServer({
      onConnect: stream => {
        stream.respond({ ':status': 403, 'content-type': 'text/plain' });
        stream.end('go away');
        return true;
      },
    });
    const conn = connect(server);
    const error = await lastValueFrom(conn.websocket('/')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebSocketHandshakeError);
    expect(error).toMatchObject({ status: 403, text: 'go away', message: 'websocket handshake refused: the server answered 403 instead of 2xx' });
    expect((await lastValueFrom(conn.get('/').pipe(text()))).body).toBe('plain');
    expect(server.sessions).toHaveLength(1);
  });

  it.each([
    ['RST_STREAM(INTERNAL_ERROR)', http2.constants.NGHTTP2_INTERNAL_ERROR, 'the server reset its HTTP/2 stream'],
    ['RST_STREAM(CANCEL)', http2.constants.NGHTTP2_CANCEL, 'the server ended its HTTP/2 stream without a close frame'],
  ])('a %s before any close frame is an abnormal close (1006); the session carries on', async (_name, rstCode, message) => {
    const { server, seen } = await wsServer();
    const conn = connect(server);
    const chat = conn.websocket('/');
    const ended = lastValueFrom(chat).catch((e: unknown) => e);
    chat.send('hello');
    const ws = await seen.firstMessage;
    (ws as unknown as { _socket: ServerHttp2Stream })._socket.close(rstCode);
    const error = await ended;
    expect(error).toMatchObject({ code: 'RXCONN_WEBSOCKET_CLOSED', closeCode: 1006 });
    expect((error as Error).message).toContain(message);
    expect((await lastValueFrom(conn.get('/').pipe(text()))).body).toBe('plain');
    expect(server.sessions).toHaveLength(1);
  });

  it('a RST_STREAM(CANCEL) after both close frames (as haproxy sends) is a clean close', async () => {
    const { server, seen } = await wsServer();
    const conn = connect(server);
    const chat = conn.websocket('/');
    const ended = new Promise<string>(resolve => chat.subscribe({ error: (e: Error) => resolve(e.message), complete: () => resolve('complete') }));
    chat.send('x');
    const ws = await seen.firstMessage;
    // The server closes with 1000; once it has the client's echo, it resets the stream instead of END_STREAM.
    ws.once('close', () => (ws as unknown as { _socket: ServerHttp2Stream })._socket.close(http2.constants.NGHTTP2_CANCEL));
    ws.close(1000, 'done');
    expect(await ended).toBe('complete');
    expect((await lastValueFrom(conn.get('/').pipe(text()))).body).toBe('plain');
  });

  it('a server GOAWAY whose last stream id is the WebSocket’s: it carries on past the idle linger until it closes; new requests go to the next session', async () => {
    const { server, seen } = await wsServer();
    const conn = connect(server);
    const chat = conn.websocket('/');
    const received: WebSocketMessage[] = [];
    const ended = new Promise<string>(resolve => chat.subscribe({ next: m => received.push(m), error: (e: Error) => resolve(e.message), complete: () => resolve('complete') }));
    chat.send('one');
    const ws = await seen.firstMessage;
    const closing = next(conn, 'closing');
    server.sessions[0]!.goaway(http2.constants.NGHTTP2_NO_ERROR, 1);
    expect(await closing).toMatchObject({ initiator: 'server', goaway: { errorCode: 0 } });
    // A request after the GOAWAY is served on a new session.
    expect((await lastValueFrom(conn.get('/').pipe(text()))).body).toBe('plain');
    expect(server.sessions).toHaveLength(2);
    // Well past the session's idle linger (min(closeTimeout, 1 s)), the WebSocket still works.
    await new Promise(resolve => setTimeout(resolve, 1_300));
    const echoed = new Promise(resolve => ws.once('message', resolve));
    chat.send('two');
    const first = await Promise.race([echoed.then(() => 'echoed'), ended]);
    expect(first).toBe('echoed');
    chat.close(1000, '');
    expect(await ended).toBe('complete');
    expect(received).toEqual(['echo:one', 'echo:two']);
  });

  it('conn.shutdown() closes the WebSocket with 1001, waits for the echo, then closes the session', async () => {
    const { server, seen } = await wsServer();
    const conn = connect(server);
    const chat = conn.websocket('/');
    const ended = new Promise<string>(resolve => chat.subscribe({ error: () => resolve('error'), complete: () => resolve('complete') }));
    chat.send('x');
    const ws = await seen.firstMessage;
    const serverClosed = new Promise<number>(resolve => ws.once('close', code => resolve(code)));
    await conn.shutdown();
    expect(await ended).toBe('complete');
    expect(await serverClosed).toBe(1001);
  });
});
