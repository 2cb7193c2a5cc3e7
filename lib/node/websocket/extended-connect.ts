/**
 * WebSocket over HTTP/2 (RFC 8441): an upgrade on an HTTP/2 session is an extended CONNECT
 * stream (`:method CONNECT`, `:protocol websocket`), sent only when the server advertised
 * SETTINGS_ENABLE_CONNECT_PROTOCOL (Node's client does not check it: it would send the HEADERS
 * and get the stream reset). A 2xx hands the stream itself over as the "switched socket": it is
 * a Duplex, which ws runs on as on an upgraded TCP socket; any other status is delivered as a
 * normal response (the channel turns it into a handshake error) and the session carries on.
 */
import { constants } from 'node:http2';
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import { ConnectionDownError, ProtocolError, StreamResetError, UnsupportedError, describe } from '../../core/errors.js';
import type { PreparedRequest } from '../../core/request-init.js';
import { NOT_STARTED } from '../../core/session.js';
import type { Endpoint, StreamHandle, UpgradeSink } from '../../core/session.js';
import { errorCodeName, requestHeaders, responseHeaders } from '../http2-headers.js';

/** What the extended CONNECT needs of the HTTP/2 session. */
export interface ExtendedConnectOwner {
  readonly session: ClientHttp2Session;
  readonly scheme: 'http' | 'https';
  readonly authority: string;
  readonly maxHeaderSize: number;
  /** A stream was handed over (`open`), and later closed: it holds a stream slot meanwhile. */
  tunnel(stream: object, open: boolean): void;
}

/** Request headers RFC 8441 §5 leaves out (and HTTP/2 forbids `upgrade`/`connection` anyway). */
const NOT_SENT = new Set(['sec-websocket-key']);

const EMPTY = new Uint8Array(0);

/**
 * Sends `request` as an extended CONNECT for `protocol` and reports to `sink`: `switched` with
 * the stream on a 2xx, or the response events of a refusal, or an error. Errors with
 * `RXCONN_UNSUPPORTED`, with nothing sent, when the server did not enable the extended CONNECT.
 * Returns the stream's handle (cancel: RST_STREAM(CANCEL) while the handshake is in flight).
 */
export function startExtendedConnect(owner: ExtendedConnectOwner, request: PreparedRequest, protocol: string, sink: UpgradeSink): StreamHandle {
  if (owner.session.remoteSettings.enableConnectProtocol !== true) {
    sink.error(
      new UnsupportedError(
        `${protocol} over HTTP/2 needs the server to allow the extended CONNECT (RFC 8441 SETTINGS_ENABLE_CONNECT_PROTOCOL), and this server does not: nothing was sent; open the connection with protocols: ['http1']`,
      ),
    );
    return NOT_STARTED;
  }
  const headers = requestHeaders({ ...request, method: 'CONNECT', headers: request.headers.filter(([name]) => !NOT_SENT.has(name)) }, owner.scheme, owner.authority, undefined);
  headers[':protocol'] = protocol;
  let stream: ClientHttp2Stream;
  try {
    stream = owner.session.request(headers, { endStream: false });
  } catch (error) {
    sink.error(new ConnectionDownError(`the extended CONNECT could not be sent: ${describe(error)}`, { cause: error }));
    return NOT_STARTED;
  }
  let switched = false;
  let settled = false;
  const settle = (): boolean => {
    if (settled) return false;
    settled = true;
    return true;
  };
  const onResponse = (raw: IncomingHttpHeaders): void => {
    const status = Number(raw[':status']);
    const received = responseHeaders(raw, owner.maxHeaderSize);
    if (received === undefined) {
      stream.close(constants.NGHTTP2_REFUSED_STREAM);
      if (settle()) sink.error(new ProtocolError(`the response headers exceed maxHeaderSize (${owner.maxHeaderSize} bytes)`));
      return;
    }
    if (status >= 200 && status < 300) {
      // The stream is the new protocol's now: stop reporting it as a response.
      switched = true;
      stream.off('error', onError);
      stream.off('close', onClose);
      stream.pause();
      owner.tunnel(stream, true);
      stream.once('close', () => owner.tunnel(stream, false));
      if (settle()) sink.switched({ type: 'switched', protocol: 'http2', socket: stream as unknown as Endpoint, head: EMPTY, headers: received });
      else stream.close(constants.NGHTTP2_CANCEL);
      return;
    }
    sink.next({ type: 'response', status, headers: received });
    stream.on('data', (chunk: Buffer) => sink.next({ type: 'data', data: chunk }));
    stream.once('end', () => {
      if (settle()) sink.complete();
    });
  };
  const onError = (error: Error): void => {
    if (settle()) sink.error(new ConnectionDownError(`the extended CONNECT stream failed: ${describe(error)}`, { cause: error }));
  };
  const onClose = (): void => {
    if (switched || settled) return;
    const code = stream.rstCode ?? 0;
    settle();
    sink.error(code !== 0 ? new StreamResetError(code, `the server reset the extended CONNECT stream (${errorCodeName(code)})`) : new ProtocolError('the extended CONNECT stream ended without a response'));
  };
  stream.once('response', onResponse);
  stream.on('error', onError);
  stream.on('close', onClose);
  return {
    cancel: () => {
      settled = true;
      if (!stream.closed && !stream.destroyed) stream.close(constants.NGHTTP2_CANCEL);
    },
  };
}
