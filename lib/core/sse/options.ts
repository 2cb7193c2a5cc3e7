/**
 * The options of `conn.sse()` and `conn.eventSource()`, their defaults and validation, and the
 * request they make.
 */
import { InvalidArgumentError } from '../errors.js';
import { isFieldValue } from '../http-syntax.js';
import type { RequestInit } from '../request-init.js';

/** Options of the cold `conn.sse(path, init)`: a request (any method, headers, body) plus the stream's own. */
export interface SseInit extends Omit<RequestInit, 'path'> {
  /** Sent as `Last-Event-ID` (when not empty), to resume after the event with this id. Default `''`. */
  lastEventId?: string;
  /** Longest line, and longest event (its data), accepted, in characters; more errors with `RXCONN_INVALID_BODY`. Default 1 048 576. */
  maxEventSize?: number;
}

/** Options of the reconnecting `conn.eventSource(path, options)`. */
export interface EventSourceOptions extends SseInit {
  /** The reconnection time until the server sets one with `retry:`, in ms. Default 3 000. */
  reconnectDelay?: number;
  /** Lower bound of every reconnection delay, the server's `retry:` included, in ms. Default 100. */
  minReconnectDelay?: number;
  /** Upper bound of every reconnection delay, the server's `retry:` and the backoff included, in ms. Default 60 000. */
  maxReconnectDelay?: number;
}

/** Options with their defaults applied. */
export interface ResolvedEventSourceOptions {
  readonly request: Omit<RequestInit, 'path'>;
  readonly path: string;
  readonly lastEventId: string;
  readonly maxEventSize: number;
  readonly reconnectDelay: number;
  readonly minReconnectDelay: number;
  readonly maxReconnectDelay: number;
}

const STREAM_KEYS = new Set(['lastEventId', 'maxEventSize', 'reconnectDelay', 'minReconnectDelay', 'maxReconnectDelay']);
const RECONNECT_KEYS = new Set(['reconnectDelay', 'minReconnectDelay', 'maxReconnectDelay']);

function fail(message: string): never {
  throw new InvalidArgumentError(message);
}

function delay(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) fail(`${name} must be a finite number ≥ 0 in ms (got ${String(value)})`);
  return value;
}

/**
 * Validates the options (`reconnecting`: those of `eventSource()`; else of `sse()`, which knows
 * no reconnect option). The request fields are checked when the request is made.
 */
export function resolveEventSourceOptions(path: unknown, options: unknown, reconnecting: boolean): ResolvedEventSourceOptions {
  if (typeof path !== 'string') fail(`sse path must be a string (got ${typeof path})`);
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) fail('sse options must be an object');
  const o = options as Record<string, unknown>;
  const request: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(o)) {
    if (key === 'path') fail('sse options.path is not allowed: the path is the first argument');
    if (!reconnecting && RECONNECT_KEYS.has(key)) fail(`sse options.${key} is an option of eventSource(), not of sse()`);
    if (!STREAM_KEYS.has(key)) request[key] = value;
  }
  const lastEventId = o.lastEventId ?? '';
  if (typeof lastEventId !== 'string' || !isFieldValue(lastEventId)) fail('sse options.lastEventId must be a string without CR, LF, NUL or control characters');
  const maxEventSize = o.maxEventSize ?? 1_048_576;
  if (typeof maxEventSize !== 'number' || !Number.isInteger(maxEventSize) || maxEventSize < 1) fail(`sse options.maxEventSize must be an integer ≥ 1 (got ${String(maxEventSize)})`);
  const reconnectDelay = delay('eventSource options.reconnectDelay', o.reconnectDelay, 3_000);
  const minReconnectDelay = delay('eventSource options.minReconnectDelay', o.minReconnectDelay, 100);
  const maxReconnectDelay = delay('eventSource options.maxReconnectDelay', o.maxReconnectDelay, 60_000);
  if (minReconnectDelay > maxReconnectDelay) fail(`eventSource options.minReconnectDelay (${minReconnectDelay}) must not exceed maxReconnectDelay (${maxReconnectDelay})`);
  return { request, path, lastEventId, maxEventSize, reconnectDelay, minReconnectDelay, maxReconnectDelay };
}

/**
 * `text` encoded as UTF-8, one character per byte: header values go on the wire one byte per
 * character (latin1, in node:http, node:http2 and fetch alike), so this sends its UTF-8 bytes, as
 * WHATWG asks of Last-Event-ID. Printable ASCII comes back as it is.
 */
function utf8Octets(text: string): string {
  if (PRINTABLE_ASCII.test(text)) return text;
  const bytes = new TextEncoder().encode(text);
  let octets = '';
  for (let i = 0; i < bytes.length; i++) octets += String.fromCharCode(bytes[i]!);
  return octets;
}

/** Printable ASCII: the same in latin1 and UTF-8. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * The request of one attempt: the caller's, with `accept: text/event-stream` unless the caller
 * set an `accept`, and `last-event-id` when there is one (replacing the caller's), in UTF-8. An id
 * that is not a valid header value (a control character) is not sent.
 */
export function eventStreamRequest(options: ResolvedEventSourceOptions, lastEventId: string): RequestInit {
  const given = options.request.headers ?? {};
  // Not an object: the request's own validation reports it.
  if (typeof given !== 'object' || given === null || Array.isArray(given)) return { ...options.request, path: options.path };
  const own = given as Record<string, string | number | readonly string[]>;
  const headers: Record<string, string | number | readonly string[]> = {};
  let accept = false;
  for (const [name, value] of Object.entries(own)) {
    const lower = name.toLowerCase();
    if (lower === 'last-event-id' && lastEventId !== '') continue;
    if (lower === 'accept') accept = true;
    headers[name] = value;
  }
  if (!accept) headers.accept = 'text/event-stream';
  const id = utf8Octets(lastEventId);
  if (id !== '' && isFieldValue(id)) headers['last-event-id'] = id;
  return { ...options.request, path: options.path, headers };
}
