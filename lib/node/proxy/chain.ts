/**
 * The chain: the first proxy dialled over TCP (or TLS for `https://`), each next hop reached
 * through the tunnel of the one before (HTTP/1.1 or HTTP/2 CONNECT, or SOCKS5), then the origin
 * through the last tunnel, with TLS to the origin on top (SNI, certificate check and ALPN
 * against the origin). Every attempt builds the whole chain anew.
 *
 * Every layer (socket, TLS socket, HTTP/2 CONNECT stream) is reported to `onSocket` as it is
 * made, so the connection waits for each to close before `closed`. The layers live and die
 * together: when any of them closes, the others are closed (an HTTP/2 proxy session gracefully,
 * with GOAWAY), so a graceful close of the origin session closes the chain after it, and a
 * killed proxy ends the origin session.
 */
import { MAX_TIMER } from '../../core/time.js';
import type { ClientHttp2Session } from 'node:http2';
import net from 'node:net';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { Observable } from 'rxjs';
import { ProtocolError, ProxyError, TlsError, toConnectionError } from '../../core/errors.js';
import type { ConnectWait, RxconnError } from '../../core/errors.js';
import type { Intermediary, Protocol } from '../../core/events.js';
import type { ResolvedOptions } from '../../core/options.js';
import type { TlsOptions } from '../tls-options.js';
import { confirmTls13 } from '../tls13-confirm.js';
import { http1Connect } from './http1-connect.js';
import type { Target } from './http1-connect.js';
import { http2Connect, proxySession } from './http2-connect.js';
import { socks5Connect } from './socks5.js';
import { authority, intermediary } from './url.js';
import type { ProxyHop } from './url.js';

/** What the chain hands over: the stream to the origin, the protocol to speak on it, the hops. */
export interface Tunnel {
  /** A `net.Socket`, a TLS socket, or an HTTP/2 CONNECT stream given the few socket methods the sessions call. */
  readonly socket: Socket;
  readonly protocol: Protocol;
  readonly intermediaries: readonly Intermediary[];
}

const ALPN: Record<Protocol, string> = { http2: 'h2', http1: 'http/1.1' };
/** How long the far end of a tunnel gets to close its side after ours has ended, in ms (see {@link Layers.linger}). */
const LINGER = 1_000;

/** The protocol a TLS peer chose by ALPN within `offered`, or `undefined` if it chose outside it. */
export function alpnChoice(socket: tls.TLSSocket, offered: readonly Protocol[]): Protocol | undefined {
  const alpn = socket.alpnProtocol;
  if (alpn === 'h2' && offered.includes('http2')) return 'http2';
  if ((alpn === 'http/1.1' || !alpn) && offered.includes('http1')) return 'http1';
  return undefined;
}

/**
 * An HTTP/2 CONNECT stream is a Duplex, not a socket: the HTTP/1.1 session and `info()` call
 * socket-only methods and getters. These are no-ops (TCP options belong to the proxy's socket).
 */
function socketLike(stream: Duplex): Socket {
  if (stream instanceof net.Socket) return stream;
  const holder = stream as Duplex & Partial<Pick<Socket, 'setKeepAlive' | 'setNoDelay'>>;
  holder.setKeepAlive ??= () => holder as unknown as Socket;
  holder.setNoDelay ??= () => holder as unknown as Socket;
  return holder as unknown as Socket;
}

/** Resolves on `event` of `emitter`; rejects on its `error` or `close`. */
function whenReady(emitter: Duplex, event: string, failure: (error?: Error) => RxconnError): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      emitter.off(event, onReady);
      emitter.off('error', onError);
      emitter.off('close', onClose);
    };
    const onReady = (): void => {
      cleanup();
      resolve();
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(failure(error));
    };
    const onClose = (): void => {
      cleanup();
      reject(failure());
    };
    emitter.once(event, onReady);
    emitter.once('error', onError);
    emitter.once('close', onClose);
  });
}

/** The layers of one chain, outermost first, closed together. */
class Layers {
  readonly #layers: Array<Duplex | ClientHttp2Session> = [];
  #closing = false;

  constructor(readonly onSocket: ((socket: Socket) => void) | undefined) {}

  add<T extends Duplex>(stream: T): T {
    this.#layers.push(stream);
    this.onSocket?.(socketLike(stream));
    // A late error from a layer being torn down must not become an uncaught exception.
    stream.on('error', () => {});
    stream.once('close', () => this.close());
    return stream;
  }

  addSession(session: ClientHttp2Session): void {
    this.#layers.push(session);
    session.once('close', () => this.close(true));
  }

  /**
   * Once the origin session has ended its side of `stream` (the innermost layer: nothing more
   * is expected on it), gives the far end `ms` to close its own, then closes the chain. A direct
   * socket gets the origin's FIN at once; through a proxy that does not pass a half-close on (an
   * HTTP/2 proxy often keeps the stream open until the backend closes), the session would
   * otherwise wait its whole `closeTimeout`.
   */
  linger(stream: Duplex, ms: number): void {
    let timer: NodeJS.Timeout | undefined;
    stream.once('finish', () => {
      timer = setTimeout(() => this.close(), ms);
      timer.unref();
    });
    stream.once('close', () => clearTimeout(timer));
  }

  /**
   * Closes every layer, innermost first. An HTTP/2 proxy session is closed with GOAWAY and
   * closes its own socket; the layers under it follow when it has closed.
   */
  close(sessionClosed = false): void {
    if (this.#closing && !sessionClosed) return;
    this.#closing = true;
    while (this.#layers.length > 0) {
      const layer = this.#layers.pop() as Duplex | ClientHttp2Session;
      if ('request' in layer && typeof layer.request === 'function') {
        const session = layer as ClientHttp2Session;
        if (!session.closed && !session.destroyed) {
          session.close();
          return;
        }
      } else (layer as Duplex).destroy();
    }
  }
}

function tlsOrElse(error: Error | undefined, prefix: string, otherwise: (mapped: RxconnError | undefined) => RxconnError): RxconnError {
  const mapped = error && toConnectionError(error);
  if (mapped instanceof TlsError) return new TlsError(`${prefix}: ${mapped.message}`, { cause: error });
  return otherwise(mapped);
}

function hopFailure(hop: ProxyHop, index: number, reason: ProxyError['reason'], message: string, cause?: unknown): ProxyError {
  return new ProxyError(`proxy ${index + 1} (${hop.label}): ${message}`, { reason, hop: index, proxy: hop.label }, cause ? { cause } : undefined);
}

/** Opens the TCP or TLS connection to the first proxy. */
async function dialFirst(hop: ProxyHop, options: ResolvedOptions, layers: Layers): Promise<{ stream: Duplex; protocol: Protocol }> {
  const unreachable = (error?: Error): RxconnError =>
    tlsOrElse(error, `proxy 1 (${hop.label})`, mapped =>
      hopFailure(hop, 0, 'unreachable', `cannot reach the proxy: ${mapped ? mapped.message.replace(/^connection failed: /, '') : 'the socket closed'}`, error),
    );
  if (!hop.secure) {
    const socket = layers.add(net.connect({ host: hop.host, port: hop.port }));
    if (options.keepalive) socket.setKeepAlive(true, options.keepalive.interval);
    await whenReady(socket, 'connect', unreachable);
    return { stream: socket, protocol: hop.protocols[0] };
  }
  const socket = layers.add(tls.connect({ ...hop.tls, host: hop.host, port: hop.port, ...tlsNames(hop.host, hop.tls.servername), ALPNProtocols: hop.protocols.map(p => ALPN[p]) }));
  if (options.keepalive) socket.setKeepAlive(true, options.keepalive.interval);
  await whenReady(socket, 'secureConnect', unreachable);
  await confirmTls13(socket, hop.tls, options.connectTimeout, unreachable);
  return { stream: socket, protocol: negotiatedWithProxy(socket, hop, 0) };
}

/** SNI is a host name only (RFC 6066): an IP address gets none, and the certificate is checked against the IP. */
function tlsNames(host: string, servername: string | undefined): { servername?: string } {
  if (servername !== undefined) return { servername };
  return net.isIP(host) ? {} : { servername: host };
}

function negotiatedWithProxy(socket: tls.TLSSocket, hop: ProxyHop, index: number): Protocol {
  const protocol = alpnChoice(socket, hop.protocols);
  if (!protocol) throw hopFailure(hop, index, 'protocol', `the proxy chose ALPN ${JSON.stringify(socket.alpnProtocol)}, which was not offered (${hop.protocols.join(', ')})`);
  return protocol;
}

/**
 * TLS over an existing tunnel, verified against `host`; on TLS 1.3, once the peer has accepted our
 * client certificate if it asked for one (`tls13-confirm.ts`).
 */
async function tlsOver(
  stream: Duplex,
  host: string,
  extra: tls.ConnectionOptions,
  offered: readonly Protocol[],
  connectTimeout: number,
  layers: Layers,
  failure: (error?: Error) => RxconnError,
): Promise<tls.TLSSocket> {
  const socket = layers.add(tls.connect({ ...extra, socket: stream, host, ...tlsNames(host, extra.servername), ALPNProtocols: offered.map(p => ALPN[p]) }));
  await whenReady(socket, 'secureConnect', failure);
  await confirmTls13(socket, extra, connectTimeout, failure);
  return socket;
}

/** Builds the whole chain for one attempt; `cancelled()` stops it between steps. */
async function build(options: ResolvedOptions, hops: readonly ProxyHop[], layers: Layers, cancelled: () => boolean, progress: (waiting: ConnectWait) => void): Promise<Tunnel> {
  const intermediaries: Intermediary[] = [];
  let stream: Duplex | undefined;
  for (let i = 0; i < hops.length; i++) {
    const hop = hops[i];
    const next = hops[i + 1];
    const target: Target = next ? { host: next.host, port: next.port } : { host: options.host, port: options.port };
    let protocol: Protocol;
    if (stream === undefined) {
      progress({ hop: 0, proxy: hop.label, step: `for proxy 1 (${hop.label}) to accept the connection${hop.secure ? ' and complete TLS' : ''}` });
      ({ stream, protocol } = await dialFirst(hop, options, layers));
    } else if (hop.secure) {
      const tlsFailure = (error?: Error): RxconnError =>
        tlsOrElse(error, `proxy ${i + 1} (${hop.label})`, mapped =>
          hopFailure(hop, i, 'closed', `the tunnel to the proxy closed during its TLS handshake${mapped ? `: ${mapped.message}` : ''}`, error),
        );
      progress({ hop: i, proxy: hop.label, step: `for proxy ${i + 1} (${hop.label}) to complete TLS` });
      const socket = await tlsOver(stream, hop.host, hop.tls, hop.protocols, options.connectTimeout, layers, tlsFailure);
      stream = socket;
      protocol = negotiatedWithProxy(socket, hop, i);
    } else {
      protocol = hop.protocols[0];
    }
    if (cancelled()) throw hopFailure(hop, i, 'closed', 'cancelled');
    const where = authority(target.host, target.port);
    progress({ hop: i, proxy: hop.label, step: `for proxy ${i + 1} (${hop.label}) to answer ${hop.type === 'socks5' ? 'the SOCKS5 handshake for' : 'CONNECT'} ${where}` });
    if (hop.type === 'socks5') {
      // `socks` arms its own timer: a bound past the connection's own one (an Infinity would fire at once).
      stream = await socks5Connect(stream, target, hop, i, Math.min(options.connectTimeout, MAX_TIMER));
      intermediaries.push(intermediary(hop, 'socks5'));
    } else if (protocol === 'http2') {
      const session = proxySession(stream, hop, options.maxHeaderSize);
      layers.addSession(session);
      stream = layers.add(await http2Connect(session, target, hop, i));
      intermediaries.push(intermediary(hop, 'http2'));
    } else {
      stream = await http1Connect(stream, target, hop, i, options.maxHeaderSize);
      intermediaries.push(intermediary(hop, 'http1'));
    }
    if (cancelled()) throw hopFailure(hop, i, 'closed', 'cancelled');
  }
  if (stream === undefined) throw new Error('rxconn: a chain needs at least one proxy');
  if (!options.secure) {
    progress({ step: "for the origin's first answer through the tunnel" });
    return { socket: socketLike(stream), protocol: options.protocols[0], intermediaries };
  }
  progress({ step: "for the origin's TLS handshake through the tunnel" });
  const origin = await tlsOver(stream, options.host, options.tls as TlsOptions, options.protocols, options.connectTimeout, layers, error =>
    error ? toConnectionError(error) : hopFailure(hops[hops.length - 1], hops.length - 1, 'closed', 'the tunnel closed during the TLS handshake with the origin'),
  );
  const protocol = alpnChoice(origin, options.protocols);
  if (!protocol) {
    throw new ProtocolError(`server chose ALPN protocol ${JSON.stringify(origin.alpnProtocol)}, which was not offered (${options.protocols.join(', ')})`);
  }
  progress({ step: "for the origin's first answer through the tunnel" });
  return { socket: origin, protocol, intermediaries };
}

/**
 * Dials the origin through `options.proxies`. Cold: each subscription builds the whole chain,
 * reporting every layer to `onSocket` as it is made; emits the tunnel once it is up (and the
 * origin's TLS verified), then completes. Unsubscribing before that destroys every layer; after
 * that the layers belong to the subscriber, and closing the tunnel's socket closes them all.
 */
export function dialChain(options: ResolvedOptions, hops: readonly ProxyHop[], onSocket?: (socket: Socket) => void, onProgress?: (waiting: ConnectWait) => void): Observable<Tunnel> {
  return new Observable<Tunnel>(subscriber => {
    const layers = new Layers(onSocket);
    let settled = false;
    build(options, hops, layers, () => settled, waiting => onProgress?.(waiting)).then(
      tunnel => {
        if (settled) return;
        settled = true;
        layers.linger(tunnel.socket, Math.min(options.closeTimeout, LINGER));
        subscriber.next(tunnel);
        subscriber.complete();
        // A cleartext HTTP/1.1 origin reads the tunnel with a 'data' listener, now attached; the
        // tunnel was left paused (explicitly) so that nothing was read before. TLS and HTTP/2
        // consumers start reading by themselves.
        if (!options.secure && tunnel.protocol === 'http1') tunnel.socket.resume();
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        layers.close();
        subscriber.error(toConnectionError(error));
      },
    );
    return () => {
      if (settled) return;
      settled = true;
      layers.close();
    };
  });
}
