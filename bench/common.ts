/**
 * What the bench client and the bench server process agree on: ports, paths, payload sizes and
 * the IPC messages; plus the driver interfaces every client library implements.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

/** Response / message payload sizes measured: 64 bytes and 64 KiB. */
export const SIZES = [64, 65_536] as const;
export type Size = (typeof SIZES)[number];

/** The path that serves a body of `size` bytes (HTTP/1.1 and HTTP/2 servers). */
export const pathFor = (size: number): string => `/${size}`;

/** The body of `/json/<size>`: a JSON document of exactly `size` bytes, `{"d":"xx…x"}`. */
export const jsonBody = (size: number): Buffer => Buffer.from(`{"d":"${'x'.repeat(size - 8)}"}`);

/** Listening ports of the server process, all on 127.0.0.1. */
export interface Ports {
  /** node:http, keep-alive. */
  readonly http1: number;
  /** node:http2 cleartext (prior knowledge). */
  readonly h2c: number;
  /** node:http2 over TLS, ALPN `h2` only. */
  readonly h2tls: number;
  /** ws server: `/echo`, `/sink`, `/push`. */
  readonly ws: number;
}

/** Counters of the server process, read before and after each measurement. */
export interface ServerStats {
  /** `process.cpuUsage()` user + system, in µs. */
  readonly cpuMicros: number;
  /** Connections (TCP/TLS sessions) accepted so far, over all servers. */
  readonly connections: number;
  /** Requests / streams answered so far. */
  readonly requests: number;
}

/** Parent → server. */
export type ToServer = { readonly type: 'stats'; readonly id: number } | { readonly type: 'stop' };
/** Server → parent. */
export type FromServer =
  | { readonly type: 'ready'; readonly ports: Ports }
  | { readonly type: 'stats'; readonly id: number; readonly stats: ServerStats };

/**
 * WebSocket protocol of the bench server (one endpoint, {@link WS.path}). Text messages starting
 * with `#` are commands, answered `#ok`: `#echo` echoes every later message; `#sink` counts binary
 * messages and sends `#ack <count>` every {@link WS.ackEvery}; `#push <count> <size>` sends that
 * many binary messages. Payloads are binary.
 */
export const WS = {
  path: '/bench',
  ackEvery: 16,
  echo: '#echo',
  sink: '#sink',
  ok: '#ok',
  push: (count: number, size: number): string => `#push ${count} ${size}`,
} as const;

const fixture = (name: string): Buffer => readFileSync(join(repoRoot(), 'spec', 'fixtures', name));
/** Test PKI of the project: a CA and a server certificate for 127.0.0.1. */
export const tlsFixtures = (): { ca: Buffer; cert: Buffer; key: Buffer } => ({
  ca: fixture('ca.pem'),
  cert: fixture('server.pem'),
  key: fixture('server.key'),
});

/** Completion callback of one request: `bytes` is the body length received. */
export type Done = (error: Error | null, bytes: number) => void;

/** Counts an `http`-style response's body and calls `done` once it ends (200 is success). */
export function readResponse(res: import('node:http').IncomingMessage, done: Done): void {
  let bytes = 0;
  res.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  res.on('end', () => done(res.statusCode === 200 ? null : new Error(`status ${res.statusCode}`), bytes));
  res.on('error', error => done(error, bytes));
}

/** One connected HTTP client under test. */
export interface HttpClient {
  /** Sends one GET for `path`, calls `done` once at the end of the response. */
  request(path: string, done: Done): void;
  /** Releases the connection (gracefully where the library can). */
  close(): Promise<void>;
  /** How this client deviates from plain use, shown next to its figures. */
  readonly note?: string;
}

/** What a client connects to. */
export interface HttpTarget {
  readonly origin: string;
  readonly ca: Buffer;
}

/** A client library as a factory; `setup` rejects when the library cannot run this scenario. */
export interface HttpDriver {
  readonly name: string;
  setup(target: HttpTarget): Promise<HttpClient>;
}

/** A received WebSocket message, in whatever shape the library hands it over. */
export type WsMessage = unknown;

/** One open WebSocket under test. */
export interface WsClient {
  /** Sends one message (binary for Uint8Array, text for string). */
  send(data: Uint8Array | string): void;
  /** The one handler of incoming messages; replaced per scenario. */
  onMessage: (message: WsMessage) => void;
  close(): Promise<void>;
}

export interface WsDriver {
  readonly name: string;
  /** Opens a WebSocket to `url` (path included); resolves once it is open. */
  setup(url: string): Promise<WsClient>;
}

/** Byte length of a received message: a string, bytes, an array of chunks, or `{ data }`. */
export function messageLength(message: WsMessage): number {
  if (typeof message === 'string') return Buffer.byteLength(message);
  if (message instanceof ArrayBuffer) return message.byteLength;
  if (ArrayBuffer.isView(message)) return message.byteLength;
  if (Array.isArray(message)) return message.reduce((n: number, part: unknown) => n + messageLength(part), 0);
  if (typeof message === 'object' && message !== null && 'data' in message) return messageLength(message.data);
  return -1;
}

/** Text of a received text message, or `undefined` for binary ones. */
export function messageText(message: WsMessage): string | undefined {
  if (typeof message === 'string') return message;
  if (typeof message === 'object' && message !== null && 'data' in message && typeof message.data === 'string') return message.data;
  return undefined;
}

/** Rejects after `ms` with `what` timed out, unless `promise` settles first. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => { clearTimeout(timer); resolve(value); },
      (error: unknown) => { clearTimeout(timer); reject(error instanceof Error ? error : new Error(String(error))); },
    );
  });
}

/** An Error from anything thrown. */
export const toError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/** A job process's ending: one `RESULT <json>` line for its parent (a failure as `{ mode: 'error' }`), then exit 0. */
export function reportResult(result: Promise<unknown>): void {
  result.then(
    (value) => {
      process.stdout.write(`RESULT ${JSON.stringify(value)}\n`);
      process.exit(0);
    },
    (error: unknown) => {
      process.stdout.write(`RESULT ${JSON.stringify({ mode: 'error', message: toError(error).message.split('\n')[0] })}\n`);
      process.exit(0);
    },
  );
}

/** The value of `--name=value` on the command line, or `fallback`. */
export function arg(name: string, fallback: string): string {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
}
