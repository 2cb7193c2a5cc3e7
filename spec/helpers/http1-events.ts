/**
 * The HTTP/1.1 response parsers under test, fed bytes directly and reporting the same events:
 * rxconn's {@link ResponseParser}, and llhttp (the parser inside `node:http`, through node's own
 * binding, set up as node's HTTP client sets it up: strict mode, 1xx/HEAD/304 without a body).
 * Consecutive data and rest bytes are merged, so that events are comparable whatever the split.
 */
import { createRequire } from 'node:module';
import { ProtocolError } from '../../lib/core/errors.js';
import type { Headers } from '../../lib/core/events.js';
import { ResponseParser } from '../../lib/node/http1-parser.js';

export type Event =
  | readonly ['inform', number, Headers]
  | readonly ['head', number, Headers]
  | readonly ['data', string]
  | readonly ['trailers', Headers]
  | readonly ['end', boolean]
  | readonly ['rest', string]
  | readonly ['error', string];

export interface Run {
  /** The method of the request each response answers, in order. */
  readonly methods?: readonly string[];
  /** Call `finish()` after the last chunk (the connection closed). */
  readonly close?: boolean;
  readonly maxHeaderSize?: number;
}

export const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');

function collector(): { events: Event[]; push: (event: Event) => void } {
  const events: Event[] = [];
  const push = (event: Event): void => {
    const last = events[events.length - 1];
    if ((event[0] === 'data' || event[0] === 'rest') && last?.[0] === event[0]) events[events.length - 1] = [event[0], last[1] + event[1]];
    else events.push(event);
  };
  return { events, push };
}

/**
 * rxconn's parser: one response expected per method, the next one expected as the previous ends
 * (input that arrives in the same read as an end is then refused: it was sent before the next request).
 */
export function rxParse(chunks: readonly Buffer[], { methods = ['GET'], close = false, maxHeaderSize = 16_384 }: Run = {}): Event[] {
  const { events, push } = collector();
  const parser = new ResponseParser(maxHeaderSize);
  let next = 0;
  const expectNext = (): void => {
    if (next < methods.length) parser.expect(methods[next++], handler);
  };
  const handler = {
    onInform: (status: number, headers: Headers) => push(['inform', status, headers]),
    onHead: (status: number, headers: Headers) => push(['head', status, headers]),
    onData: (chunk: Buffer) => {
      if (chunk.length === 0) throw new Error('an empty data chunk');
      push(['data', chunk.toString('latin1')]);
    },
    onTrailers: (headers: Headers) => push(['trailers', headers]),
    onEnd: (reusable: boolean) => {
      push(['end', reusable]);
      expectNext();
    },
  };
  expectNext();
  try {
    for (const chunk of chunks) {
      const rest = parser.execute(chunk);
      if (rest !== undefined && rest.length > 0) push(['rest', rest.toString('latin1')]);
    }
    if (close) parser.finish();
  } catch (error) {
    if (!(error instanceof ProtocolError) || error.code !== 'RXCONN_PROTOCOL') throw error;
    push(['error', error.message]);
  }
  return events;
}

interface LlhttpParser {
  initialize(type: number, resource: object, maxHeaderSize: number, lenient: number): void;
  execute(data: Buffer): number | (Error & { code: string; reason: string });
  finish(): undefined | (Error & { code: string; reason: string });
  close(): void;
  [callback: number]: unknown;
}
interface LlhttpBinding {
  new (): LlhttpParser;
  readonly RESPONSE: number;
  readonly kLenientNone: number;
  readonly kOnHeaders: number;
  readonly kOnHeadersComplete: number;
  readonly kOnBody: number;
  readonly kOnMessageComplete: number;
  readonly kOnExecute: number;
}

const { HTTPParser } = createRequire(import.meta.url)('_http_common') as { HTTPParser: LlhttpBinding };

/** Raw [name, value, name, value...] pairs as rxconn shapes headers (lower-case names, repeats as arrays, set-cookie always one). */
export function shapeHeaders(raw: readonly string[]): Headers {
  const headers: Headers = {};
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i].toLowerCase();
    const value = raw[i + 1];
    const prior = headers[key];
    if (prior === undefined) headers[key] = key === 'set-cookie' ? [value] : value;
    else if (Array.isArray(prior)) prior.push(value);
    else headers[key] = [prior, value];
  }
  return headers;
}

/**
 * llhttp on one response to `methods[0]` (node's client gives each request a fresh parser).
 * `close`: the connection ended after the last chunk; a response that never started then is an
 * error for node too ("socket hang up").
 */
export function llParse(chunks: readonly Buffer[], { methods = ['GET'], close = false, maxHeaderSize = 16_384 }: Run = {}): Event[] {
  const { events, push } = collector();
  const method = methods[0];
  const parser = new HTTPParser();
  parser.initialize(HTTPParser.RESPONSE, {}, maxHeaderSize, HTTPParser.kLenientNone);
  let pending: string[] = [];
  let head = false;
  let inform = false;
  let keepAlive = false;
  let upgraded = false;
  let ended = false;
  parser[HTTPParser.kOnHeaders] = (raw: string[]) => pending.push(...raw);
  parser[HTTPParser.kOnHeadersComplete] = (_major: number, _minor: number, raw: string[], _method: unknown, _url: unknown, status: number, _message: string, _upgrade: boolean, shouldKeepAlive: boolean) => {
    const headers = shapeHeaders([...pending, ...raw]);
    pending = [];
    if (ended) {
      // A second response to one request: node's client destroys the socket.
      push(['error', 'a second response']);
      return 0;
    }
    if (status >= 100 && status < 200 && status !== 101) {
      push(['inform', status, headers]);
      inform = true;
      return 1;
    }
    push(['head', status, headers]);
    head = true;
    inform = false;
    keepAlive = shouldKeepAlive;
    if (status === 101) upgraded = true;
    return method === 'HEAD' || status === 304 ? 1 : 0;
  };
  parser[HTTPParser.kOnBody] = (chunk: Buffer) => push(['data', chunk.toString('latin1')]);
  parser[HTTPParser.kOnMessageComplete] = () => {
    if (inform) {
      inform = false;
      pending = [];
      return;
    }
    if (!head || ended || upgraded) return;
    if (pending.length > 0) push(['trailers', shapeHeaders(pending)]);
    pending = [];
    ended = true;
    push(['end', keepAlive]);
  };
  parser[HTTPParser.kOnExecute] = () => {};
  try {
    for (const chunk of chunks) {
      if (upgraded) {
        if (chunk.length > 0) push(['rest', chunk.toString('latin1')]);
        continue;
      }
      const result = parser.execute(chunk);
      if (events[events.length - 1]?.[0] === 'error') return events;
      if (typeof result !== 'number') {
        push(['error', `${result.code}: ${result.reason}`]);
        return events;
      }
      if (upgraded && result < chunk.length) push(['rest', chunk.subarray(result).toString('latin1')]);
    }
    if (close && !upgraded) {
      const result = parser.finish();
      if (result) push(['error', `${result.code}: ${result.reason}`]);
      else if (!ended) push(['error', 'socket hang up']);
    }
    return events;
  } finally {
    parser.close();
  }
}
