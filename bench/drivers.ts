/**
 * The clients `profile.ts` and `ab.ts` can run, by name, per section: the callback drivers, plus
 * the user-shaped ones (a Promise per request) with a `-text`, `-json` or `-events` suffix.
 */
import type { HttpDriver } from './common.js';
import { gotHttp2 } from './clients/got.js';
import { http2Wrapper } from './clients/http2-wrapper.js';
import { nodeHttp } from './clients/node-http.js';
import { nodeHttp2, nodeHttp2BigWindow } from './clients/node-http2.js';
import { rxconnHttp } from './clients/rxconn.js';
import { undiciHttp1, undiciHttp2 } from './clients/undici.js';
import { gotPromise, nodeFetch, nodeHttp2Promise, nodeHttpPromise, rxconnLastEvent, rxconnPromise, undiciRequest } from './clients/promise.js';

export type Section = 'h2c' | 'tls' | 'h1';

export const drivers = (section: Section): Record<string, HttpDriver> => {
  const protocol = section === 'h1' ? 'http1' : 'http2';
  const user: Record<string, HttpDriver> = {
    'rxconn-events': rxconnLastEvent(protocol),
    'fetch-text': nodeFetch('text'),
    'fetch-json': nodeFetch('json'),
    'undici-request-text': undiciRequest('text'),
    'undici-request-json': undiciRequest('json'),
    'got-text': gotPromise('text'),
    'got-json': gotPromise('json'),
  };
  for (const decode of ['text', 'json'] as const) {
    user[`rxconn-${decode}`] = rxconnPromise(protocol, decode);
    user[`floor-${decode}`] = section === 'h1' ? nodeHttpPromise(decode) : nodeHttp2Promise(decode);
  }
  return section === 'h1'
    ? { 'node:http': nodeHttp, undici1: undiciHttp1(1), undici10: undiciHttp1(10), rxconn: rxconnHttp('http1'), ...user }
    : { 'node:http2': nodeHttp2, 'node:http2-window': nodeHttp2BigWindow, 'http2-wrapper': http2Wrapper, got: gotHttp2, undici: undiciHttp2, rxconn: rxconnHttp('http2'), ...user };
};

