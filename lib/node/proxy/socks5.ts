/**
 * SOCKS5 (RFC 1928, with RFC 1929 username/password) on a stream to the proxy, through the
 * `socks` package; its string errors become typed {@link ProxyError}s. Host names go to the
 * proxy as names (ATYP 3: the proxy resolves them), IP literals as ATYP 1 / 4.
 *
 * Two quirks of `socks` are handled here. It reports errors as messages only, with a copy of
 * its options (credentials included) on the error object: we keep only the message, never that
 * object. And it hands bytes that arrived after its final reply back by emitting `data` on the
 * socket in a `setImmediate`, which a TLS or HTTP/2 layer reading the socket's handle would
 * miss: we collect them (and anything after) until that turn has passed, then unshift them.
 */
import type { Duplex } from 'node:stream';
import { SocksClient } from 'socks';
import { ProxyError } from '../../core/errors.js';
import type { Target } from './http1-connect.js';
import { authority } from './url.js';
import type { ProxyHop } from './url.js';

/** RFC 1928 REP names as `socks` prints them, by code. */
const REPLY_CODES: Record<string, number> = {
  Failure: 1,
  NotAllowed: 2,
  NetworkUnreachable: 3,
  HostUnreachable: 4,
  ConnectionRefused: 5,
  TTLExpired: 6,
  CommandNotSupported: 7,
  AddressNotSupported: 8,
};

/** RFC 1928 REP meanings, for messages. */
const REPLY_TEXT: Record<number, string> = {
  1: 'general SOCKS server failure',
  2: 'connection not allowed by ruleset',
  3: 'network unreachable',
  4: 'host unreachable',
  5: 'connection refused',
  6: 'TTL expired',
  7: 'command not supported',
  8: 'address type not supported',
};

/** Maps one `socks` error message to a typed failure of hop `index`. */
export function socksFailure(message: string, hop: ProxyHop, index: number, target: Target): ProxyError {
  const where = authority(target.host, target.port);
  const make = (reason: ProxyError['reason'], text: string, socksReply?: number): ProxyError =>
    new ProxyError(`proxy ${index + 1} (${hop.label}): ${text}`, { reason, hop: index, proxy: hop.label, socksReply });
  const rejected = /^Socks5 proxy rejected connection - (\w+)/.exec(message);
  if (rejected) {
    const code = REPLY_CODES[rejected[1]];
    return make('socks-reply', `SOCKS5 CONNECT ${where} failed: ${code ? `REP ${code}, ${REPLY_TEXT[code]}` : 'an unknown reply code'}`, code);
  }
  if (message.includes('no accepted authentication type')) {
    return make('no-acceptable-method', `the SOCKS5 proxy accepts none of the offered authentication methods (${hop.username === undefined ? 'no authentication; give a username and password' : 'no authentication, username/password'})`);
  }
  if (message === 'Socks5 Authentication failed') return make('auth-failed', 'the SOCKS5 proxy refused the username and password');
  if (message === 'Socket closed') return make('closed', `the SOCKS5 proxy closed the connection before the tunnel to ${where} was up`);
  if (message === 'Proxy connection timed out') return make('closed', `the SOCKS5 proxy did not answer in time for ${where}`);
  if (/invalid|unknown authentication/i.test(message)) return make('protocol', `the SOCKS5 proxy's answer is not valid SOCKS5 (${message})`);
  return make('closed', `SOCKS5 CONNECT ${where} failed: ${message}`);
}

/**
 * Runs the SOCKS5 handshake for `target` on `stream` (connected to proxy number `index`) and
 * resolves with the same stream, paused, once the tunnel is up. Rejects with a {@link ProxyError};
 * `socks` destroys the stream on failure. `timeout` bounds the handshake (the connection's own
 * `connectTimeout` normally ends it first).
 */
export async function socks5Connect(stream: Duplex, target: Target, hop: ProxyHop, index: number, timeout: number): Promise<Duplex> {
  const attempt = SocksClient.createConnection({
    command: 'connect',
    proxy: {
      host: hop.host,
      port: hop.port,
      type: 5,
      ...(hop.username !== undefined && { userId: hop.username, password: hop.password ?? '' }),
    },
    destination: { host: target.host, port: target.port },
    timeout,
    existing_socket: stream,
  });
  // `socks` attached its 'data' listener synchronously; a stream paused by the layer before needs a push.
  stream.resume();
  let socket: Duplex;
  try {
    socket = (await attempt).socket;
  } catch (error) {
    // Only the message: the error object carries `socks`'s options, credentials included.
    throw socksFailure(error instanceof Error ? error.message : String(error), hop, index, target);
  }
  // `socks` emits the bytes that followed its reply in a setImmediate queued before we got here,
  // then resumes the socket: collect until our own setImmediate, then put them back, paused.
  const early: Buffer[] = [];
  const collect = (chunk: Buffer): void => void early.push(chunk);
  socket.on('data', collect);
  await new Promise<void>(resolve => setImmediate(resolve));
  socket.off('data', collect);
  socket.pause();
  if (early.length > 0) socket.unshift(Buffer.concat(early));
  return socket;
}
