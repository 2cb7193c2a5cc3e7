/**
 * The connection of one CLI run: options from the flags, lifecycle events to stderr.
 */
import { readFile } from 'node:fs/promises';
import type { Subscription } from 'rxjs';
import type { Connection } from '../core/connection.js';
import { open } from '../node/open.js';
import type { ConnectionOptions } from '../core/options.js';
import type { CliCommand } from './args.js';
import { describeEvent } from './report.js';
import type { Reporter } from './report.js';

/** The origin (`scheme://host:port`) of a URL; `ws:`/`wss:` become `http:`/`https:`. */
export function originOf(url: URL): string {
  const scheme = url.protocol === 'wss:' || url.protocol === 'https:' ? 'https:' : 'http:';
  return `${scheme}//${url.host}`;
}

/** The request target of a URL: path and query. */
export function targetOf(url: URL): string {
  return `${url.pathname || '/'}${url.search}`;
}

/** The contents of the `--cacert`, `--cert` and `--key` files, as `node:tls` options. */
export interface TlsFiles {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** A file named by a flag could not be read. */
export class FlagFileError extends Error {
  constructor(flag: string, file: string, cause: unknown) {
    super(`cannot read ${flag} ${file}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'FlagFileError';
  }
}

async function readFlagFile(flag: string, file: string | undefined): Promise<Buffer | undefined> {
  if (file === undefined) return undefined;
  try {
    return await readFile(file);
  } catch (error) {
    throw new FlagFileError(flag, file, error);
  }
}

/**
 * Reads the `--cacert`, `--cert` and `--key` files. A `--cert` without `--key` serves as its own
 * key file (a PEM holding both, as curl accepts). Rejects with a {@link FlagFileError}.
 */
export async function readTlsFiles(command: CliCommand): Promise<TlsFiles> {
  const ca = await readFlagFile('--cacert', command.cacert);
  const cert = await readFlagFile('--cert', command.cert);
  const key = command.key === undefined ? cert : await readFlagFile('--key', command.key);
  return { ...(ca && { ca }), ...(cert && { cert }), ...(key && { key }) };
}

/** `open()`'s options for the flags of `command` (and the files its TLS flags name). */
export function connectionOptions(command: CliCommand, files: TlsFiles = {}): ConnectionOptions {
  const tls = { ...files, ...(command.insecure && { rejectUnauthorized: false }) };
  return {
    ...(command.protocol && { protocols: [command.protocol] }),
    ...(Object.keys(tls).length > 0 && { tls }),
    ...(command.timeout !== undefined && { connectTimeout: command.timeout }),
    retry: command.retry === 0 ? false : { maxRetries: command.retry, initialDelay: 200, maxDelay: 5_000 },
    ...(command.proxy !== undefined && { proxy: command.proxy }),
    ...(command.unixSocket !== undefined && { socketPath: command.unixSocket }),
  };
}

/** Opens the connection and prints its events on stderr until it ends. */
export function connect(command: CliCommand, reporter: Reporter, files: TlsFiles = {}): { conn: Connection; events: Subscription } {
  const conn = open(originOf(command.url), connectionOptions(command, files));
  const events = conn.subscribe({
    next: event => reporter.info(describeEvent(event)),
    // The failure reaches the request (or the WebSocket) too, which reports it: nothing to add here.
    error: () => undefined,
  });
  return { conn, events };
}
