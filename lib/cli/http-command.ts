/**
 * `rxconn get|head|delete|post|put|patch URL`: one request, the body on stdout (or `-o FILE`).
 */
import { readFile } from 'node:fs/promises';
import { text as readText } from 'node:stream/consumers';
import type { RequestInit } from '../core/request-init.js';
import { HTTP_COMMANDS } from './args.js';
import type { CliCommand } from './args.js';
import { connect, targetOf } from './connect.js';
import type { TlsFiles } from './connect.js';
import { requestHeaders } from './headers.js';
import { createOutput } from './output.js';
import { EXIT, describeError, exitCodeOf, headerLines } from './report.js';
import type { CliIo, Reporter } from './report.js';

export { headerRecord } from './headers.js';

/** The request body of `--data` or `--json`: the text itself, `@file`, or `@-` for stdin. */
async function requestBody(data: string | undefined, io: CliIo): Promise<string | Uint8Array | undefined> {
  if (data === undefined) return undefined;
  if (data === '@-') return readText(io.stdin);
  if (data.startsWith('@')) return new Uint8Array(await readFile(data.slice(1)));
  return data;
}

/** Runs one HTTP command; resolves with the exit code once the connection is closed. */
export async function runHttp(command: CliCommand, io: CliIo, reporter: Reporter, files: TlsFiles = {}): Promise<number> {
  if (command.command === 'ws') throw new Error('runHttp: not an HTTP command');
  const flag = command.json !== undefined ? '--json' : '--data';
  const source = command.json ?? command.data;
  let body: string | Uint8Array | undefined;
  try {
    body = await requestBody(source, io);
  } catch (error) {
    reporter.error(`cannot read ${flag} ${source}: ${(error as Error).message}`);
    return EXIT.usage;
  }
  const headers = requestHeaders(command);
  const init: RequestInit = {
    method: HTTP_COMMANDS[command.command],
    path: targetOf(command.url),
    headers,
    ...(body !== undefined && { body }),
    ...(command.timeout !== undefined && { timeout: command.timeout }),
  };
  const { conn, events } = connect(command, reporter, files);
  if (command.verbose) reporter.raw(`> ${init.method} ${init.path}\n${headerLines('>', headers)}`);
  const code = await new Promise<number>(resolve => {
    let status = 0;
    let progress = reporter.progress(undefined);
    let writeFailed = false;
    const output = createOutput(io, {
      file: command.output,
      pretty: command.json !== undefined,
      onError: error => {
        writeFailed = true;
        subscription.unsubscribe();
        reporter.error(`cannot write -o ${command.output}: ${error.message}`);
        resolve(EXIT.output);
      },
    });
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
            output.begin(event.headers);
            break;
          }
          case 'data':
            output.write(event.data);
            progress.add(event.data.byteLength);
            break;
          case 'trailers':
            if (command.verbose) reporter.raw(headerLines('< trailer', event.headers));
            break;
        }
      },
      error: (error: unknown) => {
        output.abort();
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
        output.end().then(
          () => resolve(status >= 400 ? EXIT.httpError : EXIT.ok),
          (error: Error) => {
            if (!writeFailed) reporter.error(`cannot write -o ${command.output}: ${error.message}`);
            resolve(EXIT.output);
          },
        );
      },
    });
    io.signal?.addEventListener('abort', () => {
      subscription.unsubscribe();
      output.abort();
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
