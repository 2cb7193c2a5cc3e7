/** The HTTP/2 floor: one raw `node:http2` ClientHttp2Session, one stream per request. */
import { connect } from 'node:http2';
import type { ClientHttp2Session } from 'node:http2';
import type { Done, HttpClient, HttpDriver, HttpTarget } from '../common.js';

/** Connects a session and waits for the server's SETTINGS (`connect`); `window` (bytes) raises the stream and connection flow-control windows. */
export function connectSession(target: HttpTarget, window?: number): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(target.origin, { ca: target.ca, ...(window && { settings: { initialWindowSize: window } }) });
    const onError = (error: Error): void => reject(error);
    session.once('error', onError);
    session.once('connect', () => {
      session.off('error', onError);
      if (window) session.setLocalWindowSize(4 * window);
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

/**
 * One GET on the raw session, in its fastest form: `session.request(headers)` without options.
 * Node ends a GET's stream itself (END_STREAM on the HEADERS frame, as `{ endStream: true }`
 * does: the frames are the same), but an options object costs ~20% more client CPU per request
 * at c=64 inside Node's `request()` (it copies the object and adds the priority defaults to the
 * copy); see bench/README.md, "The floor's request form".
 */
export function sessionRequest(session: ClientHttp2Session, path: string, done: Done): void {
  const stream = session.request({ ':path': path });
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

/**
 * Not a floor but a ceiling: the same raw session with a 1 MiB stream window and a 4 MiB
 * connection window (Node's defaults are 65,535 bytes, so a 64 KiB body waits for a
 * WINDOW_UPDATE). Shown in the 64 KiB scenarios to say what flow control costs there.
 */
export const nodeHttp2BigWindow: HttpDriver = {
  name: 'node:http2 (1 MiB window)',
  async setup(target: HttpTarget): Promise<HttpClient> {
    const session = await connectSession(target, 1 << 20);
    return {
      request: (path, done) => sessionRequest(session, path, done),
      close: () => closeSession(session),
    };
  },
};

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
