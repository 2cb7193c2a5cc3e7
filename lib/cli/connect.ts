/**
 * The connection of one CLI run: options from the flags, lifecycle events to stderr.
 */
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

/** `open()`'s options for the flags of `command`. */
export function connectionOptions(command: CliCommand): ConnectionOptions {
  return {
    ...(command.protocol && { protocols: [command.protocol] }),
    ...(command.insecure && { tls: { rejectUnauthorized: false } }),
    ...(command.timeout !== undefined && { connectTimeout: command.timeout }),
    retry: command.retry === 0 ? false : { maxRetries: command.retry, initialDelay: 200, maxDelay: 5_000 },
    ...(command.proxy !== undefined && { proxy: command.proxy }),
    ...(command.unixSocket !== undefined && { socketPath: command.unixSocket }),
  };
}

/** Opens the connection and prints its events on stderr until it ends. */
export function connect(command: CliCommand, reporter: Reporter): { conn: Connection; events: Subscription } {
  const conn = open(originOf(command.url), connectionOptions(command));
  const events = conn.subscribe({
    next: event => reporter.info(describeEvent(event)),
    // The failure reaches the request (or the WebSocket) too, which reports it: nothing to add here.
    error: () => undefined,
  });
  return { conn, events };
}
