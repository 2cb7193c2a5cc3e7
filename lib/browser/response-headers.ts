/**
 * fetch's `Headers` as rxconn's {@link Headers}: lower-case names, string values. A browser joins
 * repeated fields with `, ` and hides `set-cookie`; a cross-origin response shows only the
 * CORS-safelisted fields and those named in `Access-Control-Expose-Headers`.
 */
import type { Headers } from '../core/events.js';

/** Converts fetch's response headers. */
export function responseHeaders(headers: globalThis.Headers): Headers {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] = value;
  });
  return out;
}
