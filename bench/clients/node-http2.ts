/** The HTTP/2 floor: one raw `node:http2` ClientHttp2Session, one stream per request. */
import { connect } from 'node:http2';
import type { ClientHttp2Session, OutgoingHttpHeaders } from 'node:http2';
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
 * The HEADERS of one GET in the raw session's fastest form: all four pseudo-headers given, so
 * that Node's `request()` adds none to its copy (see bench/README.md, "The floor's request form").
 */
export function getHeaders(target: HttpTarget): (path: string) => OutgoingHttpHeaders {
  const { protocol, host } = new URL(target.origin);
  const scheme = protocol.slice(0, -1);
  return (path) => ({ ':method': 'GET', ':scheme': scheme, ':authority': host, ':path': path });
}

/**
 * One GET on the raw session, in its fastest form: `session.request(headers)` with the four
 * pseudo-headers ({@link getHeaders}) and without options. Node ends a GET's stream itself
 * (END_STREAM on the HEADERS frame, as `{ endStream: true }` does: the frames are the same), but
 * an options object costs ~20% more client CPU per request at c=64 inside Node's `request()`.
 */
export function sessionRequest(session: ClientHttp2Session, headers: OutgoingHttpHeaders, done: Done): void {
  const stream = session.request(headers);
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
    const headers = getHeaders(target);
    return {
      request: (path, done) => sessionRequest(session, headers(path), done),
      close: () => closeSession(session),
    };
  },
};

export const nodeHttp2: HttpDriver = {
  name: 'node:http2',
  async setup(target: HttpTarget): Promise<HttpClient> {
    const session = await connectSession(target);
    const headers = getHeaders(target);
    return {
      request: (path, done) => sessionRequest(session, headers(path), done),
      close: () => closeSession(session),
    };
  },
};
