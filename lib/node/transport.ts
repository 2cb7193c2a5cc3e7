/**
 * The transport: one TCP or TLS dial, with ALPN on TLS, to the origin's host and port, to a Unix
 * domain socket (`socketPath`), or through a chain of proxies (`proxy/chain.ts`). It reports the
 * socket, the protocol to speak on it and the proxies in between; the connect timeout (which
 * bounds the whole chain) is the core's.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Observable } from 'rxjs';
import { ConnectionDownError, ProtocolError, toConnectionError } from '../core/errors.js';
import type { ConnectWait, RxconnError } from '../core/errors.js';
import type { Intermediary, Protocol } from '../core/events.js';
import type { ResolvedOptions } from '../core/options.js';
import { dialChain } from './proxy/chain.js';
import { routeOf } from './proxy/options.js';
import type { TlsOptions } from './tls-options.js';
import { confirmTls13 } from './tls13-confirm.js';

/** A connected socket and the protocol chosen for it. */
export interface Dialed {
  readonly socket: net.Socket;
  readonly protocol: Protocol;
  /** The proxies in between, first dialled first; absent on a direct connection. */
  readonly intermediaries?: readonly Intermediary[];
}

const ALPN: Record<Protocol, string> = { http2: 'h2', http1: 'http/1.1' };

/** The protocol the server picked by ALPN, within our offer. */
function negotiated(socket: tls.TLSSocket, offered: readonly Protocol[]): Protocol {
  const alpn = socket.alpnProtocol;
  if (alpn === 'h2' && offered.includes('http2')) return 'http2';
  if ((alpn === 'http/1.1' || !alpn) && offered.includes('http1')) return 'http1';
  throw new ProtocolError(
    alpn
      ? `server chose ALPN protocol ${JSON.stringify(alpn)}, which was not offered (${offered.join(', ')})`
      : `server did not negotiate ALPN and HTTP/1.1 is not in options.protocols (${offered.join(', ')})`,
  );
}

/**
 * Dials the origin once. Cold: each subscription opens a socket (reported to `onSocket` at
 * once); emits it once connected (and TLS-verified), then completes. Unsubscribing before that destroys the socket; after that the
 * socket belongs to the subscriber.
 */
export function dial(options: ResolvedOptions, onSocket?: (socket: net.Socket) => void, onProgress?: (waiting: ConnectWait) => void): Observable<Dialed> {
  const { proxies, socketPath } = routeOf(options);
  if (proxies.length > 0) return dialChain(options, proxies, onSocket, onProgress);
  return new Observable<Dialed>(subscriber => {
    const { host, port, secure, protocols } = options;
    // The Node runtime resolved options.tls (lib/node/tls-options.ts).
    const tlsOptions = options.tls as TlsOptions;
    // Over a Unix socket, `host` is still the origin's: the TLS name to verify and send (SNI).
    const where = socketPath === undefined ? { host, port } : { path: socketPath };
    const socket: net.Socket = secure
      ? tls.connect({
          ...tlsOptions,
          ...where,
          servername: tlsOptions.servername ?? (net.isIP(host) ? undefined : host),
          ...(socketPath !== undefined && { host }),
          ALPNProtocols: protocols.map(p => ALPN[p]),
        })
      : net.connect(where);
    let handedOver = false;
    onSocket?.(socket);

    const failure = (error?: Error): RxconnError =>
      error === undefined
        ? new ConnectionDownError('the socket closed before the connection was established')
        : socketPath === undefined
          ? toConnectionError(error)
          : unixSocketError(error, socketPath);
    const onError = (error: Error): void => subscriber.error(failure(error));
    const onClose = (): void => subscriber.error(failure());
    const onConnect = (): void => {
      let protocol: Protocol;
      try {
        protocol = secure ? negotiated(socket as tls.TLSSocket, protocols) : protocols[0];
      } catch (error) {
        subscriber.error(error);
        return;
      }
      if (!secure) return handOver(protocol);
      // TLS 1.3: when the server asked for a client certificate, its verdict comes after the
      // handshake. The confirmation watches errors and closes meanwhile; a teardown destroys the
      // socket, which ends the wait.
      detach();
      confirmTls13(socket as tls.TLSSocket, tlsOptions, options.connectTimeout, failure).then(
        () => handOver(protocol),
        (error: unknown) => subscriber.error(error),
      );
    };
    const handOver = (protocol: Protocol): void => {
      if (subscriber.closed) return;
      detach();
      handedOver = true;
      subscriber.next({ socket, protocol });
      subscriber.complete();
    };
    const detach = (): void => {
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.off(secure ? 'secureConnect' : 'connect', onConnect);
    };
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.once(secure ? 'secureConnect' : 'connect', onConnect);
    return () => {
      if (handedOver) return;
      detach();
      // A late error from the dying socket must not become an uncaught exception.
      socket.on('error', () => {});
      socket.destroy();
    };
  });
}

/** A Unix socket failure in words: a missing path and a stale socket file are the usual two. */
function unixSocketError(error: Error, path: string): RxconnError {
  const code = (error as NodeJS.ErrnoException).code;
  const shown = JSON.stringify(path.replace(/\0/g, '@'));
  if (code === 'ENOENT') return new ConnectionDownError(`connection failed: no Unix socket at ${shown} (ENOENT)`, { cause: error });
  if (code === 'ECONNREFUSED') return new ConnectionDownError(`connection failed: nothing listens on the Unix socket ${shown} (ECONNREFUSED: a stale socket file?)`, { cause: error });
  if (code === 'EACCES') return new ConnectionDownError(`connection failed: no permission to connect to the Unix socket ${shown} (EACCES)`, { cause: error });
  if (code === 'ENOTSOCK') return new ConnectionDownError(`connection failed: ${shown} is not a Unix socket (ENOTSOCK)`, { cause: error });
  return toConnectionError(error);
}
