/**
 * Starts the bench server in its own process (pinned to core 1 when `taskset` exists), reads its
 * counters, and makes sure it dies with us: on stop, on error, on SIGINT/SIGTERM, on exit.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { scriptArgs } from './paths.js';
import type { FromServer, Ports, ServerStats, ToServer } from './common.js';

/** Whether `taskset` can pin processes here. */
export function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Pins this process (all its threads) to `core`; returns whether it worked. */
export function pinSelf(core: number): boolean {
  try {
    execFileSync('taskset', ['-a', '-cp', String(core), String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface BenchServer {
  readonly ports: Ports;
  readonly pid: number;
  readonly pinned: boolean;
  stats(): Promise<ServerStats>;
  stop(): Promise<void>;
}


export function startServer(core: number | null): Promise<BenchServer> {
  const nodeArgs = scriptArgs('server');
  const [command, args] = core === null ? [process.execPath, nodeArgs] : ['taskset', ['-c', String(core), process.execPath, ...nodeArgs]];
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const killNow = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    killNow();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', killNow);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let nextId = 0;
  const pending = new Map<number, (stats: ServerStats) => void>();

  return new Promise<BenchServer>((resolve, reject) => {
    const startTimer = setTimeout(() => {
      killNow();
      reject(new Error('bench server did not start within 15 s'));
    }, 15_000);
    child.once('error', (error) => {
      clearTimeout(startTimer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(startTimer);
      reject(new Error(`bench server exited (${code ?? signal})`));
      for (const [, settle] of pending) settle({ cpuMicros: Number.NaN, connections: Number.NaN, requests: Number.NaN });
      pending.clear();
    });
    child.on('message', (message: FromServer) => {
      if (message.type === 'stats') {
        pending.get(message.id)?.(message.stats);
        pending.delete(message.id);
        return;
      }
      clearTimeout(startTimer);
      resolve({
        ports: message.ports,
        pid: child.pid ?? -1,
        pinned: core !== null,
        stats: () =>
          new Promise<ServerStats>((settle, fail) => {
            if (!child.connected) {
              fail(new Error('bench server is gone'));
              return;
            }
            const id = nextId++;
            pending.set(id, settle);
            child.send({ type: 'stats', id } satisfies ToServer);
          }),
        stop: () =>
          new Promise<void>((done) => {
            process.off('SIGINT', onSignal);
            process.off('SIGTERM', onSignal);
            if (child.exitCode !== null || child.signalCode !== null) {
              done();
              return;
            }
            const timer = setTimeout(killNow, 2_000);
            child.once('exit', () => {
              clearTimeout(timer);
              process.off('exit', killNow);
              done();
            });
            if (child.connected) child.send({ type: 'stop' } satisfies ToServer);
            else killNow();
          }),
      });
    });
  });
}
