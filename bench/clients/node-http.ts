/** The HTTP/1.1 floor: `node:http` with a keep-alive Agent limited to one socket. */
import { Agent, request } from 'node:http';
import type { HttpClient, HttpDriver, HttpTarget } from '../common.js';

export const nodeHttp: HttpDriver = {
  name: 'node:http agent',
  async setup(target: HttpTarget): Promise<HttpClient> {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const { hostname, port } = new URL(target.origin);
    return {
      request: (path, done) => {
        const req = request({ hostname, port, path, agent }, (res) => {
          let bytes = 0;
          res.on('data', (chunk: Buffer) => {
            bytes += chunk.length;
          });
          res.on('end', () => done(res.statusCode === 200 ? null : new Error(`status ${res.statusCode}`), bytes));
          res.on('error', (error) => done(error, bytes));
        });
        req.on('error', (error) => done(error, 0));
        req.end();
      },
      close: async () => agent.destroy(),
    };
  },
};
