/**
 * What `rxconn` prints on stderr: lifecycle events with the time since start, response heads,
 * download progress, and errors with their exit codes.
 */
import type { ConnectionEvent, Headers, Intermediary } from '../core/events.js';
import { RxconnError } from '../core/errors.js';

/** Where the CLI writes, and its clock: injected so that tests run `main()` in-process. */
export interface CliIo {
  /** The body or the messages. */
  readonly stdout: { write(chunk: string | Uint8Array): unknown };
  /** Events, status, progress, errors. `isTTY` makes progress rewrite one line. */
  readonly stderr: { write(chunk: string): unknown; readonly isTTY?: boolean };
  /** Read by `--data @-` and by `ws` (lines to send). */
  readonly stdin: NodeJS.ReadableStream;
  /** A clock in ms, for the timestamps and the progress pace. Default `performance.now`. */
  readonly now?: () => number;
  /** Aborted on Ctrl-C: the request is cancelled, a WebSocket closes with 1001. */
  readonly signal?: AbortSignal;
}

/** The exit codes, as documented in the usage text. */
export const EXIT = { ok: 0, httpError: 1, usage: 2, connection: 3, timeout: 4, protocol: 5, output: 6, interrupted: 130 } as const;

const CONNECTION_CODES = new Set([
  'RXCONN_CONNECT_TIMEOUT', 'RXCONN_TLS', 'RXCONN_DNS', 'RXCONN_SEND_TIMEOUT', 'RXCONN_RETRIES_EXHAUSTED', 'RXCONN_CONNECTION_DOWN', 'RXCONN_CONNECTION_CLOSED',
  'RXCONN_KEEPALIVE_TIMEOUT', 'RXCONN_STREAM_REFUSED', 'RXCONN_QUEUE_FULL', 'RXCONN_PROXY',
]);

/** The exit code of a failure. */
export function exitCodeOf(error: unknown): number {
  if (!(error instanceof RxconnError)) return EXIT.protocol;
  if (error.code === 'RXCONN_INVALID_ARGUMENT') return EXIT.usage;
  if (error.code === 'RXCONN_TIMEOUT') return EXIT.timeout;
  if (CONNECTION_CODES.has(error.code)) return EXIT.connection;
  return EXIT.protocol;
}

/** One line about a failure: `rxconn: RXCONN_TLS: message`. */
export function describeError(error: unknown): string {
  if (error instanceof RxconnError) {
    const cause = error.cause instanceof Error && !error.message.includes(error.cause.message) ? ` (${error.cause.message})` : '';
    return `${error.code}: ${error.message}${cause}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** A lifecycle event in words. */
export function describeEvent(event: ConnectionEvent): string {
  switch (event.type) {
    case 'connecting':
      return `connecting (attempt ${event.attempt})`;
    case 'connected':
      return `connected over ${event.protocol === 'http2' ? 'HTTP/2' : 'HTTP/1.1'}${event.intermediaries ? ` through ${event.intermediaries.map(describeHop).join(' → ')}` : ''}${event.attempt > 0 ? ` after ${event.attempt} retr${event.attempt === 1 ? 'y' : 'ies'}` : ''}`;
    case 'disconnected':
      return `disconnected: ${event.error.message}${event.killedStreams ? ` (${event.killedStreams} stream(s) killed)` : ''}`;
    case 'retrying':
      return `retrying in ${Math.round(event.delay)} ms (attempt ${event.attempt}) after: ${event.error.message}`;
    case 'upgraded':
      return `upgraded to ${event.protocol}`;
    case 'closing':
      return `closing (${event.initiator === 'client' ? 'by us' : 'by the server'}, ${event.activeStreams} active stream(s))`;
    case 'closed':
      return 'closed';
  }
}

/** One proxy of a chain in words: `socks5 127.0.0.1:1080`, `CONNECT [::1]:3128 (TLS, HTTP/2)`. */
function describeHop(hop: Intermediary): string {
  const where = `${hop.host.includes(':') ? `[${hop.host}]` : hop.host}:${hop.port}`;
  if (hop.type === 'socks5') return `socks5 ${where}`;
  const details = [hop.transport === 'tls' ? 'TLS' : '', hop.protocol === 'http2' ? 'HTTP/2' : ''].filter(Boolean);
  return `CONNECT ${where}${details.length ? ` (${details.join(', ')})` : ''}`;
}

/** Writes header fields as `prefix name: value` lines. */
export function headerLines(prefix: string, headers: Headers | Readonly<Record<string, string>>): string {
  let out = '';
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) out += `${prefix} ${name}: ${v}\n`;
  }
  return out;
}

/** The stderr reporter of one run. */
export class Reporter {
  readonly #io: CliIo;
  readonly #quiet: boolean;
  readonly #now: () => number;
  readonly #start: number;

  constructor(io: CliIo, quiet: boolean) {
    this.#io = io;
    this.#quiet = quiet;
    this.#now = io.now ?? (() => performance.now());
    this.#start = this.#now();
  }

  /** ms since the start. */
  elapsed(): number {
    return this.#now() - this.#start;
  }

  /** `* +0.012s message`, unless quiet. */
  info(message: string): void {
    if (!this.#quiet) this.#io.stderr.write(`* +${(this.elapsed() / 1000).toFixed(3)}s ${message}\n`);
  }

  /** Raw text on stderr, unless quiet. */
  raw(text: string): void {
    if (!this.#quiet) this.#io.stderr.write(text);
  }

  /** An error line, always. */
  error(message: string): void {
    this.#io.stderr.write(`rxconn: ${message}\n`);
  }

  /** A progress meter for one download (see {@link Progress}). */
  progress(total: number | undefined): Progress {
    return new Progress(this.#io, this.#quiet, total, this.#now);
  }
}

const MIB = 1024 * 1024;
/** Downloads larger than this show progress. */
export const PROGRESS_THRESHOLD = MIB;

function mib(bytes: number): string {
  return `${(bytes / MIB).toFixed(1)} MiB`;
}

/**
 * A download progress line on stderr, for bodies over 1 MiB (by `content-length`, or once that
 * much has arrived): rewritten in place on a terminal (at most every 100 ms), one line per
 * second otherwise, and a final line at the end.
 */
export class Progress {
  #received = 0;
  #lastShown = -Infinity;
  readonly #io: CliIo;
  readonly #quiet: boolean;
  readonly #total: number | undefined;
  readonly #now: () => number;
  readonly #started: number;

  constructor(io: CliIo, quiet: boolean, total: number | undefined, now: () => number) {
    this.#io = io;
    this.#quiet = quiet;
    this.#total = total;
    this.#now = now;
    this.#started = now();
  }

  /** Bytes received so far. */
  get received(): number {
    return this.#received;
  }

  /** Counts a chunk; may print. */
  add(bytes: number): void {
    this.#received += bytes;
    if (this.#quiet || !this.#active()) return;
    const at = this.#now();
    if (at - this.#lastShown >= (this.#io.stderr.isTTY ? 100 : 1000)) {
      this.#lastShown = at;
      this.#print(false);
    }
  }

  /** The final line, if progress was shown or due. */
  end(): void {
    if (this.#quiet || !this.#active()) return;
    this.#print(true);
  }

  #active(): boolean {
    return this.#received > PROGRESS_THRESHOLD || (this.#total ?? 0) > PROGRESS_THRESHOLD;
  }

  #print(final: boolean): void {
    const seconds = Math.max((this.#now() - this.#started) / 1000, 0.001);
    const of = this.#total !== undefined ? ` / ${mib(this.#total)} (${Math.floor((this.#received / this.#total) * 100)}%)` : '';
    const line = `  ${mib(this.#received)}${of}  ${mib(this.#received / seconds)}/s${final ? ' done' : ''}`;
    if (this.#io.stderr.isTTY) {
      this.#io.stderr.write(`\r${line}\x1b[K${final ? '\n' : ''}`);
    } else {
      this.#io.stderr.write(`${line}\n`);
    }
  }
}
