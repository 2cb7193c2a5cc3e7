/**
 * The HEADERS rxconn sends for each method and body: a request without a body ends its stream on
 * the HEADERS frame (END_STREAM), whatever the method, and a request with a body keeps the stream
 * open for it. rxconn omits the options of `session.request()` when node's default already says
 * so (GET, HEAD, DELETE end by themselves); these cases pin that the frames stay right either way.
 */
import { createServer } from 'node:http2';
import type { ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { lastValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { open, text } from '../lib/index.js';
import type { Connection } from '../lib/index.js';

interface Seen {
  readonly method: string;
  readonly endAfterHeaders: boolean;
  readonly body: string;
}

describe('HTTP/2 request form on the wire', () => {
  const seen: Seen[] = [];
  const server = createServer();
  let conn: Connection;

  beforeAll(async () => {
    server.on('stream', (stream: ServerHttp2Stream, headers) => {
      const endAfterHeaders = stream.endAfterHeaders;
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        seen.push({ method: String(headers[':method']), endAfterHeaders, body: Buffer.concat(chunks).toString() });
        // A response to HEAD has no body: node ends that stream on the response HEADERS itself.
        if (headers[':method'] === 'HEAD') stream.respond({ ':status': 200 }, { endStream: true });
        else {
          stream.respond({ ':status': 200 });
          stream.end('ok');
        }
      });
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    conn = open(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { protocols: ['http2'] });
  });

  afterAll(async () => {
    await conn.shutdown();
    await new Promise<void>(resolve => server.close(() => resolve()));
  });

  const cases: [string, string | undefined, boolean][] = [
    ['GET', undefined, true],
    ['HEAD', undefined, true],
    ['DELETE', undefined, true],
    ['POST', undefined, true],
    ['POST', '', true],
    ['PUT', 'payload', false],
    ['DELETE', 'payload', false],
    ['OPTIONS', undefined, true],
  ];
  it.each(cases)('%s with body %j: END_STREAM on HEADERS is %s, the body arrives whole', async (method, body, endAfterHeaders) => {
    const response = await lastValueFrom(conn.request({ method, path: '/', ...(body !== undefined && { body }) }).pipe(text()));
    expect(response.status).toBe(200);
    expect(seen.at(-1)).toEqual({ method, endAfterHeaders, body: body ?? '' });
  });
});
