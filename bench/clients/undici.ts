/**
 * undici `Client`: one connection. HTTP/1.1 with `pipelining` 1 or 10; HTTP/2 over TLS with
 * `allowH2` (undici 7 has no h2c). In undici 7 `pipelining` (default 1) also caps concurrent
 * HTTP/2 streams, so the HTTP/2 driver sets it to 100, as a user multiplexing would.
 */
import { Client } from 'undici';
import type { HttpClient, HttpDriver, HttpTarget } from '../common.js';

function wrap(client: Client, origin: string): HttpClient {
  return {
    request: (path, done) => {
      client.request({ origin, path, method: 'GET' }).then(
        ({ statusCode, body }) => {
          let bytes = 0;
          body.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
          });
          body.on('end', () => done(statusCode === 200 ? null : new Error(`status ${statusCode}`), bytes));
          body.on('error', (error: Error) => done(error, bytes));
        },
        (error: unknown) => done(error instanceof Error ? error : new Error(String(error)), 0),
      );
    },
    close: () => client.close(),
  };
}

/** undici over HTTP/1.1 with the given pipelining depth. */
export function undiciHttp1(pipelining: number): HttpDriver {
  return {
    name: `undici pipelining ${pipelining}`,
    async setup(target: HttpTarget): Promise<HttpClient> {
      return wrap(new Client(target.origin, { pipelining }), target.origin);
    },
  };
}

export const undiciHttp2: HttpDriver = {
  name: 'undici allowH2',
  async setup(target: HttpTarget): Promise<HttpClient> {
    if (!target.origin.startsWith('https:')) throw new Error('no h2c in undici 7');
    return wrap(new Client(target.origin, { allowH2: true, pipelining: 100, connect: { ca: target.ca } }), target.origin);
  },
};
