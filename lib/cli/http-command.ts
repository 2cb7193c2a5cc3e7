/**
 * `rxconn get|head|delete|post|put|patch URL`: one request, the body on stdout.
 */
import { readFile } from 'node:fs/promises';
import { text as readText } from 'node:stream/consumers';
import type { RequestInit } from '../core/request-init.js';
import { HTTP_COMMANDS } from './args.js';
import type { CliCommand } from './args.js';
import { connect, targetOf } from './connect.js';
import { EXIT, describeError, exitCodeOf, headerLines } from './report.js';
import type { CliIo, Reporter } from './report.js';

/** The request body of `--data`: the text itself, `@file`, or `@-` for stdin. */
async function requestBody(data: string | undefined, io: CliIo): Promise<string | Uint8Array | undefined> {
  if (data === undefined) return undefined;
  if (data === '@-') return readText(io.stdin);
  if (data.startsWith('@')) return new Uint8Array(await readFile(data.slice(1)));
  return data;
}

/** Headers from `-H` pairs; a repeated name is joined with `, `. */
export function headerRecord(pairs: CliCommand['headers']): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of pairs) {
    const key = name.toLowerCase();
    headers[key] = key in headers ? `${headers[key]}, ${value}` : value;
  }
  return headers;
}

/** Runs one HTTP command; resolves with the exit code once the connection is closed. */
export async function runHttp(command: CliCommand, io: CliIo, reporter: Reporter): Promise<number> {
  if (command.command === 'ws') throw new Error('runHttp: not an HTTP command');
  let body: string | Uint8Array | undefined;
  try {
    body = await requestBody(command.data, io);
  } catch (error) {
    reporter.error(`cannot read --data ${command.data}: ${(error as Error).message}`);
    return EXIT.usage;
  }
  const headers = headerRecord(command.headers);
  const init: RequestInit = {
    method: HTTP_COMMANDS[command.command],
    path: targetOf(command.url),
    headers,
    ...(body !== undefined && { body }),
    ...(command.timeout !== undefined && { timeout: command.timeout }),
  };
  const { conn, events } = connect(command, reporter);
  if (command.verbose) reporter.raw(`> ${init.method} ${init.path}\n${headerLines('>', headers)}`);
  const code = await new Promise<number>(resolve => {
    let status = 0;
    let progress = reporter.progress(undefined);
    const subscription = conn.request(init).subscribe({
      next: event => {
        switch (event.type) {
          case 'inform':
            reporter.info(`informational response ${event.status}`);
            if (command.verbose) reporter.raw(headerLines('<', event.headers));
            break;
          case 'response': {
            status = event.status;
            reporter.info(`response ${event.status}`);
            if (command.verbose) reporter.raw(headerLines('<', event.headers));
            const length = Number(event.headers['content-length']);
            progress = reporter.progress(Number.isFinite(length) ? length : undefined);
            break;
          }
          case 'data':
            io.stdout.write(event.data);
            progress.add(event.data.byteLength);
            break;
          case 'trailers':
            if (command.verbose) reporter.raw(headerLines('< trailer', event.headers));
            break;
        }
      },
      error: (error: unknown) => {
        if (io.signal?.aborted) {
          reporter.error('interrupted');
          resolve(EXIT.interrupted);
          return;
        }
        reporter.error(describeError(error));
        resolve(exitCodeOf(error));
      },
      complete: () => {
        progress.end();
        resolve(status >= 400 ? EXIT.httpError : EXIT.ok);
      },
    });
    io.signal?.addEventListener('abort', () => {
      subscription.unsubscribe();
      reporter.error('interrupted');
      resolve(EXIT.interrupted);
    }, { once: true });
  });
  // A complete response leaves nothing in flight: close gracefully. After a failure, a timeout or
  // Ctrl-C, a cancelled response may still be arriving: nothing of it is wanted, close at once.
  if (code === EXIT.ok || code === EXIT.httpError) await conn.shutdown();
  else {
    conn.close();
    await conn.whenClosed();
  }
  events.unsubscribe();
  return code;
}
