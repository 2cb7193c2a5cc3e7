/** The HTTP/1.1 floor: `node:http` with a keep-alive Agent limited to one socket. */
import { Agent, request } from 'node:http';
import { readResponse } from '../common.js';
import type { HttpClient, HttpDriver, HttpTarget } from '../common.js';

export const nodeHttp: HttpDriver = {
  name: 'node:http agent',
  async setup(target: HttpTarget): Promise<HttpClient> {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const { hostname, port } = new URL(target.origin);
    return {
      request: (path, done) => {
        const req = request({ hostname, port, path, agent }, (res) => readResponse(res, done));
        req.on('error', (error) => done(error, 0));
        req.end();
      },
      close: async () => agent.destroy(),
    };
  },
};
