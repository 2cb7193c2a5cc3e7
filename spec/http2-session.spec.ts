/**
 * The HTTP/2 session against real node:http2 servers on 127.0.0.1 (h2c and TLS), driven directly
 * through the Session interface: no connection core, no mocks.
 */
import { once } from 'node:events';
import { constants } from 'node:http2';
import { Subject, firstValueFrom, of } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConnectionClosedError,
  ConnectionDownError,
  InvalidArgumentError,
  KeepaliveTimeoutError,
  ProtocolError,
  StreamRefusedError,
  StreamResetError,
} from '../lib/core/errors.js';
import type { ResponseEvent } from '../lib/core/events.js';
import { createHttp2Session } from '../lib/node/http2-session.js';
import { resolveNodeOptions as resolveOptions } from '../lib/node/open.js';
import { prepareRequest } from '../lib/core/request-init.js';
import type { Session } from '../lib/core/session.js';
import {
  answer,
  connectSession,
  dial,
  recorder,
  expectNothingLeft,
  resourceCounts,
  send,
  socketClosed,
  startH2Server,
  startRoutedH2Server,
  startRawServer,
  startStallProxy,
} from './helpers/h2-server.js';
import type { H2Server, H2ServerOptions, Outcome, RoutedH2Server, Started } from './helpers/h2-server.js';

/** Cleanups of the current test, run last-in first-out. */
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** A routed server (see startRoutedH2Server), closed after the test. */
async function server(options: H2ServerOptions = {}): Promise<RoutedH2Server> {
  const s = await startRoutedH2Server(options);
  cleanups.push(() => s.close());
  return s;
}

async function connect(s: H2Server, options: Parameters<typeof connectSession>[1] = {}, onCapacity?: () => void) {
  const c = await connectSession(s, options, onCapacity);
  cleanups.push(async () => {
    c.session.destroy(new ConnectionClosedError('test over'));
    await socketClosed(c.socket);
  });
  return c;
}

const types = (events: ResponseEvent[]): string[] => events.map(e => e.type);

describe.each([
  { name: 'h2c', tls: false },
  { name: 'TLS (ALPN h2)', tls: true },
])('HTTP/2 session over $name', ({ tls }) => {
  it('reports ready after the server SETTINGS, then serves a GET with 1xx, headers, data and trailers', async () => {
    const s = await server({ tls });
    const { session, socket, rec } = await connect(s);
    if (tls) expect((socket as import('node:tls').TLSSocket).alpnProtocol).toBe('h2');
    expect(rec.calls).toEqual(['ready']);
    expect(session.protocol).toBe('http2');
    expect(session.canStart()).toBe(true);

    const out = await send(session, { path: '/hello' }).done;
    expect(out.error).toBeUndefined();
    expect(types(out.events)).toEqual(['inform', 'response', 'data', 'trailers']);
    expect(out.events[0]).toEqual({ type: 'inform', status: 103, headers: { link: '</style.css>; rel=preload' } });
    const head = out.events[1];
    expect(head.type === 'response' && head.status).toBe(200);
    expect(head.type === 'response' && head.headers).toMatchObject({ 'set-cookie': ['a=1', 'b=2'], 'x-a': 'v' });
    expect(Object.keys(head.type === 'response' ? head.headers : {}).some(k => k.startsWith(':'))).toBe(false);
    expect(out.text).toBe('hello');
    expect(out.events[3]).toEqual({ type: 'trailers', headers: { 'x-checksum': 'abc' } });
    expect(s.sessions).toHaveLength(1);
  });

  it('does not listen for informational responses when the sink hears none (informs: false): the same response, without its 103', async () => {
    const s = await server({ tls });
    const { session } = await connect(s);
    const out = await send(session, { path: '/hello' }, { informs: false }).done;
    expect(out.error).toBeUndefined();
    expect(types(out.events)).toEqual(['response', 'data', 'trailers']);
    expect(out.text).toBe('hello');
    expect(types((await send(session, { path: '/hello' }, { informs: true }).done).events)).toEqual(['inform', 'response', 'data', 'trailers']);
  });

  it('sends string, byte and streamed (Observable) bodies', async () => {
    const s = await server({ tls });
    const { session } = await connect(s);
    expect((await send(session, { method: 'POST', path: '/echo', body: 'text body' }).done).text).toBe('text body');
    expect((await send(session, { method: 'POST', path: '/echo', body: new Uint8Array([104, 105]) }).done).text).toBe('hi');
    expect((await send(session, { method: 'PUT', path: '/echo', body: of('a', new Uint8Array([98]), 'c') }).done).text).toBe('abc');
    const big = 'z'.repeat(300_000); // beyond the 64 KiB stream window: flow control applies
    expect((await send(session, { method: 'POST', path: '/echo', body: big }).done).text).toBe(big);
  });
});

describe('HTTP/2 session: streams', () => {
  it('streams a body in both directions at once (full duplex echo)', async () => {
    const s = await server();
    const { session } = await connect(s);
    const body = new Subject<string>();
    const echoed: string[] = [];
    let done!: () => void;
    const finished = new Promise<void>(resolve => (done = resolve));
    session.start(prepareRequest({ method: 'POST', path: '/echo', body }), {
      next: event => {
        if (event.type === 'response') body.next('one;');
        if (event.type === 'data') {
          echoed.push(Buffer.from(event.data).toString());
          if (echoed.join('') === 'one;') {
            body.next('two');
            body.complete();
          }
        }
      },
      error: error => {
        throw error;
      },
      unprocessed: error => {
        throw error;
      },
      complete: () => done(),
    });
    await finished;
    expect(echoed.join('')).toBe('one;two');
  });

  it('runs 200 concurrent requests over one session within a server limit of 10 streams', async () => {
    let open = 0;
    let maxOpen = 0;
    const s = await startH2Server((stream, headers) => {
      open++;
      maxOpen = Math.max(maxOpen, open);
      stream.on('close', () => open--);
      setImmediate(() => {
        stream.respond({ ':status': 200 });
        stream.end(String(headers[':path']));
      });
    }, { settings: { maxConcurrentStreams: 10 } });
    cleanups.push(() => s.close());

    // A tiny queue, as the core keeps: start while canStart(), resume on onCapacity.
    const waiting = Array.from({ length: 200 }, (_, i) => `/n/${i}`);
    const started: Array<Promise<Outcome>> = [];
    let blockedAtLimit = 0;
    const queue: { session?: Session } = {};
    const drain = (): void => {
      const target = queue.session;
      if (!target) return;
      while (waiting.length > 0 && target.canStart()) started.push(send(target, { path: waiting.shift() }).done);
      if (waiting.length > 0) blockedAtLimit++;
    };
    queue.session = (await connect(s, {}, drain)).session;
    drain();
    while (started.length < 200) await Promise.all(started);
    const outcomes = await Promise.all(started);

    expect(outcomes.map(o => o.text)).toEqual(Array.from({ length: 200 }, (_, i) => `/n/${i}`));
    expect(outcomes.every(o => o.status === 200 && o.error === undefined)).toBe(true);
    expect(blockedAtLimit).toBeGreaterThan(0);
    expect(maxOpen).toBe(10);
    expect(s.sessions).toHaveLength(1);
  });

  it('reports capacity when the server raises its stream limit', async () => {
    const s = await server({ settings: { maxConcurrentStreams: 1 } });
    const { session, rec } = await connect(s);
    const first = send(session, { path: '/hold' });
    await s.heldCount(1);
    expect(session.canStart()).toBe(false);
    s.sessions[0].settings({ maxConcurrentStreams: 5 });
    while (!rec.calls.includes('capacity')) await new Promise(resolve => setImmediate(resolve));
    expect(session.canStart()).toBe(true);
    answer(s.held[0]);
    expect((await first.done).text).toBe('ok');
  });

  it('cancels one of many streams with RST_STREAM(CANCEL); the others and the session go on', async () => {
    const s = await server();
    const { session, rec } = await connect(s);
    const many = Array.from({ length: 5 }, () => send(session, { path: '/hold-data' }));
    await s.heldCount(5);
    while (!many.every(m => m.events.some(e => e.type === 'data'))) await new Promise(resolve => setImmediate(resolve));
    many[2].cancel();
    const reset = s.held[2];
    if (!reset.closed) await once(reset, 'close');
    expect(reset.rstCode).toBe(constants.NGHTTP2_CANCEL);
    for (const [i, stream] of s.held.entries()) if (i !== 2) answer(stream, ' done');
    const outcomes = await Promise.all(many.filter((_, i) => i !== 2).map(m => m.done));
    expect(outcomes.map(o => o.text)).toEqual(Array(4).fill('first done'));
    expect(many[2].settled()).toBe(false); // a cancelled stream's sink hears nothing more
    expect((await send(session, { path: '/' }).done).text).toBe('ok');
    expect(s.resets).toEqual([constants.NGHTTP2_CANCEL]);
    expect(rec.calls.filter(c => c !== 'capacity')).toEqual(['ready']);
  });

  it('survives late DATA frames of many cancelled 1 MiB downloads (connection window intact)', async () => {
    const s = await server();
    const { session, rec } = await connect(s);
    const downloads = Array.from({ length: 50 }, () => send(session, { path: `/big/${1 << 20}` }));
    while (!downloads.every(d => d.events.some(e => e.type === 'data'))) await new Promise(resolve => setImmediate(resolve));
    for (const d of downloads) d.cancel();
    const after = await send(session, { path: `/big/${1 << 20}` }).done;
    expect(after.error).toBeUndefined();
    expect(after.text.length).toBe(1 << 20);
    expect(rec.calls.filter(c => c === 'draining' || c === 'close')).toEqual([]);
  });

  it('never resets a stream whose response has ended (cancel after the end is a no-op)', async () => {
    const s = await server();
    const { session } = await connect(s);
    const done = send(session, { path: '/' });
    await done.done;
    done.cancel();
    expect((await send(session, { path: '/' }).done).text).toBe('ok');
    expect(s.resets).toEqual([]);
  });

  it('serves 2,000 sequential requests on one session without a GOAWAY (no resets sent)', async () => {
    const s = await server();
    const { session, rec } = await connect(s);
    for (let i = 0; i < 2_000; i++) {
      const out = await send(session, { path: '/' }).done;
      if (out.text !== 'ok') throw new Error(`request ${i} failed: ${String(out.error)}`);
    }
    expect(s.resets).toEqual([]);
    expect(s.sessions).toHaveLength(1);
    expect(rec.calls.filter(c => c === 'draining' || c === 'close')).toEqual([]);
    expect(session.canStart()).toBe(true);
  });

  it('maps a peer RST_STREAM to StreamResetError and REFUSED_STREAM to StreamRefusedError; the session stays usable', async () => {
    const s = await server();
    const { session } = await connect(s);
    const reset = await send(session, { path: '/rst' }).done;
    expect(reset.error).toBeInstanceOf(StreamResetError);
    expect(reset.error).toMatchObject({ code: 'RXCONN_STREAM_RESET', errorCode: 2, message: 'the stream was reset with INTERNAL_ERROR (code 2)' });
    expect(types(reset.events)).toEqual(['response', 'data']);
    const refused = await send(session, { path: '/refuse' }).done;
    expect(refused.error).toBeInstanceOf(StreamRefusedError);
    expect(refused.unprocessed).toBe(true); // handed back to the core, which sends it again
    expect(refused.error?.message).toBe('the server refused the stream (REFUSED_STREAM (code 7)): it was not processed, and it could not be sent again');
    expect((await send(session, { path: '/' }).done).text).toBe('ok');
  });

  it('errors a response whose headers exceed maxHeaderSize with ProtocolError', async () => {
    const s = await server();
    const { session } = await connect(s, { maxHeaderSize: 1024 });
    for (let i = 0; i < 2; i++) {
      const out = await send(session, { path: '/huge-headers' }).done;
      expect(out.error).toBeInstanceOf(ProtocolError);
      expect(out.error?.message).toMatch(/options\.maxHeaderSize \(1024 bytes\)/);
      expect((await send(session, { path: '/' }).done).text).toBe('ok');
    }
  });

  it('once the server acknowledged our SETTINGS, node applies maxHeaderSize by the same measure, to the byte', async () => {
    // :status 200 (7 + 3 + 32 octets), date x (4 + 1 + 32) and x-pad (5 + n + 32): exactly 1024 for n = 908.
    const s = await startH2Server((stream, headers) => {
      stream.respond({ ':status': 200, date: 'x', 'x-pad': 'p'.repeat(Number(String(headers[':path']).slice(1))) });
      stream.end('ok');
    });
    cleanups.push(() => s.close());
    const { session } = await connect(s, { maxHeaderSize: 1024 });
    const node = (session as unknown as { session: import('node:http2').ClientHttp2Session }).session;
    if (node.pendingSettingsAck) await once(node, 'localSettings');
    const atLimit = await send(session, { path: '/908' }).done;
    expect(atLimit.error).toBeUndefined();
    expect(atLimit.text).toBe('ok');
    const over = await send(session, { path: '/909' }).done;
    expect(over.error).toBeInstanceOf(ProtocolError);
    expect(over.error?.message).toMatch(/^the stream was reset with ENHANCE_YOUR_CALM \(code 11\) before a response: the response headers exceed options\.maxHeaderSize \(1024 bytes\)/);
    expect((await send(session, { path: '/0' }).done).text).toBe('ok');
  });

  it('rejects a header HTTP/2 forbids with InvalidArgumentError, before anything is sent', async () => {
    const s = await server();
    const { session } = await connect(s);
    const out = await send(session, { path: '/', headers: { te: 'gzip' } }).done;
    expect(out.error).toBeInstanceOf(InvalidArgumentError);
    expect(out.error?.message).toMatch(/^the request cannot be sent over HTTP\/2: /);
    expect((await send(session, { path: '/' }).done).text).toBe('ok');
  });

  it('passes a request body Observable error through unchanged and cancels the stream', async () => {
    const s = await server();
    const { session } = await connect(s);
    const body = new Subject<string>();
    const started = send(session, { method: 'POST', path: '/hold', body });
    body.next('part');
    await s.heldCount(1);
    const boom = new Error('boom');
    body.error(boom);
    expect((await started.done).error).toBe(boom);
    if (!s.held[0].closed) await once(s.held[0], 'close');
    expect(s.held[0].rstCode).toBe(constants.NGHTTP2_CANCEL);
  });

  it('completes a response that ends before the request body, stops the body and frees the slot', async () => {
    const s = await server({ settings: { maxConcurrentStreams: 1 } });
    const { session } = await connect(s);
    const body = new Subject<string>();
    const started = send(session, { method: 'POST', path: '/early', body });
    body.next('a first chunk of an upload the server will not read');
    const out = await started.done;
    expect(out.status).toBe(413);
    expect(out.text).toBe('too large');
    expect(body.observed).toBe(false);
    while (!session.canStart()) await new Promise(resolve => setImmediate(resolve));
    expect((await send(session, { path: '/' }).done).text).toBe('ok');
  });
});

describe('HTTP/2 session: GOAWAY, shutdown and loss', () => {
  async function fourHeld(s: RoutedH2Server, sess: Session): Promise<Started[]> {
    const streams = Array.from({ length: 4 }, () => send(sess, { path: '/hold' }));
    await s.heldCount(4);
    expect(s.held.map(h => h.id)).toEqual([1, 3, 5, 7]);
    return streams;
  }

  it('server GOAWAY(NO_ERROR): streams above last-stream-id are refused first, the others finish, then close', async () => {
    const s = await server();
    // node's server keeps streams 5 and 7 open after its GOAWAY and so never closes the socket:
    // the session waits min(closeTimeout, 1 s) for the peer's close after its last stream.
    const { session, rec } = await connect(s, { closeTimeout: 20 });
    const streams = await fourHeld(s, session);
    s.sessions[0].goaway(constants.NGHTTP2_NO_ERROR, 3, Buffer.from('maintenance'));
    const draining = await rec.draining;
    expect(draining.goaway).toEqual({ errorCode: 0, lastStreamId: 3, debugData: 'maintenance' });
    expect(draining.reason).toBe('the server sent GOAWAY with NO_ERROR (code 0), last stream id 3 ("maintenance")');
    expect(streams.map(st => st.settled())).toEqual([false, false, true, true]);
    expect(session.canStart()).toBe(false);
    const refused = await streams[3].done;
    expect(refused.error).toBeInstanceOf(StreamRefusedError);
    expect(refused.unprocessed).toBe(true); // handed back to the core, which sends it again
    expect(refused.error?.message).toBe('the server sent GOAWAY with last stream id 3: this stream was not processed, and it could not be sent again');

    answer(s.held[0], 'one');
    answer(s.held[1], 'three');
    expect((await streams[0].done).text).toBe('one');
    expect((await streams[1].done).text).toBe('three');
    const closed = await rec.closed;
    expect(closed).toBeInstanceOf(ConnectionDownError);
    expect(closed.message).toBe(`the server closed the connection: ${draining.reason}`);
    expect(rec.calls.filter(c => c !== 'capacity')).toEqual(['ready', 'draining', 'close']);
  });

  it('server GOAWAY with an error code: refused above last-stream-id; the rest are left to the core', async () => {
    const s = await server();
    const { session, rec, socket } = await connect(s);
    const streams = await fourHeld(s, session);
    s.sessions[0].goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM, 3);
    const closed = await rec.closed;
    expect(closed).toBeInstanceOf(ConnectionDownError);
    expect(closed.message).toBe('the server closed the connection: the server sent GOAWAY with ENHANCE_YOUR_CALM (code 11), last stream id 3');
    expect((await streams[2].done).error).toBeInstanceOf(StreamRefusedError);
    expect((await streams[3].done).error).toBeInstanceOf(StreamRefusedError);
    await socketClosed(socket);
    await new Promise(resolve => setImmediate(resolve));
    expect(streams.map(st => st.settled())).toEqual([false, false, true, true]);
    expect(rec.calls).toEqual(['ready', 'draining', 'close']);
  });

  it('server graceful close during a long download: the download completes, then the session closes', async () => {
    const size = 8 << 20;
    const s = await server();
    const { session, rec } = await connect(s);
    const download = send(session, { path: `/big/${size}` });
    while (!download.events.some(e => e.type === 'data')) await new Promise(resolve => setImmediate(resolve));
    s.sessions[0].close();
    const draining = await rec.draining;
    expect(draining.goaway).toMatchObject({ errorCode: 0, lastStreamId: 1 });
    expect(download.settled()).toBe(false);
    const out = await download.done;
    expect(out.error).toBeUndefined();
    expect(out.text.length).toBe(size);
    expect(await rec.closed).toBeInstanceOf(ConnectionDownError);
    expect(rec.calls.filter(c => c !== 'capacity')).toEqual(['ready', 'draining', 'close']);
  });

  it('shutdown(): GOAWAY(NO_ERROR) to the server, refuses new streams, closes after the last one', async () => {
    const s = await server();
    const { session, rec, socket } = await connect(s);
    const active = send(session, { path: '/hold' });
    await s.heldCount(1);
    const goaway = once(s.sessions[0], 'goaway');
    session.shutdown();
    session.shutdown(); // idempotent
    expect(session.canStart()).toBe(false);
    expect((await goaway)[0]).toBe(constants.NGHTTP2_NO_ERROR);
    expect(rec.calls).toEqual(['ready']);
    answer(s.held[0], 'finished');
    expect((await active.done).text).toBe('finished');
    expect(await rec.closed).toBeInstanceOf(ConnectionClosedError);
    await socketClosed(socket);
    expect(rec.calls).toEqual(['ready', 'close']);
  });

  it('shutdown() with no active stream closes at once', async () => {
    const s = await server();
    const { session, rec } = await connect(s);
    session.shutdown();
    expect((await rec.closed).message).toBe('the connection was shut down');
  });

  it('server drops the socket: onClose(ConnectionDownError) once and last; active streams are left to the core', async () => {
    const s = await server();
    const { session, rec, socket } = await connect(s);
    const active = send(session, { path: '/hold' });
    await s.heldCount(1);
    s.dropConnections();
    const closed = await rec.closed;
    expect(closed).toBeInstanceOf(ConnectionDownError);
    expect(closed.message).toMatch(/^the (server closed the connection|connection was lost: .*)$/);
    await socketClosed(socket);
    await new Promise(resolve => setImmediate(resolve));
    expect(active.settled()).toBe(false);
    expect(rec.calls).toEqual(['ready', 'close']);
    expect(session.canStart()).toBe(false);
  });

  it('garbage instead of an HTTP/2 preface: onClose(ProtocolError), never ready', async () => {
    const raw = await startRawServer(socket => socket.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n'));
    cleanups.push(() => raw.close());
    const socket = await dial(raw.port);
    const rec = recorder();
    createHttp2Session(socket, resolveOptions(`http://127.0.0.1:${raw.port}`, { protocols: ['http2'] }), rec.listener);
    const closed = await rec.closed;
    expect(closed).toBeInstanceOf(ProtocolError);
    expect(closed.message).toBe('the server did not answer with an HTTP/2 preface: Protocol error');
    await socketClosed(socket);
    expect(rec.calls).toEqual(['close']);
  });

  it('destroy(): abrupt, idempotent, onClose(error) at once; no socket or timer is left', async () => {
    const before = resourceCounts();
    const s = await server();
    const { session, rec, socket } = await connectSession(s, { keepalive: { interval: 20, timeout: 1_000 } });
    const active = send(session, { path: '/hold' });
    await s.heldCount(1);
    const error = new ConnectionClosedError('closed by the test');
    session.destroy(error);
    expect(rec.calls).toEqual(['ready', 'close']);
    session.destroy(new ConnectionClosedError('again'));
    expect(await rec.closed).toBe(error);
    await socketClosed(socket);
    await s.close();
    cleanups.pop();
    expect(active.settled()).toBe(false);
    expect(rec.calls).toEqual(['ready', 'close']);
    await expectNothingLeft(before);
  });
});

describe('HTTP/2 session: keepalive and ping', () => {
  it('ping() emits one round-trip time in ms, then completes', async () => {
    const s = await server();
    const { session } = await connect(s);
    const rtt = await firstValueFrom(session.ping!());
    expect(rtt).toBeGreaterThanOrEqual(0);
    expect(rtt).toBeLessThan(1_000);
  });

  it('keeps pinging a healthy server without closing', async () => {
    const s = await server();
    const { rec } = await connect(s, { keepalive: { interval: 5, timeout: 1_000 } });
    let pings = 0;
    s.sessions[0].on('ping', () => pings++);
    while (pings < 5) await once(s.sessions[0], 'ping');
    expect(rec.calls).toEqual(['ready']);
  });

  it('a peer that stops answering PINGs closes the session with KeepaliveTimeoutError within interval + timeout', async () => {
    const interval = 30;
    const timeout = 60;
    const before = resourceCounts();
    const s = await server();
    const proxy = await startStallProxy(s.port);
    cleanups.push(() => proxy.close());
    const socket = await dial(proxy.port);
    const rec = recorder();
    const sess = createHttp2Session(socket, resolveOptions(`http://127.0.0.1:${proxy.port}`, { protocols: ['http2'], keepalive: { interval, timeout } }), rec.listener);
    await rec.ready;
    expect((await send(sess, { path: '/' }).done).text).toBe('ok');
    proxy.stall();
    const stalledAt = performance.now();
    const closed = await rec.closed;
    const elapsed = performance.now() - stalledAt;
    expect(closed).toBeInstanceOf(KeepaliveTimeoutError);
    expect(closed.message).toBe('no keepalive answer within keepalive.timeout (60 ms)');
    expect(elapsed).toBeLessThan(interval + timeout + 400);
    expect(rec.calls).toEqual(['ready', 'capacity', 'close']);
    await socketClosed(socket);
    await proxy.close();
    await s.close();
    cleanups.length = 0;
    await expectNothingLeft(before);
  });
});
