/**
 * The transport: one TCP or TLS dial, with ALPN on TLS. It reports the socket and the protocol
 * to speak on it; the connect timeout is the core's.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Observable } from 'rxjs';
import { ConnectionDownError, ProtocolError, toConnectionError } from '../core/errors.js';
import type { Protocol } from '../core/events.js';
import type { ResolvedOptions } from '../core/options.js';
import type { TlsOptions } from './tls-options.js';

/** A connected socket and the protocol chosen for it. */
export interface Dialed {
  readonly socket: net.Socket;
  readonly protocol: Protocol;
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
export function dial(options: ResolvedOptions, onSocket?: (socket: net.Socket) => void): Observable<Dialed> {
  return new Observable<Dialed>(subscriber => {
    const { host, port, secure, protocols } = options;
    // The Node runtime resolved options.tls (lib/node/tls-options.ts).
    const tlsOptions = options.tls as TlsOptions;
    const socket: net.Socket = secure
      ? tls.connect({
          ...tlsOptions,
          host,
          port,
          servername: tlsOptions.servername ?? (net.isIP(host) ? undefined : host),
          ALPNProtocols: protocols.map(p => ALPN[p]),
        })
      : net.connect({ host, port });
    let handedOver = false;
    onSocket?.(socket);

    const onError = (error: Error): void => subscriber.error(toConnectionError(error));
    const onClose = (): void => subscriber.error(new ConnectionDownError('the socket closed before the connection was established'));
    const onConnect = (): void => {
      let protocol: Protocol;
      try {
        protocol = secure ? negotiated(socket as tls.TLSSocket, protocols) : protocols[0];
      } catch (error) {
        subscriber.error(error);
        return;
      }
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
