/**
 * `rxconn ws URL`: like wscat, lines of stdin are sent as text messages and the messages received
 * are printed on stdout, one per line. The end of stdin, or Ctrl-C, closes the WebSocket cleanly.
 * Without `--retry` the run ends with the WebSocket; with `--retry N` it reconnects and upgrades
 * again after a loss (`webSocket()`), and ends only with stdin or Ctrl-C.
 */
import { createInterface } from 'node:readline';
import { first } from 'rxjs';
import type { Observable } from 'rxjs';
import type { Connection } from '../core/connection.js';
import { open } from '../node/open.js';
import { WebSocketHandshakeError } from '../core/websocket/handshake-error.js';
import type { WebSocketChannelEvent, WebSocketCloseEvent } from '../core/websocket/channel.js';
import type { WebSocketMessage } from '../core/websocket/link.js';
import { webSocket } from '../node/web-socket.js';
import type { CliCommand } from './args.js';
import { connectionOptions, originOf, targetOf } from './connect.js';
import type { TlsFiles } from './connect.js';
import { requestHeaders } from './headers.js';
import { EXIT, describeError, describeEvent, exitCodeOf } from './report.js';
import type { CliIo, Reporter } from './report.js';

/** A WebSocket event in words. */
function describeWebSocketEvent(event: WebSocketChannelEvent): string {
  if (event.type === 'open') return `websocket open${event.subprotocol ? ` (subprotocol ${event.subprotocol})` : ''}`;
  if (event.type === 'unsent') return `websocket: ${event.error.message}`;
  return `websocket closed ${event.code}${event.reason ? ` ${JSON.stringify(event.reason)}` : ''}`;
}

/** The exit code of a WebSocket that ended with `error`: a refused upgrade counts as an HTTP error. */
function webSocketExitCode(error: unknown): number {
  if (error instanceof WebSocketHandshakeError && error.status >= 400) return EXIT.httpError;
  return exitCodeOf(error);
}

/** Close codes that end a WebSocket normally: 1000, 1001, and 1005 (a close frame without a code). */
const NORMAL_CLOSE = new Set([1000, 1001, 1005]);

/**
 * The exit code of a run whose messages completed: it follows the close code the server sent
 * last, whoever began the closing handshake (the end of stdin closes with 1000, but a server that
 * answers with 4001 still makes the run fail with 5).
 */
function closeExitCode(last: WebSocketCloseEvent | undefined, reporter: Reporter): number {
  if (!last || NORMAL_CLOSE.has(last.code)) return EXIT.ok;
  reporter.error(`the server closed the WebSocket with ${last.code}${last.reason ? ` ${JSON.stringify(last.reason)}` : ''}`);
  return EXIT.protocol;
}

/** What both flavours (one WebSocket, reconnecting) offer to the loop below. */
interface Session {
  readonly connection: Connection;
  readonly messages: Observable<WebSocketMessage>;
  send(message: string): void;
  /** Closes the WebSocket cleanly (close frame, wait for the echo). */
  end(): void;
  /** The last `close` event of a WebSocket of this session. */
  readonly lastClose: WebSocketCloseEvent | undefined;
}

function single(command: CliCommand, reporter: Reporter, headers: Record<string, string>, files: TlsFiles): Session {
  const connection = open(originOf(command.url), { ...connectionOptions(command, files), protocols: ['http1'] });
  connection.subscribe({ next: event => reporter.info(describeEvent(event)), error: () => undefined });
  const channel = connection.websocket(targetOf(command.url), {
    headers,
    ...(command.timeout !== undefined && { handshakeTimeout: command.timeout }),
  });
  let lastClose: WebSocketCloseEvent | undefined;
  channel.events.subscribe(event => {
    if (event.type === 'close') lastClose = event;
    reporter.info(describeWebSocketEvent(event));
  });
  return {
    connection,
    get lastClose() {
      return lastClose;
    },
    messages: channel,
    send: message => channel.send(message),
    // Open: the closing handshake; still upgrading: right after the queued lines are sent.
    end: () => channel.close(1000),
  };
}

function reconnecting(command: CliCommand, reporter: Reporter, headers: Record<string, string>, files: TlsFiles): Session {
  const { protocols: _protocols, ...options } = connectionOptions(command, files);
  const ws = webSocket(`${originOf(command.url)}${targetOf(command.url)}`, {
    ...options,
    headers,
    ...(command.timeout !== undefined && { handshakeTimeout: command.timeout }),
  });
  let lastClose: WebSocketCloseEvent | undefined;
  ws.subscribe({
    next: event => {
      if (event.type === 'close') lastClose = event;
      reporter.info(event.type === 'open' || event.type === 'close' || event.type === 'unsent' ? describeWebSocketEvent(event) : describeEvent(event));
    },
    error: () => undefined,
  });
  return {
    connection: ws.connection,
    get lastClose() {
      return lastClose;
    },
    messages: ws.messages,
    send: message => ws.send(message),
    // Lines still queued go out when the next WebSocket opens: shut down right after that.
    end: () => {
      if (ws.queued === 0) {
        void ws.shutdown();
        return;
      }
      ws.pipe(first(event => event.type === 'open')).subscribe({
        next: () => void ws.shutdown(),
        error: () => undefined,
      });
    },
  };
}

/** Runs `rxconn ws`; resolves with the exit code once the connection is closed. */
export async function runWebSocket(command: CliCommand, io: CliIo, reporter: Reporter, files: TlsFiles = {}): Promise<number> {
  if (command.protocol === 'http2') {
    reporter.error('ws speaks HTTP/1.1: a WebSocket is an upgrade of an HTTP/1.1 connection (--http2 does not apply)');
    return EXIT.usage;
  }
  const headers = requestHeaders(command);
  const session = command.retry > 0 ? reconnecting(command, reporter, headers, files) : single(command, reporter, headers, files);
  const lines = createInterface({ input: io.stdin, crlfDelay: Infinity });
  let ending = false;
  const end = (): void => {
    if (ending) return;
    ending = true;
    session.end();
  };
  lines.on('line', line => {
    if (ending) return;
    try {
      session.send(line);
    } catch (error) {
      reporter.error(describeError(error));
    }
  });
  lines.once('close', end);
  io.signal?.addEventListener('abort', end, { once: true });

  const code = await new Promise<number>(resolve => {
    session.messages.subscribe({
      next: message => {
        io.stdout.write(message);
        io.stdout.write('\n');
      },
      error: (error: unknown) => {
        reporter.error(describeError(error));
        resolve(webSocketExitCode(error));
      },
      complete: () => resolve(EXIT.ok),
    });
  });
  io.signal?.removeEventListener('abort', end);
  lines.removeListener('close', end);
  lines.close();
  ending = true;
  await session.connection.shutdown();
  // Every close event has been seen by now (the connection is closed).
  return code === EXIT.ok ? closeExitCode(session.lastClose, reporter) : code;
}
