/**
 * Scripted proxies on 127.0.0.1 for the tunnel tests: an HTTP/1.1 CONNECT proxy (cleartext or
 * TLS), an HTTP/2 CONNECT proxy (h2c or TLS) and a SOCKS5 proxy, each forwarding for real to the
 * target it is asked for, with knobs for the wire edge cases (replies split byte by byte, the 2xx
 * and the first tunnelled bytes in one write, refusals, silence). Each records what it received
 * and can be killed and restarted on its port.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { trackSockets } from './servers.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
/** The test CA, and a certificate for 127.0.0.1 and localhost signed by it. */
export const CA = fixture('ca.pem');
export const CERT = { key: fixture('server.key'), cert: fixture('server.pem') };

export interface FakeProxy {
  readonly port: number;
  /** `scheme://[user:pass@]127.0.0.1:port`. */
  url(credentials?: string): string;
  /** Request heads (HTTP/1.1: the raw head text; HTTP/2: the headers as JSON; SOCKS5: `host:port` asked for). */
  readonly requests: string[];
  /** Connections accepted so far. */
  readonly connections: number;
  /** Sockets open now (client side and target side). */
  readonly open: () => number;
  /** Stops listening and destroys every socket: a crash. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

async function listen(server: net.Server, port = 0): Promise<number> {
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

/** Splits `host:port` or `[v6]:port`. */
export function splitAuthority(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  if (!match) throw new Error(`bad authority ${text}`);
  return { host: match[1] ?? match[2], port: Number(match[3]) };
}

/** Pipes `a` and `b` both ways; either side closing closes the other. */
function splice(a: net.Socket | tls.TLSSocket | http2.ServerHttp2Stream, b: net.Socket, head?: Buffer): void {
  if (head && head.length > 0) b.write(head);
  a.pipe(b);
  b.pipe(a);
  a.on('error', () => b.destroy());
  b.on('error', () => a.destroy());
  a.on('close', () => b.destroy());
  b.on('close', () => a.destroy());
}

/** How an HTTP/1.1 CONNECT proxy answers. */
export interface ConnectBehaviour {
  /** `user:pass` required (407 without a proxy-authorization header, `wrongStatus` with a wrong one). */
  readonly auth?: string;
  /** Status for wrong credentials: 407 (squid) or 401 (tinyproxy). Default 407. */
  readonly wrongStatus?: number;
  /** Answer every CONNECT with this status (and a small body) instead of forwarding. */
  readonly status?: number;
  /** The status line of a success. Default `HTTP/1.1 200 Connection established`. */
  readonly okLine?: string;
  /** Wait for the target's first bytes and write them in the same write as the 2xx. */
  readonly coalesce?: boolean;
  /** Answer with a head of this many bytes (a header repeated) before the blank line, then nothing. */
  readonly hugeHead?: number;
  /** Accept and never answer. */
  readonly silent?: boolean;
  /** Serve over TLS (an `https://` proxy). */
  readonly tls?: boolean;
  /** With `tls`: TLS 1.3 only, requiring a client certificate of the test CA. */
  readonly clientCert?: boolean;
}

/** An HTTP/1.1 CONNECT proxy. */
export async function connectProxy(behaviour: ConnectBehaviour = {}): Promise<FakeProxy> {
  const requests: string[] = [];
  let connections = 0;
  const targets = new Set<net.Socket>();
  const onSocket = (socket: net.Socket): void => {
    connections++;
    socket.on('error', () => {});
    // Silent: reads (and so sees the client's close) but never answers.
    if (behaviour.silent) return void socket.resume();
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      // Paused until spliced: bytes the client sends meanwhile must wait, not be dropped.
      socket.pause();
      const head = buffer.subarray(0, end).toString('latin1');
      const rest = buffer.subarray(end + 4);
      requests.push(head);
      answer(socket, head, rest);
    };
    socket.on('data', onData);
  };
  const answer = (socket: net.Socket, head: string, rest: Buffer): void => {
    const [line, ...fields] = head.split('\r\n');
    const auth = fields.find(f => f.toLowerCase().startsWith('proxy-authorization:'))?.slice(20).trim();
    if (behaviour.hugeHead !== undefined) {
      socket.write(`HTTP/1.1 200 Connection established\r\n${'x-padding: ' + 'a'.repeat(behaviour.hugeHead)}\r\n`);
      return;
    }
    if (behaviour.auth !== undefined) {
      const expected = `Basic ${Buffer.from(behaviour.auth).toString('base64')}`;
      if (auth === undefined) return void socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic realm="test"\r\ncontent-length: 6\r\n\r\ndenied');
      if (auth !== expected) return void socket.end(`HTTP/1.1 ${behaviour.wrongStatus ?? 407} Unauthorized\r\ncontent-length: 6\r\n\r\ndenied`);
    }
    if (behaviour.status !== undefined) return void socket.end(`HTTP/1.1 ${behaviour.status} Refused\r\ncontent-length: 5\r\n\r\nnope\n`);
    const [method, target] = line.split(' ');
    if (method !== 'CONNECT') return void socket.end('HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 0\r\n\r\n');
    const { host, port } = splitAuthority(target);
    const upstream = net.connect({ host, port });
    targets.add(upstream);
    upstream.once('close', () => targets.delete(upstream));
    upstream.on('error', () => socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n'));
    const ok = `${behaviour.okLine ?? 'HTTP/1.1 200 Connection established'}\r\n\r\n`;
    upstream.once('connect', () => {
      upstream.removeAllListeners('error');
      if (behaviour.coalesce) {
        upstream.once('data', first => {
          socket.write(Buffer.concat([Buffer.from(ok, 'latin1'), first]));
          splice(socket, upstream, rest);
        });
      } else {
        socket.write(ok);
        splice(socket, upstream, rest);
      }
    });
  };
  const mtls = behaviour.clientCert && { ca: CA, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' as const };
  const server = behaviour.tls ? tls.createServer({ ...CERT, ...mtls }, onSocket) : net.createServer(onSocket);
  return wrap(server, behaviour.tls ? 'https' : 'http', requests, () => connections, targets);
}

async function wrap(server: net.Server, scheme: string, requests: string[], connections: () => number, targets: Set<net.Socket>): Promise<FakeProxy> {
  const { sockets, stop } = trackSockets(server);
  // A TLS server reports its raw sockets through 'connection' too, which is what trackSockets follows.
  const port = await listen(server);
  const kill = async (): Promise<void> => {
    for (const t of targets) t.destroy();
    await stop();
  };
  return {
    port,
    url: credentials => `${scheme}://${credentials ? `${credentials}@` : ''}127.0.0.1:${port}`,
    requests,
    get connections() {
      return connections();
    },
    open: () => sockets.size + targets.size,
    kill,
    restart: async () => {
      await listen(server, port);
    },
    close: kill,
  };
}

/** How a SOCKS5 proxy answers. */
export interface SocksBehaviour {
  /** `user:pass` required (method 2); without, method 0. */
  readonly auth?: string;
  /** Answer the greeting with 0xFF (no acceptable method). */
  readonly noMethod?: boolean;
  /** Answer CONNECT with this REP code (not 0) instead of forwarding. */
  readonly rep?: number;
  /** Write every reply one byte at a time, a turn of the event loop apart. */
  readonly split?: boolean;
  /** The BND.ADDR type of the success reply: 1 (IPv4, default), 3 (a name) or 4 (IPv6). */
  readonly bnd?: 1 | 3 | 4;
}

/** A SOCKS5 proxy (RFC 1928 / 1929). */
export async function socksProxy(behaviour: SocksBehaviour = {}): Promise<FakeProxy> {
  const requests: string[] = [];
  let connections = 0;
  const targets = new Set<net.Socket>();
  const server = net.createServer(socket => {
    connections++;
    socket.on('error', () => {});
    socket.setNoDelay(true);
    const send = async (bytes: number[]): Promise<void> => {
      if (!behaviour.split) {
        socket.write(Buffer.from(bytes));
        return;
      }
      for (const byte of bytes) {
        if (socket.destroyed) return;
        socket.write(Buffer.from([byte]));
        await new Promise(resolve => setTimeout(resolve, 1));
      }
    };
    let buffer = Buffer.alloc(0);
    let stage: 'greeting' | 'auth' | 'request' | 'done' = 'greeting';
    const onData = async (chunk: Buffer): Promise<void> => {
      buffer = Buffer.concat([buffer, chunk]);
      if (stage === 'greeting') {
        if (buffer.length < 2 || buffer.length < 2 + buffer[1]) return;
        const methods = [...buffer.subarray(2, 2 + buffer[1])];
        buffer = buffer.subarray(2 + buffer[1]);
        const wanted = behaviour.auth !== undefined ? 2 : 0;
        if (behaviour.noMethod || !methods.includes(wanted)) {
          await send([5, 0xff]);
          socket.end();
          return;
        }
        stage = wanted === 2 ? 'auth' : 'request';
        await send([5, wanted]);
      }
      if (stage === 'auth') {
        if (buffer.length < 2) return;
        const ulen = buffer[1];
        if (buffer.length < 3 + ulen) return;
        const plen = buffer[2 + ulen];
        if (buffer.length < 3 + ulen + plen) return;
        const user = buffer.subarray(2, 2 + ulen).toString();
        const pass = buffer.subarray(3 + ulen, 3 + ulen + plen).toString();
        buffer = buffer.subarray(3 + ulen + plen);
        if (`${user}:${pass}` !== behaviour.auth) {
          await send([1, 1]);
          socket.end();
          return;
        }
        stage = 'request';
        await send([1, 0]);
      }
      if (stage === 'request') {
        if (buffer.length < 5) return;
        const atyp = buffer[3];
        const length = atyp === 1 ? 4 : atyp === 4 ? 16 : 1 + buffer[4];
        if (buffer.length < 4 + length + 2) return;
        const addr = buffer.subarray(4, 4 + length);
        const host = atyp === 1 ? [...addr].join('.') : atyp === 4 ? ipv6(addr) : addr.subarray(1).toString();
        const port = buffer.readUInt16BE(4 + length);
        const rest = buffer.subarray(4 + length + 2);
        stage = 'done';
        socket.off('data', listener);
        socket.pause();
        requests.push(`${atyp}:${host}:${port}`);
        if (behaviour.rep !== undefined) {
          await send([5, behaviour.rep, 0, 1, 0, 0, 0, 0, 0, 0]);
          socket.end();
          return;
        }
        const upstream = net.connect({ host, port });
        targets.add(upstream);
        upstream.once('close', () => targets.delete(upstream));
        upstream.on('error', () => void send([5, 5, 0, 1, 0, 0, 0, 0, 0, 0]).then(() => socket.end()));
        upstream.once('connect', () => {
          upstream.removeAllListeners('error');
          const bnd = behaviour.bnd === 3 ? [3, 9, ...Buffer.from('localhost')] : behaviour.bnd === 4 ? [4, ...new Array<number>(15).fill(0), 1] : [1, 127, 0, 0, 1];
          void send([5, 0, 0, ...bnd, 0x1f, 0x90]).then(() => splice(socket, upstream, rest));
        });
      }
    };
    const listener = (chunk: Buffer): void => void onData(chunk);
    socket.on('data', listener);
  });
  return wrap(server, 'socks5', requests, () => connections, targets);
}

function ipv6(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** An HTTP/2 CONNECT proxy (h2c, or TLS with ALPN h2 when `secure`). */
export async function http2Proxy(behaviour: { auth?: string; status?: number; secure?: boolean } = {}): Promise<FakeProxy & { sessions: () => number }> {
  const requests: string[] = [];
  let connections = 0;
  const targets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  const server = behaviour.secure ? http2.createSecureServer({ ...CERT, allowHTTP1: false }) : http2.createServer();
  server.on('session', session => {
    connections++;
    sessions.add(session);
    session.on('error', () => {});
    session.once('close', () => sessions.delete(session));
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    requests.push(JSON.stringify(headers));
    if (behaviour.auth !== undefined && headers['proxy-authorization'] !== `Basic ${Buffer.from(behaviour.auth).toString('base64')}`) {
      stream.respond({ ':status': 407 });
      stream.end();
      return;
    }
    if (behaviour.status !== undefined || headers[':method'] !== 'CONNECT') {
      stream.respond({ ':status': behaviour.status ?? 405 });
      stream.end();
      return;
    }
    const { host, port } = splitAuthority(String(headers[':authority']));
    const upstream = net.connect({ host, port });
    targets.add(upstream);
    upstream.once('close', () => targets.delete(upstream));
    upstream.on('error', () => {
      if (!stream.headersSent) stream.respond({ ':status': 502 });
      stream.close(http2.constants.NGHTTP2_CONNECT_ERROR);
    });
    upstream.once('connect', () => {
      upstream.removeAllListeners('error');
      stream.respond({ ':status': 200 });
      splice(stream, upstream);
    });
  });
  const proxy = await wrap(server, behaviour.secure ? 'https' : 'http', requests, () => connections, targets);
  return {
    ...proxy,
    get connections() {
      return connections;
    },
    sessions: () => sessions.size,
    kill: async () => {
      for (const session of sessions) session.destroy();
      await proxy.kill();
    },
    close: async () => {
      for (const session of sessions) session.destroy();
      await proxy.close();
    },
  };
}
