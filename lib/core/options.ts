/**
 * The options of `open()`, their defaults, and their synchronous validation.
 */
import type { SchedulerLike } from 'rxjs';
import { InvalidArgumentError, UnsupportedError } from './errors.js';
import { isFieldValue, isToken } from './http-syntax.js';
import { Recent } from './recent.js';
import { CONNECTION_HEADERS } from './request-init.js';
import type { RxconnError } from './errors.js';
import type { Protocol } from './events.js';
import type { Runtime } from './runtime.js';
import { checkTime } from './time.js';

/**
 * How the connection reconnects: exponential backoff with full jitter. An outage ends the
 * connection when either budget is spent: `maxRetries` retries, or `maxElapsed` ms since its first
 * failure. With the defaults it rides out about two minutes of outage and gives up between 120 s
 * and 140 s after the first failure (the last wait is at most `maxDelay`, the last dial at most
 * `connectTimeout`).
 */
export interface RetryOptions {
  /** Retries per outage before giving up; `Infinity` for no count limit. Default `Infinity` (the time budget decides). */
  maxRetries?: number;
  /** Time budget of one outage, from its first failed attempt, in ms; `Infinity` never gives up by time. Default 120 000. */
  maxElapsed?: number;
  /** Backoff ceiling of the first retry, in ms. Default 100. */
  initialDelay?: number;
  /** Upper bound of any delay, in ms. Default 10 000. */
  maxDelay?: number;
  /** Growth of the ceiling per retry. Default 2. */
  factor?: number;
  /** `'full'`: a uniform delay in [0, ceiling]; `'none'`: exactly the ceiling. Default `'full'`. */
  jitter?: 'full' | 'none';
  /**
   * Your own policy: the delay in ms before retry `attempt` (1-based) after `error`; return
   * `null` to give up. Replaces the backoff; `maxRetries` and `maxElapsed` still bound it.
   */
  delay?: (attempt: number, error: RxconnError) => number | null;
  /** The random source of the jitter, in [0, 1). Default `Math.random`. */
  random?: () => number;
}

/** Dead-peer detection: HTTP/2 PING or WebSocket ping. */
export interface KeepaliveOptions {
  /** Time between pings, in ms. Default 30 000. */
  interval?: number;
  /** How long to wait for the answer before treating the peer as dead, in ms. Default 10 000. */
  timeout?: number;
}

/** Options of {@link open}. */
export interface ConnectionOptions {
  /** Protocols to speak. TLS: the ALPN offer, in order; cleartext: the first entry is used (`http2` = prior-knowledge h2c). Default `['http2', 'http1']` on TLS, `['http1']` on cleartext. */
  protocols?: readonly Protocol[];
  /**
   * TLS options of the runtime: in Node, `node:tls` connect options (`ca`, `cert`, `key`,
   * `rejectUnauthorized`, `servername`...; typed by Node's `ConnectionOptions`). Certificates are
   * verified by default.
   */
  tls?: object;
  /** Bound on one attempt: DNS, TCP, TLS and the protocol preface, in ms; `Infinity` for none. Default 10 000. */
  connectTimeout?: number;
  /** Reconnect policy, or `false` to never reconnect. */
  retry?: RetryOptions | false;
  /** Ping the peer to detect dead connections, or `false`. Default on for HTTP/2 and WebSocket. */
  keepalive?: KeepaliveOptions | false;
  /** Bound on a graceful shutdown, in ms; `Infinity` waits for every stream. Default 15 000. */
  closeTimeout?: number;
  /**
   * Longest a streamed request body may wait for the peer to take more bytes (the socket to
   * drain, the HTTP/2 stream window to open), in ms; `Infinity` for none. Past it the request
   * fails with `RXCONN_SEND_TIMEOUT` (HTTP/1.1: with its connection). Default 30 000.
   */
  sendTimeout?: number;
  /** Most requests allowed to wait for a connection or a free stream. Default 10 000. */
  maxQueued?: number;
  /** Largest response head (status line and headers) accepted, in bytes. Default 16 384. */
  maxHeaderSize?: number;
  /** Headers sent with every request (a request's own headers win). */
  headers?: Readonly<Record<string, string>>;
  /** Scheduler for reconnect delays and request timeouts. Default: RxJS's async scheduler. */
  scheduler?: SchedulerLike;
}

/** A resolved retry policy. */
export interface RetryPolicy {
  readonly maxRetries: number;
  readonly maxElapsed: number;
  readonly initialDelay: number;
  readonly maxDelay: number;
  readonly factor: number;
  readonly jitter: 'full' | 'none';
  readonly delay?: RetryOptions['delay'];
  readonly random: () => number;
}

/** Options with every default applied. */
export interface ResolvedOptions {
  /**
   * The origin, serialised (`http://host:port`, the default port left out). Strings rather than
   * the parsed URL: a URL weighs ~300 B, and an idle connection carries its options for hours.
   */
  readonly origin: string;
  /** `host[:port]` as the `host` header and `:authority` carry it (the default port left out). */
  readonly authority: string;
  readonly secure: boolean;
  readonly host: string;
  readonly port: number;
  readonly protocols: readonly Protocol[];
  /** The runtime's resolved TLS options (see `Runtime.resolveTls`). */
  readonly tls: object;
  readonly connectTimeout: number;
  readonly retry: RetryPolicy;
  readonly keepalive: Required<KeepaliveOptions> | false;
  readonly closeTimeout: number;
  readonly sendTimeout: number;
  readonly maxQueued: number;
  readonly maxHeaderSize: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly scheduler?: SchedulerLike;
  /** The platform this connection runs on. */
  readonly runtime: Runtime;
  /** The runtime's resolved route (Node: proxies or a Unix socket); `undefined` when direct. See `Runtime.resolveRoute`. */
  readonly route: object | undefined;
}

const KNOWN_OPTIONS = new Set([
  'protocols', 'tls', 'connectTimeout', 'retry', 'keepalive', 'closeTimeout', 'sendTimeout', 'maxQueued',
  'maxHeaderSize', 'headers', 'scheduler', 'proxy', 'socketPath',
]);
const KNOWN_RETRY = new Set(['maxRetries', 'maxElapsed', 'initialDelay', 'maxDelay', 'factor', 'jitter', 'delay', 'random']);
const PROTOCOLS: readonly Protocol[] = ['http1', 'http2'];

function fail(message: string): never {
  throw new InvalidArgumentError(message);
}

/** A value as a validation message shows it. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : String(value);
}

/** A finite number ≥ `min`, or the default when undefined. */
function number(name: string, value: unknown, fallback: number, min = 0, allowInfinity = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || (!allowInfinity && !Number.isFinite(value))) {
    fail(`${name} must be a ${allowInfinity ? '' : 'finite '}number ≥ ${min} (got ${shown(value)})`);
  }
  return value;
}

function integer(name: string, value: unknown, fallback: number, min: number, allowInfinity = false): number {
  const n = number(name, value, fallback, min, allowInfinity);
  if (Number.isFinite(n) && !Number.isInteger(n)) fail(`${name} must be an integer (got ${n})`);
  return n;
}

function plainObject(name: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${name} must be an object (got ${shown(value)})`);
  return value as Record<string, unknown>;
}

function checkKeys(name: string, value: Record<string, unknown>, known: Set<string>): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) fail(`${name}.${key} is not a known option (known: ${[...known].join(', ')})`);
  }
}

/** Parses the origin: `http:` or `https:` with a host, and nothing after the authority. */
export function parseOrigin(origin: unknown): URL {
  if (typeof origin !== 'string' && !(origin instanceof URL)) fail(`origin must be a string or URL (got ${shown(origin)})`);
  let url: URL;
  try {
    url = new URL(String(origin));
  } catch {
    fail(`origin is not a valid URL: ${JSON.stringify(String(origin))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    fail(`origin must use http: or https: (got ${JSON.stringify(url.protocol)})`);
  }
  if (!url.hostname) fail(`origin has no host: ${JSON.stringify(String(origin))}`);
  if (url.username || url.password) fail('origin must not carry credentials: send an authorization header instead');
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    fail(`origin must be scheme://host[:port] only (got ${JSON.stringify(String(origin))}): pass paths to requests`);
  }
  return url;
}

/*
 * Options left out resolve to shared frozen values: an idle connection should not carry its own
 * copy of every default.
 */
const NO_RETRY: RetryPolicy = Object.freeze({ maxRetries: 0, maxElapsed: Infinity, initialDelay: 0, maxDelay: 0, factor: 1, jitter: 'none', random: Math.random });
let defaultRetry: RetryPolicy | undefined;
let defaultKeepalive: ResolvedOptions['keepalive'] | undefined;
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
/** Every valid `protocols` list, shared. */
const PROTOCOL_LISTS: readonly (readonly Protocol[])[] = [['http1'], ['http2'], ['http1', 'http2'], ['http2', 'http1']].map(list => Object.freeze(list as Protocol[]));

function resolveRetry(value: unknown): RetryPolicy {
  if (value === false) return NO_RETRY;
  if (value === undefined) return (defaultRetry ??= Object.freeze(retryPolicy({})));
  return retryPolicy(plainObject('options.retry', value));
}

function retryPolicy(retry: Record<string, unknown>): RetryPolicy {
  checkKeys('options.retry', retry, KNOWN_RETRY);
  const jitter = retry.jitter === undefined ? 'full' : retry.jitter;
  if (jitter !== 'full' && jitter !== 'none') fail(`options.retry.jitter must be 'full' or 'none' (got ${shown(jitter)})`);
  if (retry.delay !== undefined && typeof retry.delay !== 'function') fail(`options.retry.delay must be a function (got ${shown(retry.delay)})`);
  if (retry.random !== undefined && typeof retry.random !== 'function') fail(`options.retry.random must be a function (got ${shown(retry.random)})`);
  const initialDelay = checkTime('options.retry.initialDelay', retry.initialDelay, 100, 0, false);
  const maxDelay = checkTime('options.retry.maxDelay', retry.maxDelay, 10_000, 0, false);
  if (maxDelay < initialDelay) fail(`options.retry.maxDelay (${maxDelay}) must be ≥ options.retry.initialDelay (${initialDelay})`);
  return {
    maxRetries: integer('options.retry.maxRetries', retry.maxRetries, Infinity, 0, true),
    maxElapsed: checkTime('options.retry.maxElapsed', retry.maxElapsed, 120_000, 0, true),
    initialDelay,
    maxDelay,
    factor: number('options.retry.factor', retry.factor, 2, 1),
    jitter,
    delay: retry.delay as RetryPolicy['delay'],
    random: (retry.random as (() => number) | undefined) ?? Math.random,
  };
}

function resolveKeepalive(value: unknown): ResolvedOptions['keepalive'] {
  if (value === false) return false;
  if (value === undefined) return (defaultKeepalive ??= Object.freeze(keepaliveSettings({})));
  return keepaliveSettings(plainObject('options.keepalive', value));
}

function keepaliveSettings(keepalive: Record<string, unknown>): Required<KeepaliveOptions> {
  checkKeys('options.keepalive', keepalive, new Set(['interval', 'timeout']));
  return {
    interval: checkTime('options.keepalive.interval', keepalive.interval, 30_000, 1, false),
    timeout: checkTime('options.keepalive.timeout', keepalive.timeout, 10_000, 1, false),
  };
}

function resolveProtocols(value: unknown, secure: boolean): readonly Protocol[] {
  if (value === undefined) return secure ? PROTOCOL_LISTS[3] : PROTOCOL_LISTS[0];
  if (!Array.isArray(value) || value.length === 0) fail(`options.protocols must be a non-empty array of 'http1' | 'http2' (got ${shown(value)})`);
  for (const p of value) {
    if (!PROTOCOLS.includes(p)) fail(`options.protocols has an unknown protocol ${shown(p)} (known: 'http1', 'http2')`);
  }
  if (new Set(value).size !== value.length) fail('options.protocols lists a protocol twice');
  return PROTOCOL_LISTS.find(list => list.length === value.length && list.every((p, i) => p === value[i]))!;
}

function resolveHeaders(value: unknown): Readonly<Record<string, string>> {
  if (value === undefined) return NO_HEADERS;
  const headers = plainObject('options.headers', value);
  for (const [name, v] of Object.entries(headers)) {
    const at = `options.headers[${JSON.stringify(name)}]`;
    if (typeof v !== 'string') fail(`${at} must be a string (got ${shown(v)})`);
    if (!isToken(name)) fail(`${at}: the name is not a valid token`);
    const lower = name.toLowerCase();
    if (CONNECTION_HEADERS.has(lower) || lower === 'host') fail(`${at} is managed by rxconn and cannot be set`);
    if (!isFieldValue(v)) fail(`${at} has a forbidden character (CR, LF, NUL or a control character) in its value`);
  }
  return headers as Record<string, string>;
}

/** `options.proxy` / `options.socketPath`, validated by the runtime; refused where it has no such thing. */
function resolveRoute(runtime: Runtime, options: Record<string, unknown>, origin: URL): object | undefined {
  if (options.proxy === undefined && options.socketPath === undefined) return undefined;
  if (!runtime.resolveRoute) {
    throw new UnsupportedError(`options.${options.proxy === undefined ? 'socketPath' : 'proxy'} is not supported by the ${runtime.name} runtime`);
  }
  return runtime.resolveRoute(options.proxy, options.socketPath, origin);
}

/*
 * The options of recent `open()`s, resolved, by origin and options: connections opened alike
 * (thousands of WebSockets to one origin) share one frozen copy, rather than each carrying its own
 * (~0.3 KiB with the origin's strings, for the connection's whole life). Only options of plain
 * values are looked up: nothing that has an identity the connection would keep (`headers`, `tls`,
 * a scheduler, a function), so sharing cannot be told from copying. A few entries, oldest out.
 */
const SHAREABLE_OPTIONS = new Set(['protocols', 'connectTimeout', 'retry', 'keepalive', 'closeTimeout', 'sendTimeout', 'maxQueued', 'maxHeaderSize']);
const resolvedLately = new Recent<string, { readonly runtime: Runtime; readonly options: ResolvedOptions }>(16);

/** A key that tells `value` apart from any other, if it is a number, string, boolean, or an array or plain object of them (`depth` levels). */
function plainKey(value: unknown, depth: number): string | undefined {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (depth === 0 || typeof value !== 'object' || value === null) return undefined;
  const array = Array.isArray(value);
  if (!array && Object.getPrototypeOf(value) !== Object.prototype) return undefined;
  if (array && Object.keys(value).length !== value.length) return undefined; // holes, or extra properties
  let key = array ? '[' : '{';
  for (const [name, item] of Object.entries(value)) {
    const itemKey = plainKey(item, depth - 1);
    if (itemKey === undefined) return undefined;
    key += array ? `${itemKey},` : `${JSON.stringify(name)}:${itemKey},`;
  }
  return `${key}${array ? ']' : '}'}`;
}

/** The key of `open(origin, options)` among the options resolved lately; none when they cannot be shared. */
function sharedKey(origin: unknown, options: unknown): string | undefined {
  if (typeof origin !== 'string') return undefined;
  if (options === undefined) return origin;
  if (typeof options !== 'object' || options === null || Object.keys(options).some(name => !SHAREABLE_OPTIONS.has(name))) return undefined;
  const key = plainKey(options, 2);
  return key === undefined ? undefined : `${origin} ${key}`;
}

/** Validates `open()`'s arguments and applies the defaults. Throws {@link InvalidArgumentError}. */
export function resolveOptions(originArg: unknown, optionsArg: unknown, runtime: Runtime): ResolvedOptions {
  const key = sharedKey(originArg, optionsArg);
  if (key === undefined) return resolveNew(originArg, optionsArg, runtime);
  const kept = resolvedLately.get(key);
  if (kept?.runtime === runtime) return kept.options;
  return resolvedLately.set(key, { runtime, options: Object.freeze(resolveNew(originArg, optionsArg, runtime)) }).options;
}

function resolveNew(originArg: unknown, optionsArg: unknown, runtime: Runtime): ResolvedOptions {
  const origin = parseOrigin(originArg);
  const options = optionsArg === undefined ? {} : plainObject('options', optionsArg);
  checkKeys('options', options, KNOWN_OPTIONS);
  const secure = origin.protocol === 'https:';
  const tls = runtime.resolveTls(options.tls);
  const scheduler = options.scheduler as SchedulerLike | undefined;
  if (scheduler !== undefined && (scheduler === null || typeof (scheduler as Partial<SchedulerLike>).schedule !== 'function')) {
    fail('options.scheduler must be an RxJS SchedulerLike');
  }
  return {
    origin: origin.origin,
    authority: origin.host,
    secure,
    host: origin.hostname.startsWith('[') ? origin.hostname.slice(1, -1) : origin.hostname,
    port: origin.port ? Number(origin.port) : secure ? 443 : 80,
    protocols: resolveProtocols(options.protocols, secure),
    tls,
    connectTimeout: checkTime('options.connectTimeout', options.connectTimeout, 10_000, 1, true),
    retry: resolveRetry(options.retry),
    keepalive: resolveKeepalive(options.keepalive),
    closeTimeout: checkTime('options.closeTimeout', options.closeTimeout, 15_000, 0, true),
    sendTimeout: checkTime('options.sendTimeout', options.sendTimeout, 30_000, 1, true),
    maxQueued: integer('options.maxQueued', options.maxQueued, 10_000, 0, true),
    maxHeaderSize: integer('options.maxHeaderSize', options.maxHeaderSize, 16_384, 256),
    headers: resolveHeaders(options.headers),
    scheduler,
    runtime,
    route: resolveRoute(runtime, options, origin),
  };
}
