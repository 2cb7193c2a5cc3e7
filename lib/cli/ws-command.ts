/**
 * `rxconn ws URL`: lines of stdin are sent, messages are printed.
 */
import type { CliCommand } from './args.js';
import { EXIT } from './report.js';
import type { CliIo, Reporter } from './report.js';

/** Runs `rxconn ws`; resolves with the exit code once the connection is closed. */
export async function runWebSocket(_command: CliCommand, _io: CliIo, reporter: Reporter): Promise<number> {
  reporter.error('ws: WebSocket support has not landed in this build yet');
  return EXIT.usage;
}
