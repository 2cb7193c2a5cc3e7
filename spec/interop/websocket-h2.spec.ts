/**
 * WebSocket over HTTP/2 (RFC 8441) against servers nobody here wrote: apache2 with
 * `H2WebSockets on` proxying to websocketd (mod_proxy_wstunnel), and nghttpx as a reverse proxy
 * to websocketd; each WebSocket a `cat` process, so every text message comes back. The negative
 * cases: apache2 with `H2WebSockets off` and nginx's h2c listener (no
 * SETTINGS_ENABLE_CONNECT_PROTOCOL): `RXCONN_UNSUPPORTED`, nothing sent, the connection usable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { WebSocketHandshakeError, open, text } from '../../lib/index.js';
import type { Connection } from '../../lib/index.js';
import { leakCheck } from '../helpers/lifecycle.js';
import { Apache } from './helpers/apache.js';
import { APACHE, NGHTTPX, NGINX, WEBSOCKETD, ensureTools } from './helpers/install.js';
import { Nginx } from './helpers/nginx.js';
import { freePort, start, waitForPort } from './helpers/processes.js';
import type { Proc } from './helpers/processes.js';

const tools = await ensureTools([NGINX, WEBSOCKETD, NGHTTPX, APACHE]);
const noBackend = tools.websocketd;

const connect = (origin: string): Connection => open(origin, { protocols: ['http2'], retry: { initialDelay: 5, maxDelay: 20 } });

/** Sends `messages` on a new channel at `path` and collects as many echoes; also runs a plain request alongside. */
async function echo(conn: Connection, path: string, messages: string[]): Promise<unknown[]> {
  const channel = conn.websocket(path);
  const echoed = firstValueFrom(channel.pipe(take(messages.length), toArray()));
  for (const message of messages) channel.send(message);
  return echoed;
}

describe.skipIf(noBackend)('WebSocket over HTTP/2 through real servers', () => {
  let backendPort: number;
  let websocketd: Proc | undefined;
  beforeAll(async () => {
    backendPort = await freePort();
    websocketd = start(WEBSOCKETD.command, ['--address=127.0.0.1', `--port=${backendPort}`, '--loglevel=error', 'cat']);
    await waitForPort(backendPort);
  });
  afterAll(async () => {
    await websocketd?.kill9();
  });

  describe.skipIf(tools['nghttp2-proxy'])('nghttpx reverse proxy → websocketd', () => {
    let proxy: Proc | undefined;
    let port: number;
    beforeAll(async () => {
      port = await freePort();
      // --conf=/dev/null: Debian's /etc/nghttpx/nghttpx.conf would add its own frontend and backend.
      proxy = start(NGHTTPX.command, ['--conf=/dev/null', `--frontend=127.0.0.1,${port};no-tls`, `--backend=127.0.0.1,${backendPort}`, '--workers=1', '--errorlog-file=/dev/stderr']);
      await waitForPort(port);
    });
    afterAll(async () => {
      await proxy?.kill9();
    });

    it('echoes over an extended CONNECT stream; requests and two WebSockets share the one session', async () => {
      const leaks = leakCheck();
      const conn = connect(`http://127.0.0.1:${port}`);
      const [a, b] = await Promise.all([echo(conn, '/', ['one', 'ünï ✓', 'x'.repeat(20_000)]), echo(conn, '/', ['two'])]);
      expect(a).toEqual(['one', 'ünï ✓', 'x'.repeat(20_000)]);
      expect(b).toEqual(['two']);
      expect(conn.info()).toMatchObject({ protocol: 'http2', state: 'connected' });
      await conn.shutdown();
      await leaks.check();
    });

    it('the open event carries nghttpx’s 200 headers (no sec-websocket-accept)', async () => {
      const conn = connect(`http://127.0.0.1:${port}`);
      const channel = conn.websocket('/');
      const opened = firstValueFrom(channel.events);
      const sub = channel.subscribe({ error: () => {} });
      const event = await opened;
      expect(event).toMatchObject({ type: 'open', subprotocol: '' });
      expect((event as { headers: Record<string, unknown> }).headers['sec-websocket-accept']).toBeUndefined();
      sub.unsubscribe();
      await conn.shutdown();
    });
  });

  describe.skipIf(tools.apache2)('apache2 (H2WebSockets on) → mod_proxy_wstunnel → websocketd', () => {
    let apache: Apache;
    beforeAll(async () => {
      apache = await Apache.create(backendPort, { webSockets: true });
      await apache.start();
    });
    afterAll(async () => {
      await apache?.dispose();
    });

    it('echoes; a GET on the same HTTP/2 connection meanwhile', async () => {
      const leaks = leakCheck();
      const conn = connect(apache.origin);
      const echoed = echo(conn, '/ws', ['through', 'apache']);
      const plain = await lastValueFrom(conn.get('/nothing-here').pipe(text()));
      expect(plain.status).toBe(404);
      expect(await echoed).toEqual(['through', 'apache']);
      await conn.shutdown();
      await leaks.check();
    });

    it('a path that is not proxied: a handshake error with apache’s 404; the connection carries on', async () => {
      const conn = connect(apache.origin);
      const error = await lastValueFrom(conn.websocket('/elsewhere')).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WebSocketHandshakeError);
      expect(error).toMatchObject({ status: 404, message: 'websocket handshake refused: the server answered 404 instead of 2xx' });
      expect(await echo(conn, '/ws', ['still fine'])).toEqual(['still fine']);
      await conn.shutdown();
    });
  });

  describe.skipIf(tools.apache2)('apache2 with H2WebSockets off (negative)', () => {
    let apache: Apache;
    beforeAll(async () => {
      apache = await Apache.create(backendPort, { webSockets: false });
      await apache.start();
    });
    afterAll(async () => {
      await apache?.dispose();
    });

    it('RXCONN_UNSUPPORTED with nothing sent; requests still work', async () => {
      const conn = connect(apache.origin);
      const error = await lastValueFrom(conn.websocket('/ws')).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'RXCONN_UNSUPPORTED' });
      expect((await lastValueFrom(conn.get('/x').pipe(text()))).status).toBe(404);
      await conn.shutdown();
    });
  });

  describe.skipIf(tools['nginx-light'])('nginx h2c (negative: no RFC 8441)', () => {
    let nginx: Nginx;
    beforeAll(async () => {
      nginx = await Nginx.create(backendPort);
      await nginx.start();
    });
    afterAll(async () => {
      await nginx?.dispose();
    });

    it('RXCONN_UNSUPPORTED with nothing sent; requests still work', async () => {
      const conn = connect(nginx.origin('h2c'));
      const error = await lastValueFrom(conn.websocket('/ws')).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'RXCONN_UNSUPPORTED' });
      expect((await lastValueFrom(conn.get('/files/1.bin').pipe(text()))).status).toBe(200);
      await conn.shutdown();
    });
  });
});
