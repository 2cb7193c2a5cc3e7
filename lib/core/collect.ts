/**
 * Operators that collect a response into one value: `body()`, `text()`, `json()`.
 */
import { Observable } from 'rxjs';
import type { OperatorFunction, Subscriber, TeardownLogic } from 'rxjs';
import { InvalidBodyError, ProtocolError } from './errors.js';
import { concatBytes, decodeUtf8 } from './utf8.js';
import type { Headers, ResponseEvent } from './events.js';
import { RequestObservable } from './request-observable.js';
import type { ResponseObserver } from './request-observable.js';

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

/** Turns the collected bytes into the body; status and headers are for error messages. */
type Decode<T> = (bytes: Uint8Array, status: number, headers: Headers) => T;

/** Every collecting Observable's subscribe function; RxJS calls it as a method of the Observable. */
function subscribeCollecting(this: Observable<unknown>, subscriber: Subscriber<unknown>): TeardownLogic {
  return (this as Collecting<unknown>).start(subscriber as Subscriber<CollectedResponse<unknown>>);
}

/**
 * What the operator returns: the source, collected. Piped straight onto a request (a
 * {@link RequestObservable}), it sends the request with itself as the receiver of the events:
 * the same events, teardown and errors as subscribing to it, without a second subscription in
 * between.
 *
 * It is also the collector of its first subscription. Users pipe the operator onto each request
 * and subscribe once (`lastValueFrom(conn.get(path).pipe(json()))`), so one object per request
 * stays alive while it is in flight, instead of an Observable and a collector; it holds fields
 * and its methods are the observer (no closures, no chunk array for a one-chunk body). Every
 * later subscription (a second subscriber, a `retry`) collects into a fresh copy of it.
 */
class Collecting<T> extends Observable<CollectedResponse<T>> implements ResponseObserver {
  readonly #source: Observable<ResponseEvent>;
  readonly #decode: Decode<T>;
  readonly #maxBytes: number;
  /** Whom this object collects for: its first subscriber, kept once set (later ones get a copy). */
  #subscriber: Subscriber<CollectedResponse<T>> | undefined;
  #status = 0;
  #headers: Headers | undefined;
  #trailers: Headers | undefined;
  /** The first chunk, then the later ones (most bodies arrive in one). */
  #first: Uint8Array | undefined;
  #rest: Uint8Array[] | undefined;
  #size = 0;

  constructor(source: Observable<ResponseEvent>, decode: Decode<T>, maxBytes: number) {
    super(subscribeCollecting);
    this.#source = source;
    this.#decode = decode;
    this.#maxBytes = maxBytes;
  }

  start(subscriber: Subscriber<CollectedResponse<T>>): TeardownLogic {
    if (this.#subscriber !== undefined) return new Collecting(this.#source, this.#decode, this.#maxBytes).start(subscriber);
    this.#subscriber = subscriber;
    const source = this.#source;
    return source instanceof RequestObservable ? source.send(this) : source.subscribe(this);
  }

  /** A collected response has no room for informational ones (1xx): they are not listened for. */
  get informs(): boolean {
    return false;
  }

  next(event: ResponseEvent): void {
    switch (event.type) {
      case 'response':
        this.#status = event.status;
        this.#headers = event.headers;
        break;
      case 'data':
        this.#size += event.data.byteLength;
        if (this.#size > this.#maxBytes) this.error(new InvalidBodyError(`response body exceeds maxBytes (${this.#maxBytes} bytes)`));
        else if (this.#first === undefined) this.#first = event.data;
        else (this.#rest ??= []).push(event.data);
        break;
      case 'trailers':
        this.#trailers = event.headers;
        break;
    }
  }

  error(error: unknown): void {
    this.#release();
    this.#subscriber!.error(error);
  }

  complete(): void {
    const status = this.#status;
    if (status === 0) {
      this.error(new ProtocolError('the response ended without a status'));
      return;
    }
    const headers = this.#headers ?? {};
    const trailers = this.#trailers ?? {};
    const first = this.#first;
    const bytes = first === undefined ? new Uint8Array(0) : this.#rest === undefined ? first : concatBytes([first, ...this.#rest], this.#size);
    this.#release();
    const subscriber = this.#subscriber!;
    let body: T;
    try {
      body = this.#decode(bytes, status, headers);
    } catch (error) {
      subscriber.error(error);
      return;
    }
    subscriber.next({ status, headers, trailers, body });
    subscriber.complete();
  }

  /** Lets go of the response once it is handed on: the Observable may outlive it. */
  #release(): void {
    this.#headers = this.#trailers = this.#first = this.#rest = undefined;
  }
}

/** The operator. Without a `maxBytes` it is one shared function per decoder: nothing is made per call. */
function collector<T>(decode: Decode<T>): (options?: CollectOptions) => OperatorFunction<ResponseEvent, CollectedResponse<T>> {
  const unlimited: OperatorFunction<ResponseEvent, CollectedResponse<T>> = source => new Collecting(source, decode, Infinity);
  return options => {
    const maxBytes = options?.maxBytes ?? Infinity;
    return maxBytes === Infinity ? unlimited : source => new Collecting(source, decode, maxBytes);
  };
}

const collectBytes = collector(bytes => bytes);
const collectText = collector(bytes => decodeUtf8(bytes));
const collectJson = collector<unknown>((bytes, status, headers) => {
  if (bytes.byteLength === 0) return undefined;
  let source = decodeUtf8(bytes);
  if (source.charCodeAt(0) === 0xfeff) source = source.slice(1); // a UTF-8 byte order mark, as fetch() strips it
  try {
    return JSON.parse(source) as unknown;
  } catch (error) {
    if (source.trim() === '') return undefined; // only white space: no document, as an empty body
    const type = headers['content-type'] ? `, content-type ${String(headers['content-type'])}` : '';
    throw new InvalidBodyError(`response body is not valid JSON (status ${status}${type}): ${(error as Error).message}`, { cause: error });
  }
});

/**
 * Collects a response into one `{ status, headers, trailers, body }` with the body as bytes.
 * Emits once when the response ends, then completes; errors as the request does.
 *
 * @example conn.get('/logo.png').pipe(body()).subscribe(r => save(r.body));
 */
export function body(options?: CollectOptions): OperatorFunction<ResponseEvent, CollectedResponse<Uint8Array>> {
  return collectBytes(options);
}

/**
 * Collects a response with the body decoded as UTF-8 text.
 *
 * @example conn.get('/health').pipe(text()).subscribe(r => console.log(r.status, r.body));
 */
export function text(options?: CollectOptions): OperatorFunction<ResponseEvent, CollectedResponse<string>> {
  return collectText(options);
}

/**
 * Collects a response with the body parsed as JSON (any status). A body that is not JSON
 * errors with `RXCONN_INVALID_BODY`, naming the status and the parser's complaint. An empty body
 * gives `undefined`.
 *
 * @example conn.get('/items').pipe(json<Item[]>()).subscribe(({ body }) => render(body));
 */
export function json<T = unknown>(options?: CollectOptions): OperatorFunction<ResponseEvent, CollectedResponse<T>> {
  return collectJson(options) as OperatorFunction<ResponseEvent, CollectedResponse<T>>;
}
