/**
 * Operators that collect a response into one value: `body()`, `text()`, `json()`.
 */
import { Observable } from 'rxjs';
import type { OperatorFunction } from 'rxjs';
import { InvalidBodyError, ProtocolError } from './errors.js';
import { concatBytes, decodeUtf8 } from './utf8.js';
import type { Headers, ResponseEvent } from './events.js';

/** A whole response. */
export interface CollectedResponse<T> {
  readonly status: number;
  readonly headers: Headers;
  /** Trailer fields, `{}` when there were none. */
  readonly trailers: Headers;
  readonly body: T;
}

/** Options of the collecting operators. */
export interface CollectOptions {
  /** Largest body accepted, in bytes; more errors with `RXCONN_INVALID_BODY`. Default: no limit. */
  maxBytes?: number;
}

function collect<T>(decode: (bytes: Uint8Array, head: { status: number; headers: Headers }) => T, options: CollectOptions = {}): OperatorFunction<ResponseEvent, CollectedResponse<T>> {
  const maxBytes = options.maxBytes ?? Infinity;
  return source =>
    new Observable<CollectedResponse<T>>(subscriber => {
      let status = 0;
      let headers: Headers = {};
      let trailers: Headers = {};
      const chunks: Uint8Array[] = [];
      let size = 0;
      return source.subscribe({
        next: event => {
          switch (event.type) {
            case 'response':
              status = event.status;
              headers = event.headers;
              break;
            case 'data':
              size += event.data.byteLength;
              if (size > maxBytes) subscriber.error(new InvalidBodyError(`response body exceeds maxBytes (${maxBytes} bytes)`));
              else chunks.push(event.data);
              break;
            case 'trailers':
              trailers = event.headers;
              break;
          }
        },
        error: error => subscriber.error(error),
        complete: () => {
          if (status === 0) {
            subscriber.error(new ProtocolError('the response ended without a status'));
            return;
          }
          const bytes = chunks.length === 1 ? chunks[0] : concatBytes(chunks, size);
          let body: T;
          try {
            body = decode(bytes, { status, headers });
          } catch (error) {
            subscriber.error(error);
            return;
          }
          subscriber.next({ status, headers, trailers, body });
          subscriber.complete();
        },
      });
    });
}

/**
 * Collects a response into one `{ status, headers, trailers, body }` with the body as bytes.
 * Emits once when the response ends, then completes; errors as the request does.
 *
 * @example conn.get('/logo.png').pipe(body()).subscribe(r => save(r.body));
 */
export function body(options?: CollectOptions): OperatorFunction<ResponseEvent, CollectedResponse<Uint8Array>> {
  return collect(bytes => bytes, options);
}

/**
 * Collects a response with the body decoded as UTF-8 text.
 *
 * @example conn.get('/health').pipe(text()).subscribe(r => console.log(r.status, r.body));
 */
export function text(options?: CollectOptions): OperatorFunction<ResponseEvent, CollectedResponse<string>> {
  return collect(bytes => decodeUtf8(bytes), options);
}

/**
 * Collects a response with the body parsed as JSON (any status). A body that is not JSON
 * errors with `RXCONN_INVALID_BODY`, naming the status and the parser's complaint. An empty body
 * gives `undefined`.
 *
 * @example conn.get('/items').pipe(json<Item[]>()).subscribe(({ body }) => render(body));
 */
export function json<T = unknown>(options?: CollectOptions): OperatorFunction<ResponseEvent, CollectedResponse<T>> {
  return collect((bytes, { status, headers }) => {
    let source = decodeUtf8(bytes);
    if (source.charCodeAt(0) === 0xfeff) source = source.slice(1); // a UTF-8 byte order mark, as fetch() strips it
    if (source.trim() === '') return undefined as T;
    try {
      return JSON.parse(source) as T;
    } catch (error) {
      const type = headers['content-type'] ? `, content-type ${String(headers['content-type'])}` : '';
      throw new InvalidBodyError(`response body is not valid JSON (status ${status}${type}): ${(error as Error).message}`, { cause: error });
    }
  }, options);
}
