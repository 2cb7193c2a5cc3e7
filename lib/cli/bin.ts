#!/usr/bin/env node
/**
 * The `rxconn` command (package.json "bin"). Ctrl-C once: cancel the request or close the
 * WebSocket cleanly; twice: exit at once.
 */
import { main } from './main.js';

// `rxconn get URL | head`: the reader went away; stop quietly, as a tool killed by SIGPIPE would.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const interrupt = new AbortController();
process.on('SIGINT', () => {
  if (interrupt.signal.aborted) process.exit(130);
  interrupt.abort();
});

process.exitCode = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  signal: interrupt.signal,
});
// stdin may still hold the loop open (ws, @-): the run is over.
process.stdin.destroy();
