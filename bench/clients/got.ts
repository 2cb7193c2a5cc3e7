/**
 * got with `http2: true` (ALPN through http2-wrapper's `auto`; its own http2-wrapper Agent with
 * default options: `maxSessions: 1` breaks got at concurrency 1, the ALPN probe's socket being
 * a second session). No retries, no decompression, no HTTP-error throwing: the bare request path.
 * got has no h2c: setup refuses cleartext. http2-wrapper resets every finished stream, so got
 * runs on rotating connections (see rotate.ts).
 */
import got from 'got';
import http2wrapper from 'http2-wrapper';
import type { HttpClient, HttpDriver, HttpTarget } from '../common.js';
import { toError } from '../common.js';
import { rotating } from './rotate.js';

/** One got instance on its own single-session Agent, connected by a first request. */
async function connect(target: HttpTarget): Promise<HttpClient> {
  const agent = new http2wrapper.Agent();
  const client = got.extend({
    http2: true,
    agent: { http2: agent },
    https: { certificateAuthority: target.ca },
    retry: { limit: 0 },
    decompress: false,
    throwHttpErrors: false,
    responseType: 'buffer',
  });
  const probe = await client(`${target.origin}/64`);
  if (probe.httpVersion !== '2.0') throw new Error(`got negotiated HTTP/${probe.httpVersion}`);
  return {
    request: (path, done) => {
      client(target.origin + path).then(
        (res) => done(res.statusCode === 200 ? null : new Error(`status ${res.statusCode}`), res.rawBody.length),
        (error: unknown) => done(toError(error), 0),
      );
    },
    close: async () => agent.destroy(),
  };
}

export const gotHttp2: HttpDriver = {
  name: 'got',
  async setup(target: HttpTarget): Promise<HttpClient> {
    if (!target.origin.startsWith('https:')) throw new Error('no h2c in got');
    return rotating(() => connect(target));
  },
};
