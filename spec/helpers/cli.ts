/**
 * What the CLI specs share: an in-memory terminal for `main(argv, io)`, and the handler of their
 * HTTP servers.
 */
import { Readable } from 'node:stream';
import type { main } from '../../lib/cli/main.js';
import type { Handler } from './servers.js';

/** An in-memory terminal: what the CLI wrote, and what it reads. */
export function terminal(stdin: string[] = []): { io: Parameters<typeof main>[1]; out: () => string; err: () => string; bytes: () => number } {
  const out: Buffer[] = [];
  let err = '';
  return {
    io: {
      stdout: { write: (chunk: string | Uint8Array) => out.push(Buffer.from(chunk)) },
      stderr: { write: (chunk: string) => (err += chunk) },
      stdin: Readable.from(stdin),
    },
    out: () => Buffer.concat(out).toString('utf8'),
    err: () => err,
    bytes: () => out.reduce((n, b) => n + b.byteLength, 0),
  };
}

export const BIG = 3 * 1024 * 1024 + 17;

/**
 * Echoes method, path, a header and the body; `/status/N` answers N; `/big` sends 3 MiB; `/hang`
 * never answers; `/auth` echoes the authorization header; `/json` answers JSON describing the request.
 */
export const handler: Handler = (req, res) => {
  if (req.url === '/hang') return;
  if (req.url === '/auth') {
    res.end(`authorization=${String(req.headers.authorization)}`);
    return;
  }
  if (req.url === '/json') {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(JSON.stringify({ method: req.method, type: req.headers['content-type'], accept: req.headers.accept, got: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') as unknown }));
    });
    return;
  }
  if (req.url === '/big') {
    res.setHeader('content-length', BIG);
    res.end(Buffer.alloc(BIG, 'x'));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const status = /^\/status\/(\d+)$/.exec(req.url ?? '');
    res.statusCode = status ? Number(status[1]) : 200;
    res.setHeader('x-answer', 'yes');
    res.end(`${req.method} ${req.url} x-token=${String(req.headers['x-token'])} body=${Buffer.concat(chunks).toString('utf8')}`);
  });
};
