/**
 * http2-wrapper's `https`-compatible request layer: over TLS through its Agent (default options;
 * it keeps one session per origin); over h2c on a given raw session (`h2session`), its Agent being TLS-only.
 * It resets every finished stream, so it runs on rotating connections (see rotate.ts).
 */
import http2wrapper from 'http2-wrapper';
import type { IncomingMessage } from 'node:http';
import { readResponse } from '../common.js';
import type { Done, HttpClient, HttpDriver, HttpTarget } from '../common.js';
import { closeSession, connectSession } from './node-http2.js';
import { rotating } from './rotate.js';

function send(url: string, options: http2wrapper.RequestOptions, done: Done): void {
  const req = http2wrapper.request(url, options, (res: IncomingMessage) => readResponse(res, done));
  req.on('error', (error) => done(error, 0));
  req.end();
}

/** One connection: a raw session for h2c, an Agent connected by a first request for TLS. */
async function connect(target: HttpTarget): Promise<HttpClient> {
  if (target.origin.startsWith('http:')) {
    const session = await connectSession(target);
    const options: http2wrapper.RequestOptions = { h2session: session };
    return {
      request: (path, done) => send(target.origin + path, options, done),
      close: () => closeSession(session),
    };
  }
  const agent = new http2wrapper.Agent();
  const options: http2wrapper.RequestOptions = { agent, ca: target.ca };
  await new Promise<void>((resolve, reject) => send(`${target.origin}/64`, options, (error) => (error ? reject(error) : resolve())));
  return {
    request: (path, done) => send(target.origin + path, options, done),
    close: async () => agent.destroy(),
  };
}

export const http2Wrapper: HttpDriver = {
  name: 'http2-wrapper',
  setup: (target: HttpTarget): Promise<HttpClient> => rotating(() => connect(target)),
};
