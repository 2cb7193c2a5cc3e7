/**
 * `rxconn` as a function: `main(argv, io)` resolves with the exit code. `bin.ts` runs it on the
 * process; tests run it in-process with their own streams.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { USAGE, USAGE_HINT, parseArgs } from './args.js';
import { readTlsFiles } from './connect.js';
import type { TlsFiles } from './connect.js';
import { runHttp } from './http-command.js';
import { EXIT, Reporter, describeError, exitCodeOf } from './report.js';
import type { CliIo } from './report.js';
import { runWebSocket } from './ws-command.js';

export type { CliIo } from './report.js';
export { EXIT } from './report.js';

/** The version in rxconn's package.json (found from this file, in `lib/cli/` or in `dist/`). */
export function version(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 4; up++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'rxconn' && pkg.version) return pkg.version;
    } catch {
      // not here: look one level up
    }
  }
  return 'unknown';
}

/** Runs the command line `argv` (without `node` and the script); resolves with the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseArgs(argv);
  switch (parsed.kind) {
    case 'help':
      io.stdout.write(USAGE);
      return EXIT.ok;
    case 'version':
      io.stdout.write(`rxconn ${version()}\n`);
      return EXIT.ok;
    case 'usage-error':
      io.stderr.write(`rxconn: ${parsed.message}\nrxconn: ${USAGE_HINT}\n`);
      return EXIT.usage;
  }
  const reporter = new Reporter(io, parsed.quiet);
  let files: TlsFiles;
  try {
    files = await readTlsFiles(parsed);
  } catch (error) {
    reporter.error((error as Error).message);
    return EXIT.usage;
  }
  try {
    return parsed.command === 'ws' ? await runWebSocket(parsed, io, reporter, files) : await runHttp(parsed, io, reporter, files);
  } catch (error) {
    // open() throws synchronously on a bad option or header value.
    reporter.error(describeError(error));
    return exitCodeOf(error);
  }
}
