/**
 * The options of `conn.websocket()`, their defaults and their synchronous validation.
 */
import { InvalidArgumentError } from '../errors.js';
import { Recent } from '../recent.js';
import { checkTime } from '../time.js';
import type { ResolvedOptions } from '../options.js';
import { prepareRequest } from '../request-init.js';
import { HANDSHAKE_HEADERS, checkSubprotocols } from './validation.js';

/** Options of `conn.websocket(path, options)`. */
export interface WebSocketOptions {
  /** Subprotocols to offer (`sec-websocket-protocol`), in order of preference; the server must pick one of them. Default: none. */
  protocols?: string | readonly string[];
  /** Extra headers of the upgrade request (`authorization`, `origin`...). The `sec-websocket-*` headers are set by rxconn. */
  headers?: Readonly<Record<string, string>>;
  /** Most messages `send()` queues while the WebSocket is not open; one more throws `RXCONN_QUEUE_FULL`. Default 1 000. */
  maxQueued?: number;
  /** Largest incoming message, in bytes; a larger one closes the WebSocket with 1009 and errors. `0` = no limit. Default 100 MiB (as ws). */
  maxPayload?: number;
  /** Bound on the opening handshake, from subscribe (including the wait for a connection) to the 101, in ms. Default: none. */
  handshakeTimeout?: number;
}

/** {@link WebSocketOptions} with every default applied, plus what comes from the connection. */
export interface ResolvedWebSocketOptions {
  readonly path: string;
  readonly protocols: readonly string[];
  readonly headers: Readonly<Record<string, string>>;
  readonly maxQueued: number;
  readonly maxPayload: number;
  readonly handshakeTimeout: number | undefined;
  /** The connection's keepalive: WebSocket pings. */
  readonly keepalive: ResolvedOptions['keepalive'];
  /** The connection's `closeTimeout`: the bound on a closing handshake. */
  readonly closeTimeout: number;
}

/** ws's default `maxPayload`: 100 MiB. */
export const DEFAULT_MAX_PAYLOAD = 100 * 1024 * 1024;
/** Default bound of the send queue. */
export const DEFAULT_MAX_QUEUED = 1000;

const KNOWN = new Set(['protocols', 'headers', 'maxQueued', 'maxPayload', 'handshakeTimeout']);

/** Options left out resolve to these, shared: a channel should not carry its own empty copies. */
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
const NO_PROTOCOLS: readonly string[] = Object.freeze([]);

function fail(message: string): never {
  throw new InvalidArgumentError(message);
}

function count(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) fail(`websocket options.${name} must be an integer ≥ 0 (got ${String(value)})`);
  return value;
}

/*
 * Channels without options share their resolved options when they have the same path and the
 * same connection settings (connections opened alike share theirs, see `lib/core/options.ts`):
 * thousands of WebSockets opened alike carry one frozen copy. A few paths, oldest out.
 */
const defaultsByPath = new Recent<string, ResolvedWebSocketOptions>(16);

/** Validates `conn.websocket()`'s arguments. Throws {@link InvalidArgumentError} naming the option at fault. */
export function resolveWebSocketOptions(
  path: unknown,
  optionsArg: unknown,
  connection: Pick<ResolvedOptions, 'keepalive' | 'closeTimeout'>,
): ResolvedWebSocketOptions {
  if (optionsArg !== undefined || typeof path !== 'string') return resolveNew(path, optionsArg, connection);
  const kept = defaultsByPath.get(path);
  if (kept && kept.keepalive === connection.keepalive && Object.is(kept.closeTimeout, connection.closeTimeout)) return kept;
  return defaultsByPath.set(path, Object.freeze(resolveNew(path, optionsArg, connection)));
}

function resolveNew(path: unknown, optionsArg: unknown, connection: Pick<ResolvedOptions, 'keepalive' | 'closeTimeout'>): ResolvedWebSocketOptions {
  if (typeof path !== 'string' || !path.startsWith('/')) fail(`websocket path must be a string starting with "/" (got ${JSON.stringify(path)})`);
  if (optionsArg !== undefined && (typeof optionsArg !== 'object' || optionsArg === null || Array.isArray(optionsArg))) {
    fail('websocket options must be an object');
  }
  const options = (optionsArg ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) fail(`websocket options.${key} is not a known option (known: ${[...KNOWN].join(', ')})`);
  }
  const headers = (options.headers ?? NO_HEADERS) as Record<string, unknown>;
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) fail('websocket options.headers must be an object of name → value');
  for (const [name, value] of Object.entries(headers)) {
    if (HANDSHAKE_HEADERS.has(name.toLowerCase())) fail(`header ${JSON.stringify(name.toLowerCase())} is set by the WebSocket handshake${name.toLowerCase() === 'sec-websocket-protocol' ? ': use options.protocols' : ''}`);
    if (typeof value !== 'string') fail(`websocket options.headers[${JSON.stringify(name)}] must be a string`);
  }
  // The path and the header names and values follow the request rules (no CR/LF, no connection headers).
  prepareRequest({ method: 'GET', path, headers });
  const timeout = options.handshakeTimeout;
  checkTime('websocket options.handshakeTimeout', timeout, 0, 0, true, true);
  return {
    path,
    protocols: options.protocols === undefined ? NO_PROTOCOLS : checkSubprotocols(options.protocols),
    headers: headers as Record<string, string>,
    maxQueued: count('maxQueued', options.maxQueued, DEFAULT_MAX_QUEUED),
    maxPayload: count('maxPayload', options.maxPayload, DEFAULT_MAX_PAYLOAD),
    handshakeTimeout: timeout as number | undefined,
    keepalive: connection.keepalive,
    closeTimeout: connection.closeTimeout,
  };
}
