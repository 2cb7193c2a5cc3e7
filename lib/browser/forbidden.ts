/**
 * What a page may not put in a request: the Fetch standard's forbidden request-header names and
 * forbidden methods. A browser drops or refuses them silently; rxconn says so instead.
 */
import { UnsupportedError } from '../core/errors.js';

/** Forbidden request-header names (Fetch standard, "forbidden request-header"). */
const FORBIDDEN_HEADERS: ReadonlySet<string> = new Set([
  'accept-charset', 'accept-encoding', 'access-control-request-headers', 'access-control-request-method',
  'connection', 'content-length', 'cookie', 'cookie2', 'date', 'dnt', 'expect', 'host', 'keep-alive',
  'origin', 'referer', 'set-cookie', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'via',
]);

/** Methods fetch() refuses. */
const FORBIDDEN_METHODS: ReadonlySet<string> = new Set(['CONNECT', 'TRACE', 'TRACK']);

/** Whether a page may set the header `name` (lower-case). */
export function isForbiddenHeader(name: string): boolean {
  return FORBIDDEN_HEADERS.has(name) || name.startsWith('proxy-') || name.startsWith('sec-');
}

/** The error for a request a page cannot send, or `undefined` when it can be sent. */
export function forbiddenInRequest(method: string, headers: ReadonlyArray<readonly [string, string]>): UnsupportedError | undefined {
  if (FORBIDDEN_METHODS.has(method.toUpperCase())) {
    return new UnsupportedError(`method ${method} cannot be sent from a browser (fetch() forbids it)`);
  }
  for (const [name] of headers) {
    if (isForbiddenHeader(name)) {
      return new UnsupportedError(`header ${JSON.stringify(name)} cannot be set from a browser: the browser controls it (a forbidden request header of the Fetch standard)`);
    }
  }
  return undefined;
}
