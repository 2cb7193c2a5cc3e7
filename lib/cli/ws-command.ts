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
import type { WebSocketChannelEvent } from '../core/websocket/channel.js';
import type { WebSocketMessage } from '../core/websocket/link.js';
import { webSocket } from '../node/web-socket.js';
import type { CliCommand } from './args.js';
import { connectionOptions, originOf, targetOf } from './connect.js';
import { headerRecord } from './http-command.js';
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

/** What both flavours (one WebSocket, reconnecting) offer to the loop below. */
interface Session {
  readonly connection: Connection;
  readonly messages: Observable<WebSocketMessage>;
  send(message: string): void;
  /** Closes the WebSocket cleanly (close frame, wait for the echo). */
  end(): void;
}

function single(command: CliCommand, reporter: Reporter, headers: Record<string, string>): Session {
  const connection = open(originOf(command.url), { ...connectionOptions(command), protocols: ['http1'] });
  connection.subscribe({ next: event => reporter.info(describeEvent(event)), error: () => undefined });
  const channel = connection.websocket(targetOf(command.url), {
    headers,
    ...(command.timeout !== undefined && { handshakeTimeout: command.timeout }),
  });
  channel.events.subscribe(event => reporter.info(describeWebSocketEvent(event)));
  return {
    connection,
    messages: channel,
    send: message => channel.send(message),
    // Open: the closing handshake; still upgrading: right after the queued lines are sent.
    end: () => channel.close(1000),
  };
}

function reconnecting(command: CliCommand, reporter: Reporter, headers: Record<string, string>): Session {
  const { protocols: _protocols, ...options } = connectionOptions(command);
  const ws = webSocket(`${originOf(command.url)}${targetOf(command.url)}`, {
    ...options,
    headers,
    ...(command.timeout !== undefined && { handshakeTimeout: command.timeout }),
  });
  ws.subscribe({
    next: event => reporter.info(event.type === 'open' || event.type === 'close' || event.type === 'unsent' ? describeWebSocketEvent(event) : describeEvent(event)),
    error: () => undefined,
  });
  return {
    connection: ws.connection,
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
export async function runWebSocket(command: CliCommand, io: CliIo, reporter: Reporter): Promise<number> {
  if (command.protocol === 'http2') {
    reporter.error('ws speaks HTTP/1.1: a WebSocket is an upgrade of an HTTP/1.1 connection (--http2 does not apply)');
    return EXIT.usage;
  }
  const headers = headerRecord(command.headers);
  const session = command.retry > 0 ? reconnecting(command, reporter, headers) : single(command, reporter, headers);
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
  return code;
}
