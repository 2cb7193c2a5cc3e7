/** The HTTP/2 floor: one raw `node:http2` ClientHttp2Session, one stream per request. */
import { connect } from 'node:http2';
import type { ClientHttp2Session } from 'node:http2';
import type { Done, HttpClient, HttpDriver, HttpTarget } from '../common.js';

/** Connects a session and waits for the server's SETTINGS (`connect`). */
export function connectSession(target: HttpTarget): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(target.origin, { ca: target.ca });
    const onError = (error: Error): void => reject(error);
    session.once('error', onError);
    session.once('connect', () => {
      session.off('error', onError);
      session.on('error', () => undefined); // surfaced per stream
      resolve(session);
    });
  });
}

/** Closes gracefully and waits for the socket to go. */
export function closeSession(session: ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => {
    if (session.destroyed) return resolve();
    session.close(() => resolve());
  });
}

export function sessionRequest(session: ClientHttp2Session, path: string, done: Done): void {
  const stream = session.request({ ':path': path }, { endStream: true });
  let bytes = 0;
  let status = 0;
  stream.on('response', (headers) => {
    status = Number(headers[':status']);
  });
  stream.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  stream.on('end', () => done(status === 200 ? null : new Error(`status ${status}`), bytes));
  stream.on('error', (error) => done(error, bytes));
}

export const nodeHttp2: HttpDriver = {
  name: 'node:http2',
  async setup(target: HttpTarget): Promise<HttpClient> {
    const session = await connectSession(target);
    return {
      request: (path, done) => sessionRequest(session, path, done),
      close: () => closeSession(session),
    };
  },
};
