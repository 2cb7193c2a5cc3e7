/**
 * CONNECT through an HTTP/2 proxy (RFC 9113 §8.5): an HTTP/2 session to the proxy, and one
 * CONNECT stream on it (`:method CONNECT`, `:authority` only) that becomes the tunnel on a 2xx.
 */
import http2 from 'node:http2';
import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2';
import type { Duplex } from 'node:stream';
import { ProxyError } from '../../core/errors.js';
import { basicAuthorization } from './http1-connect.js';
import type { Target } from './http1-connect.js';
import { authority } from './url.js';
import type { ProxyHop } from './url.js';

/** An HTTP/2 client session to proxy `hop` over `stream` (TLS with ALPN h2, or h2c prior knowledge). Errors surface on the CONNECT stream. */
export function proxySession(stream: Duplex, hop: ProxyHop, maxHeaderSize: number): ClientHttp2Session {
  const session = http2.connect(`${hop.secure ? 'https' : 'http'}://${authority(hop.host, hop.port)}`, {
    createConnection: () => stream,
    settings: { enablePush: false, maxHeaderListSize: maxHeaderSize },
  });
  // Its failures reach the CONNECT stream (and the chain, which tears everything down).
  session.on('error', () => {});
  return session;
}

/**
 * Opens a CONNECT stream to `target` on `session` (proxy number `index`), resolving with it once
 * the proxy answered 2xx (DATA that came with the answer stays buffered in the stream for the
 * next layer). Rejects with a {@link ProxyError}; the caller destroys the session.
 */
export function http2Connect(session: ClientHttp2Session, target: Target, hop: ProxyHop, index: number): Promise<ClientHttp2Stream> {
  return new Promise<ClientHttp2Stream>((resolve, reject) => {
    const where = authority(target.host, target.port);
    const failure = (reason: ProxyError['reason'], message: string, extra: { status?: number; cause?: unknown } = {}): ProxyError =>
      new ProxyError(`proxy ${index + 1} (${hop.label}): ${message}`, { reason, hop: index, proxy: hop.label, status: extra.status }, extra.cause ? { cause: extra.cause } : undefined);
    const auth = basicAuthorization(hop);
    let stream: ClientHttp2Stream;
    try {
      stream = session.request({ ':method': 'CONNECT', ':authority': where, ...(auth && { 'proxy-authorization': auth }) });
    } catch (error) {
      reject(failure('closed', `the HTTP/2 session could not open a CONNECT stream to ${where}: ${(error as Error).message}`, { cause: error }));
      return;
    }
    const done = (error: ProxyError | undefined): void => {
      stream.off('response', onResponse);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (error) {
        stream.on('error', () => {});
        stream.destroy();
        reject(error);
      }
    };
    const onResponse = (headers: http2.IncomingHttpHeaders): void => {
      const status = Number(headers[':status']);
      if (status >= 100 && status < 200) return;
      if (status < 200 || status > 299) {
        const hint = status === 407 || status === 401 ? ' (check the proxy credentials)' : '';
        done(failure('status', `CONNECT ${where} was refused: ${status}${hint}`, { status }));
        return;
      }
      done(undefined);
      resolve(stream);
    };
    const onError = (error: Error): void => done(failure('closed', `the CONNECT stream to ${where} failed before the answer: ${error.message}`, { cause: error }));
    const onClose = (): void =>
      done(failure('closed', `the proxy closed the CONNECT stream to ${where} before answering${stream.rstCode ? ` (HTTP/2 error code ${stream.rstCode})` : ''}`));
    stream.on('response', onResponse);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}
