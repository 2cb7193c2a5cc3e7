/**
 * What a request is made of, and its validation: nothing invalid ever reaches the wire.
 */
import { isObservable } from 'rxjs';
import type { Observable } from 'rxjs';
import { InvalidArgumentError } from './errors.js';
import { Flow } from './flow.js';
import { checkTime } from './time.js';
import { isFieldValue, isToken, trimOws } from './http-syntax.js';

/** A request body: text (sent as UTF-8), bytes, or an Observable of chunks streamed as they come. */
export type RequestBody = string | Uint8Array | Observable<string | Uint8Array>;

/** One request. */
export interface RequestInit {
  /** The method. Default `GET`. */
  method?: string;
  /** The path and query, starting with `/` (or `*` for `OPTIONS`). Default `/`. */
  path?: string;
  /** Request headers. Names are case-insensitive; connection-specific headers are managed by rxconn. */
  headers?: Readonly<Record<string, string | number | readonly string[]>>;
  /** The body, if any. */
  body?: RequestBody;
  /** Bound on the whole exchange, from subscribe (including the wait for a connection) to the end of the response, in ms (at most 2³¹−1; `Infinity` for none). Default: none. */
  timeout?: number;
  /** Pauses and resumes the response's data on the wire (see {@link Flow}). Default: none (data is read as it comes). */
  flow?: Flow;
}

/** A validated request, ready for a protocol session. Header names are lower-case. */
export interface PreparedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: RequestBody | undefined;
  readonly timeout: number | undefined;
  readonly flow?: Flow | undefined;
}

const PATH = /^[\x21-\x7e]+$/;
/** Methods known to be tokens, spared the token check on every request. */
const STANDARD_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE']);
const KNOWN_INIT = new Set(['method', 'path', 'headers', 'body', 'timeout', 'flow']);
/** Headers that belong to the connection, not to one request; HTTP/2 forbids them outright. */
export const CONNECTION_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

function fail(message: string): never {
  throw new InvalidArgumentError(message);
}

function headerValue(name: string, value: unknown): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') fail(`header ${JSON.stringify(name)} must be a string, a finite number or an array of strings`);
  if (!isFieldValue(value)) fail(`header ${JSON.stringify(name)} has a forbidden character (CR, LF, NUL or a control character) in its value`);
  return trimOws(value);
}

type HeaderPairs = Array<readonly [string, string]>;

/** Validates one header and appends it (an array value gives one field per element). */
function addHeader(out: HeaderPairs, rawName: string, value: unknown): void {
  if (!isToken(rawName)) fail(`header name ${JSON.stringify(rawName)} is not a valid token`);
  const name = rawName.toLowerCase();
  if (CONNECTION_HEADERS.has(name)) fail(`header ${JSON.stringify(name)} is connection-specific and managed by rxconn`);
  if (name === 'host') fail('header "host" is set from the origin and cannot be overridden');
  if (Array.isArray(value)) {
    for (const v of value) out.push([name, headerValue(name, v)]);
  } else if (value !== undefined) {
    out.push([name, headerValue(name, value)]);
  }
}

/** The connection's default headers, validated once per defaults object (they are fixed at open()). */
const preparedDefaults = new WeakMap<object, readonly (readonly [string, string])[]>();
const NO_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({});
/** The last defaults asked for, and theirs: most applications have one, and this runs per request. */
let lastDefaults: object | undefined;
let lastPairs: readonly (readonly [string, string])[] = [];

function defaultPairs(defaults: Readonly<Record<string, string>>): readonly (readonly [string, string])[] {
  if (defaults === lastDefaults) return lastPairs;
  let pairs = preparedDefaults.get(defaults);
  if (!pairs) {
    const out: HeaderPairs = [];
    for (const [name, value] of Object.entries(defaults)) addHeader(out, name, value);
    pairs = Object.freeze(out);
    preparedDefaults.set(defaults, pairs);
  }
  lastDefaults = defaults;
  lastPairs = pairs;
  return pairs;
}

function prepareHeaders(defaults: Readonly<Record<string, string>>, headers: unknown): ReadonlyArray<readonly [string, string]> {
  if (headers !== undefined && (typeof headers !== 'object' || headers === null || Array.isArray(headers))) {
    fail('request headers must be an object of name → value');
  }
  const base = defaultPairs(defaults);
  if (headers === undefined) return base; // the common case: nothing to merge
  const own = headers as Record<string, unknown>;
  const ownNames = new Set(Object.keys(own).map(n => n.toLowerCase()));
  const out: HeaderPairs = base.filter(([name]) => !ownNames.has(name));
  for (const [name, value] of Object.entries(own)) addHeader(out, name, value);
  return out;
}

/** Validates a request. Throws {@link InvalidArgumentError} naming the field at fault. */
export function prepareRequest(init: unknown, defaults: Readonly<Record<string, string>> = NO_DEFAULTS): PreparedRequest {
  if (typeof init !== 'object' || init === null) fail('request must be an object');
  const r = init as Record<string, unknown>;
  for (const key in r) if (!KNOWN_INIT.has(key) && Object.hasOwn(r, key)) fail(`request.${key} is not a known field (known: ${[...KNOWN_INIT].join(', ')})`);
  const method = r.method ?? 'GET';
  if (typeof method !== 'string' || !(STANDARD_METHODS.has(method) || isToken(method))) fail(`request.method ${JSON.stringify(method)} is not a valid method token`);
  if (method === 'CONNECT') fail('request.method CONNECT is not supported: use a tunnel');
  const path = r.path ?? '/';
  if (typeof path !== 'string' || !PATH.test(path) || (path[0] !== '/' && !(path === '*' && method === 'OPTIONS'))) {
    fail(`request.path ${JSON.stringify(path)} must start with "/" and contain no spaces or control characters`);
  }
  const body = r.body;
  if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array) && !isObservable(body)) {
    fail('request.body must be a string, a Uint8Array or an Observable of chunks');
  }
  const timeout = r.timeout;
  checkTime('request.timeout', timeout, 0, 0, true, true);
  const flow = r.flow;
  if (flow !== undefined && !(flow instanceof Flow)) fail('request.flow must be a Flow');
  return { method, path, headers: prepareHeaders(defaults, r.headers), body: body as RequestBody | undefined, timeout: timeout as number | undefined, flow };
}
