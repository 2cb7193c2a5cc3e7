/**
 * HTTP/2 header mapping for the session: request pseudo-headers, response header objects
 * without pseudo-headers, header-list size, and HTTP/2 error-code names for messages.
 */
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { announcesLength } from '../core/body-source.js';
import type { Headers } from '../core/events.js';
import type { PreparedRequest } from '../core/request-init.js';

/** HTTP/2 error codes (RFC 9113 §7) by number, for messages. */
const ERROR_CODE_NAMES: readonly string[] = [
  'NO_ERROR', 'PROTOCOL_ERROR', 'INTERNAL_ERROR', 'FLOW_CONTROL_ERROR', 'SETTINGS_TIMEOUT',
  'STREAM_CLOSED', 'FRAME_SIZE_ERROR', 'REFUSED_STREAM', 'CANCEL', 'COMPRESSION_ERROR',
  'CONNECT_ERROR', 'ENHANCE_YOUR_CALM', 'INADEQUATE_SECURITY', 'HTTP_1_1_REQUIRED',
];

/** `NAME (code n)` for an HTTP/2 error code, e.g. `REFUSED_STREAM (code 7)`. */
export function errorCodeName(code: number): string {
  const name = ERROR_CODE_NAMES[code];
  return name === undefined ? `code ${code}` : `${name} (code ${code})`;
}

/**
 * The HEADERS of one request: the four request pseudo-headers, then the prepared fields
 * (already lower-case and validated); a repeated name becomes an array, as `node:http2` expects.
 * A body of known `length` is announced with `content-length`, as over HTTP/1.1 (many servers
 * and gateways require it: 411, presigned uploads); a streamed one (`undefined`) is not.
 */
export function requestHeaders(request: PreparedRequest, scheme: 'http' | 'https', authority: string, length: number | undefined): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {
    ':method': request.method,
    ':path': request.path,
    ':scheme': scheme,
    ':authority': authority,
  };
  const fields = request.headers;
  // Indexed: for-of's iterator is allocated per request here (measured with bench/alloc.ts).
  for (let i = 0; i < fields.length; i++) {
    const [name, value] = fields[i]!;
    const previous = headers[name];
    if (previous === undefined) headers[name] = value;
    else if (Array.isArray(previous)) previous.push(value);
    else headers[name] = [String(previous), value];
  }
  if (announcesLength(request.method, length) && headers['content-length'] === undefined) {
    headers['content-length'] = length;
  }
  return headers;
}

/**
 * A received header block as {@link Headers}: pseudo-headers (`:status`) and node's
 * `sensitiveHeaders` symbol dropped; values as node gives them (`set-cookie` is always an
 * array, other repeated fields are joined by node). `undefined` when the block is larger than
 * `maxSize` as {@link headerListSize} counts it; without `maxSize` it is not counted.
 */
export function responseHeaders(raw: IncomingHttpHeaders, maxSize = Infinity): Headers | undefined {
  if (maxSize !== Infinity && headerListSize(raw) > maxSize) return undefined;
  const headers: Headers = {};
  for (const name in raw) {
    const value = raw[name];
    if (value !== undefined && name.charCodeAt(0) !== 58 /* ':' */) headers[name] = value;
  }
  return headers;
}

/**
 * The size of a received header list as RFC 9113 §6.5.2 counts it (name + value + 32 octets
 * per field, pseudo-headers included), the measure of `maxHeaderSize`.
 */
export function headerListSize(raw: IncomingHttpHeaders): number {
  let size = 0;
  for (const name in raw) {
    const value = raw[name];
    if (Array.isArray(value)) {
      for (const v of value) size += name.length + v.length + 32;
    } else if (value !== undefined) {
      size += name.length + String(value).length + 32;
    }
  }
  return size;
}
