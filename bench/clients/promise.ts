/**
 * User-shaped drivers: one Promise per request, the body collected and decoded (`text` or
 * `json`), the way application code awaits a response. fetch and undici are not in the h2c
 * sections (undici 7 has no h2c; cleartext means HTTP/1.1 to them). Each driver is an {@link HttpDriver}
 * whose `request` awaits that Promise and reports the decoded length (the harness checks it), so
 * that every client pays the same one `then()` on top of its own Promise.
 *
 * - floors: the raw `node:http2` session / `node:http` keep-alive agent, wrapped in a Promise
 *   that collects the chunks (one chunk as is, more through `Buffer.concat`) and decodes them;
 * - rxconn: `lastValueFrom(conn.get(path).pipe(text()))` / `json()`, and
 *   `lastValueFrom(conn.get(path))` (the events, no collecting operator);
 * - Node's built-in `fetch` (`await (await fetch(url)).text()`), undici's `request()`
 *   (`await body.text()`), got (`await got(url).text()`).
 *
 * JSON bodies come from `/json/<size>` ({@link jsonBody} in common.ts); the reported length of a parsed document
 * is `d.length + 8`, which equals its byte length.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { ClientHttp2Session, OutgoingHttpHeaders } from 'node:http2';
import { lastValueFrom } from 'rxjs';
import got from 'got';
import http2wrapper from 'http2-wrapper';
import { Client } from 'undici';
import type { Done, HttpClient, HttpDriver, HttpTarget } from '../common.js';
import { toError } from '../common.js';
import { closeSession, connectSession, getHeaders } from './node-http2.js';
import { openConnected, shutdown } from './rxconn.js';
import { rotating } from './rotate.js';

/** How a user-shaped request reads its response. */
export type Decode = 'text' | 'json';

/** The path of a user-shaped request for a body of `size` bytes. */
export const decodePath = (decode: Decode, size: number): string => (decode === 'json' ? `/json/${size}` : `/${size}`);

/** The length the harness checks: the text's length, or `d.length + 8` for the parsed document. */
function decodedLength(decode: Decode, body: unknown): number {
  if (decode === 'text') return typeof body === 'string' ? body.length : -1;
  const d = (body as { d?: unknown } | null)?.d;
  return typeof d === 'string' ? d.length + 8 : -1;
}

/** Runs a Promise-returning request and hands its outcome to the harness. */
function settle(promise: Promise<{ status: number; body: unknown }>, decode: Decode, done: Done): void {
  promise.then(
    ({ status, body }) => done(status === 200 ? null : new Error(`status ${status}`), decodedLength(decode, body)),
    (error: unknown) => done(toError(error), 0),
  );
}

const decodeBytes = (decode: Decode, bytes: Buffer): unknown => (decode === 'text' ? bytes.toString('utf8') : JSON.parse(bytes.toString('utf8')));

/** The raw session as a user would wrap it: one Promise per request, chunks collected. */
function http2Get(session: ClientHttp2Session, headers: OutgoingHttpHeaders): Promise<{ status: number; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    // Node ends a GET's stream itself (END_STREAM on HEADERS); see node-http2.ts for the form.
    const stream = session.request(headers);
    const chunks: Buffer[] = [];
    let status = 0;
    stream.on('response', (headers) => {
      status = Number(headers[':status']);
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve({ status, bytes: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks) }));
    stream.on('error', reject);
  });
}

/** Floor: `node:http2` session, Promise per request. */
export function nodeHttp2Promise(decode: Decode): HttpDriver {
  return {
    name: 'node:http2',
    async setup(target: HttpTarget): Promise<HttpClient> {
      const session = await connectSession(target);
      const headers = getHeaders(target);
      return {
        request: (path, done) => settle(http2Get(session, headers(path)).then(({ status, bytes }) => ({ status, body: decodeBytes(decode, bytes) })), decode, done),
        close: () => closeSession(session),
      };
    },
  };
}

/** Floor: `node:http` keep-alive agent (one socket), Promise per request. */
export function nodeHttpPromise(decode: Decode): HttpDriver {
  return {
    name: 'node:http agent',
    async setup(target: HttpTarget): Promise<HttpClient> {
      const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
      const { hostname, port } = new URL(target.origin);
      const get = (path: string): Promise<{ status: number; body: unknown }> =>
        new Promise((resolve, reject) => {
          const req = httpRequest({ hostname, port, path, agent }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => {
              try {
                resolve({ status: res.statusCode ?? 0, body: decodeBytes(decode, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)) });
              } catch (error) {
                reject(toError(error));
              }
            });
            res.on('error', reject);
          });
          req.on('error', reject);
          req.end();
        });
      return { request: (path, done) => settle(get(path), decode, done), close: async () => agent.destroy() };
    },
  };
}

/** rxconn as users write it: `await lastValueFrom(conn.get(path).pipe(text()))` (or `json()`). */
export function rxconnPromise(protocol: 'http1' | 'http2', decode: Decode): HttpDriver {
  return {
    name: 'rxconn',
    async setup(target: HttpTarget): Promise<HttpClient> {
      const { text, json } = await import('../../lib/index.js');
      const conn = await openConnected(target.origin, { protocols: [protocol], tls: { ca: target.ca } });
      // As users write it: the operator made inline, per request.
      const request = decode === 'text'
        ? (path: string) => lastValueFrom(conn.get(path).pipe(text()))
        : (path: string) => lastValueFrom(conn.get(path).pipe(json()));
      return {
        request: (path, done) => settle(request(path), decode, done),
        close: () => shutdown(conn),
      };
    },
  };
}

/** rxconn without a collecting operator: `await lastValueFrom(conn.get(path))`, the last event (the one DATA chunk of a 64-byte body). */
export function rxconnLastEvent(protocol: 'http1' | 'http2'): HttpDriver {
  return {
    name: 'rxconn lastValueFrom(get)',
    async setup(target: HttpTarget): Promise<HttpClient> {
      const conn = await openConnected(target.origin, { protocols: [protocol], tls: { ca: target.ca } });
      return {
        request: (path, done) => {
          lastValueFrom(conn.get(path)).then(
            (event) => done(null, event.type === 'data' ? event.data.byteLength : -1),
            (error: unknown) => done(toError(error), 0),
          );
        },
        close: () => shutdown(conn),
      };
    },
  };
}

/** An undici `Client` (one connection): HTTP/2 over TLS with `allowH2`, HTTP/1.1 without pipelining otherwise. */
function undiciClient(target: HttpTarget): Client {
  return target.origin.startsWith('https:')
    ? new Client(target.origin, { allowH2: true, pipelining: 100, connect: { ca: target.ca } })
    : new Client(target.origin, { pipelining: 1 });
}

/**
 * Node's built-in `fetch` (Node 20 bundles undici 6). Its default dispatcher opens a socket per
 * request in flight and speaks HTTP/1.1 only, so it gets one undici 7 `Client` as `dispatcher`:
 * one connection, and HTTP/2 over TLS (`allowH2`). undici 7 has no h2c.
 */
export function nodeFetch(decode: Decode): HttpDriver {
  return {
    name: 'fetch',
    async setup(target: HttpTarget): Promise<HttpClient> {
      const dispatcher = undiciClient(target);
      const init = { dispatcher } as RequestInit;
      const get = async (path: string): Promise<{ status: number; body: unknown }> => {
        const res = await fetch(target.origin + path, init);
        return { status: res.status, body: decode === 'text' ? await res.text() : await res.json() };
      };
      return { request: (path, done) => settle(get(path), decode, done), close: () => dispatcher.close(), note: 'one undici 7 Client as dispatcher' };
    },
  };
}

/** undici's `request()` on one `Client`: `await body.text()` / `body.json()`. */
export function undiciRequest(decode: Decode): HttpDriver {
  return {
    name: 'undici request()',
    async setup(target: HttpTarget): Promise<HttpClient> {
      const client = undiciClient(target);
      const get = async (path: string): Promise<{ status: number; body: unknown }> => {
        const { statusCode, body } = await client.request({ path, method: 'GET' });
        return { status: statusCode, body: decode === 'text' ? await body.text() : await body.json() };
      };
      return { request: (path, done) => settle(get(path), decode, done), close: () => client.close() };
    },
  };
}

/** got over HTTP/2 (TLS), `await got(url).text()` / `.json()`, on rotating connections (see got.ts). */
export function gotPromise(decode: Decode): HttpDriver {
  return {
    name: 'got',
    async setup(target: HttpTarget): Promise<HttpClient> {
      if (!target.origin.startsWith('https:')) throw new Error('no h2c in got');
      return rotating(async () => {
        const agent = new http2wrapper.Agent();
        const client = got.extend({ http2: true, agent: { http2: agent }, https: { certificateAuthority: target.ca }, retry: { limit: 0 }, decompress: false });
        await client(`${target.origin}/64`);
        const get = async (path: string): Promise<{ status: number; body: unknown }> => ({ status: 200, body: decode === 'text' ? await client(target.origin + path).text() : await client(target.origin + path).json() });
        return { request: (path: string, done: Done) => settle(get(path), decode, done), close: async () => agent.destroy() };
      });
    },
  };
}
