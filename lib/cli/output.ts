/**
 * Where the body of a response goes: stdout, or the file of `-o` (created when the response
 * head arrives, so that a failed connection leaves no empty file behind), optionally through the
 * JSON pretty-printer of `--json`.
 */
import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import type { Headers } from '../core/events.js';
import type { CliIo } from './report.js';

/** A body sink. */
export interface Output {
  /** Starts a response body with these headers (called once per final response head). */
  begin(headers: Headers): void;
  write(chunk: Uint8Array): void;
  /** The body is complete: flush (the pretty JSON), close the file; rejects with a write error. */
  end(): Promise<void>;
  /** The request failed: close the file without waiting for it. */
  abort(): void;
}

/** `application/json`, `application/problem+json`... (parameters ignored). */
export function isJsonType(contentType: string | readonly string[] | undefined): boolean {
  const value = (Array.isArray(contentType) ? contentType[0] : contentType) as string | undefined;
  const type = value?.split(';')[0].trim().toLowerCase() ?? '';
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** `bytes` as JSON indented by two spaces, with a final newline; `undefined` when it is not JSON. */
export function prettyJson(bytes: Uint8Array): string | undefined {
  try {
    return `${JSON.stringify(JSON.parse(Buffer.from(bytes).toString('utf8')), null, 2)}\n`;
  } catch {
    return undefined;
  }
}

/**
 * The body sink of one request. `file`: `-o`; `pretty`: `--json` (a JSON response is held until
 * its end and printed indented; anything else streams through as it comes, as does a JSON body
 * that does not parse). `onError` is called once if the file cannot be written.
 */
export function createOutput(io: CliIo, options: { readonly file: string | undefined; readonly pretty: boolean; readonly onError: (error: Error) => void }): Output {
  let stream: WriteStream | undefined;
  let failed: Error | undefined;
  let held: Uint8Array[] | undefined;
  const put = (chunk: Uint8Array | string): void => {
    if (stream) stream.write(chunk);
    else io.stdout.write(chunk);
  };
  const release = (): void => {
    if (!held) return;
    const chunks = held;
    held = undefined;
    const bytes = Buffer.concat(chunks);
    put(prettyJson(bytes) ?? bytes);
  };
  return {
    begin(headers) {
      held = options.pretty && isJsonType(headers['content-type']) ? [] : undefined;
      if (options.file === undefined || stream) return;
      stream = createWriteStream(options.file);
      stream.once('error', error => {
        failed = error;
        options.onError(error);
      });
    },
    write(chunk) {
      if (held) held.push(chunk);
      else put(chunk);
    },
    end() {
      release();
      const file = stream;
      if (!file) return Promise.resolve();
      if (failed) return Promise.reject(failed);
      return new Promise<void>((resolve, reject) => {
        file.once('error', reject);
        file.once('finish', resolve);
        file.end();
      });
    },
    abort() {
      held = undefined;
      stream?.destroy();
    },
  };
}
