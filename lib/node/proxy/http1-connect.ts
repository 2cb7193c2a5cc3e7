/**
 * HTTP/1.1 CONNECT (RFC 9110 §9.3.6) on a stream to an HTTP proxy: the request in
 * authority-form, the reply head read within `maxHeaderSize`, and the tunnel handed over on any
 * 2xx with the bytes that came after the head put back in front of the stream.
 */
import type { Duplex } from 'node:stream';
import { ProxyError } from '../../core/errors.js';
import { authority } from './url.js';
import type { ProxyHop } from './url.js';

/** Where a tunnel goes. */
export interface Target {
  readonly host: string;
  readonly port: number;
}

/** The `proxy-authorization` value for a hop with credentials (Basic, RFC 7617), if any. */
export function basicAuthorization(hop: ProxyHop): string | undefined {
  if (hop.username === undefined) return undefined;
  return `Basic ${Buffer.from(`${hop.username}:${hop.password ?? ''}`, 'utf8').toString('base64')}`;
}

/** The CONNECT request head. `host` repeats the authority (RFC 9112 §3.2.3); no body headers. */
export function connectHead(hop: ProxyHop, target: Target): string {
  const where = authority(target.host, target.port);
  const auth = basicAuthorization(hop);
  return `CONNECT ${where} HTTP/1.1\r\nhost: ${where}\r\n${auth ? `proxy-authorization: ${auth}\r\n` : ''}\r\n`;
}

const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: ([^\r\n]*))?$/;

/** A parsed reply head: the status and its reason phrase. */
interface ReplyHead {
  readonly status: number;
  readonly reason: string;
}

/** The end of the head in `buffer` (index past the blank line), or -1. Accepts bare LF line ends. */
function headEnd(buffer: Buffer): number {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf <= lf)) return crlf + 4;
  return lf >= 0 ? lf + 2 : -1;
}

function parseHead(text: string): ReplyHead | undefined {
  const line = text.split(/\r?\n/, 1)[0];
  const match = STATUS_LINE.exec(line);
  return match ? { status: Number(match[1]), reason: (match[2] ?? '').trim() } : undefined;
}

/**
 * Sends CONNECT for `target` on `stream` (connected to proxy number `index` of the chain) and
 * resolves with the same stream once the proxy answered 2xx, paused, any bytes that followed the
 * reply head unshifted for the next layer. Rejects with a {@link ProxyError}. Leaves the stream
 * to the caller either way (it destroys it on failure).
 */
export function http1Connect(stream: Duplex, target: Target, hop: ProxyHop, index: number, maxHeaderSize: number): Promise<Duplex> {
  return new Promise<Duplex>((resolve, reject) => {
    const where = authority(target.host, target.port);
    const failure = (reason: ProxyError['reason'], message: string, extra: { status?: number; cause?: unknown } = {}): ProxyError =>
      new ProxyError(`proxy ${index + 1} (${hop.label}): ${message}`, { reason, hop: index, proxy: hop.label, status: extra.status }, extra.cause ? { cause: extra.cause } : undefined);
    let buffer: Buffer = Buffer.alloc(0);
    const done = (error: ProxyError | undefined): void => {
      stream.off('data', onData);
      stream.off('error', onError);
      stream.off('close', onClose);
      stream.off('end', onClose);
      if (error) reject(error);
    };
    const onData = (chunk: Buffer): void => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      for (;;) {
        const end = headEnd(buffer);
        if (end < 0) {
          if (buffer.length > maxHeaderSize) done(failure('protocol', `the answer to CONNECT ${where} has a head larger than maxHeaderSize (${maxHeaderSize} bytes)`));
          return;
        }
        if (end > maxHeaderSize) {
          done(failure('protocol', `the answer to CONNECT ${where} has a head larger than maxHeaderSize (${maxHeaderSize} bytes)`));
          return;
        }
        const head = parseHead(buffer.subarray(0, end).toString('latin1'));
        if (!head) {
          done(failure('protocol', `the answer to CONNECT ${where} is not an HTTP/1.x response`));
          return;
        }
        buffer = buffer.subarray(end);
        // An interim 1xx is not the answer: the final one follows.
        if (head.status >= 100 && head.status < 200) continue;
        if (head.status < 200 || head.status > 299) {
          const hint = head.status === 407 || head.status === 401 ? ' (check the proxy credentials)' : '';
          done(failure('status', `CONNECT ${where} was refused: ${head.status}${head.reason ? ` ${head.reason}` : ''}${hint}`, { status: head.status }));
          return;
        }
        // Any 2xx is the tunnel; a content-length or transfer-encoding on it means nothing (RFC 9110 §9.3.6).
        done(undefined);
        stream.pause();
        if (buffer.length > 0) stream.unshift(buffer);
        resolve(stream);
        return;
      }
    };
    const onError = (error: Error): void => done(failure('closed', `the connection failed before the answer to CONNECT ${where}: ${error.message}`, { cause: error }));
    const onClose = (): void => done(failure('closed', `the proxy closed the connection before answering CONNECT ${where}`));
    stream.on('data', onData);
    stream.on('error', onError);
    stream.on('close', onClose);
    stream.on('end', onClose);
    // The stream may have been paused by the layer before (readableFlowing false): a 'data' listener alone would not start it.
    stream.resume();
    stream.write(connectHead(hop, target), 'latin1');
  });
}
