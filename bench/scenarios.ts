/**
 * Scenarios: every client of a scenario is set up and warmed, then measured in rounds, the
 * client order rotating each round, each round's figure divided by the floor's figure of the
 * same round. A client that cannot be set up is "n/a"; one that fails mid-run is "failed".
 */
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { performance } from 'node:perf_hooks';
import type { HttpClient, HttpDriver, HttpTarget, WsClient, WsDriver } from './common.js';
import { WS, messageLength, messageText, toError, withTimeout } from './common.js';
import type { Sample } from './load.js';
import { runLoad } from './load.js';
import { busyMs, waitForQuiet } from './machine.js';
import type { BenchServer } from './server-control.js';

setFlagsFromString('--expose-gc');
/**
 * A full GC, only before each measurement with `--gc`. Off by default: after a forced full GC,
 * V8 shrinks the young generation, and the next short measurement pays for extra scavenges
 * (a raw node:http2 floor measured ~25% slower that way). Rotating the order spreads the garbage
 * one client leaves to the next instead.
 */
const gc = runInNewContext('gc') as () => void;

/** One client in one scenario. */
export interface Row {
  readonly section: string;
  readonly scenario: string;
  readonly client: string;
  /** The first client of a scenario is its floor. */
  readonly floor: boolean;
  status: 'ok' | 'n/a' | 'failed';
  note: string;
  /** Per round; a failed round ends the row. */
  readonly samples: Sample[];
  /** Server process CPU over the measurement, per round (1 = one core). */
  readonly serverCpu: number[];
  /** CPU used by other processes on the machine during the measurement, per round (1 = one core). */
  readonly otherCpu: number[];
  /** Measurements repeated because other processes took more than {@link RunSettings.noisyCpu}. */
  retried: number;
  /** Connections the server accepted during measurements (should be 0: one connection per client). */
  newConnections: number;
  /** `rate / floor rate` of the same round. */
  ratios: number[];
}

export interface RunSettings {
  readonly rounds: number;
  readonly timeoutMs: number;
  /** A measurement during which other processes used more CPU than this (1 = one core) is repeated once... */
  readonly noisyCpu: number;
  /** ...while this budget of repeats for the whole run lasts. */
  retries: { left: number };
  /** Before each measurement, wait up to 1 s for the machine to be quiet, while this budget (ms) lasts. */
  quietWait: { left: number };
  /** `performance.now()` after which no new scenario starts (its rows say "skipped"): keeps the run bounded on a loaded machine. */
  readonly deadline: number;
  /** Full GC before each measurement. */
  readonly gcBetween: boolean;
  /** Logs progress (stderr). */
  readonly log: (line: string) => void;
}

/** A measurement of one client: resolves with its sample. */
type Measure<C> = (client: C) => Promise<Sample>;

interface Contender<C> {
  readonly row: Row;
  client?: C;
  close?: () => Promise<void>;
}

const firstLine = (error: unknown): string => toError(error).message.split('\n')[0] ?? '';

async function runRounds<C>(
  server: BenchServer,
  settings: RunSettings,
  contenders: Contender<C>[],
  warmup: Measure<C>,
  measure: Measure<C>,
  warmupMs: number,
): Promise<void> {
  const live = (): Contender<C>[] => contenders.filter((c) => c.client !== undefined && c.row.status === 'ok');
  const retire = async (c: Contender<C>, error: unknown): Promise<void> => {
    c.row.status = 'failed';
    c.row.note = firstLine(error);
    settings.log(`    ${c.row.client}: failed: ${c.row.note}`);
    const close = c.close;
    c.client = undefined;
    c.close = undefined;
    await close?.().catch(() => undefined);
  };
  // Warm-up: the fixed count, repeated (at most 20 times) until `warmupMs` have passed, so that a
  // cold JIT (the first scenario of a section) is warm before round 0.
  for (const c of live()) {
    const t0 = performance.now();
    try {
      for (let i = 0; i < 20 && c.client !== undefined && (i === 0 || performance.now() - t0 < warmupMs); i++) await warmup(c.client);
    } catch (error) {
      await retire(c, error);
    }
  }
  for (let round = 0; round < settings.rounds; round++) {
    const order = live();
    const shift = round % Math.max(1, order.length);
    for (const c of [...order.slice(shift), ...order.slice(0, shift)]) {
      for (let attempt = 0; attempt < 2 && c.client !== undefined; attempt++) {
        if (settings.gcBetween) gc();
        if (settings.quietWait.left > 0) settings.quietWait.left -= await waitForQuiet(settings.noisyCpu, Math.min(1_000, settings.quietWait.left));
        const before = await server.stats();
        const busy0 = busyMs();
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        try {
          const sample = await measure(c.client);
          const elapsed = performance.now() - t0;
          const cpu = process.cpuUsage(cpu0);
          const busy = busyMs() - busy0;
          const after = await server.stats();
          const serverMs = (after.cpuMicros - before.cpuMicros) / 1000;
          const other = Math.max(0, busy - (cpu.user + cpu.system) / 1000 - serverMs) / elapsed;
          c.row.newConnections += after.connections - before.connections;
          if (attempt === 0 && other > settings.noisyCpu && settings.retries.left > 0) {
            settings.retries.left--;
            c.row.retried++;
            settings.log(`    ${c.row.client}: other processes took ${Math.round(other * 100)}% CPU, measuring again`);
            continue;
          }
          c.row.samples.push(sample);
          c.row.serverCpu.push(serverMs / elapsed);
          c.row.otherCpu.push(other);
          break;
        } catch (error) {
          await retire(c, error);
        }
      }
    }
  }
  for (const c of contenders) await c.close?.().catch(() => undefined);
  const floor = contenders[0]?.row;
  for (const { row } of contenders) {
    row.ratios = row.samples.map((s, i) => {
      const base = floor?.status === 'ok' ? floor.samples[i]?.rate : undefined;
      return base ? s.rate / base : Number.NaN;
    });
  }
}

function newRow(section: string, scenario: string, client: string, floor: boolean): Row {
  return { section, scenario, client, floor, status: 'ok', note: '', samples: [], serverCpu: [], otherCpu: [], retried: 0, newConnections: 0, ratios: [] };
}

const sizeLabel = (size: number): string => (size === 64 ? '64 B' : `${size / 1024} KiB`);

/** Rows for a scenario skipped because the run is out of time. */
function skipped(section: string, scenario: string, names: readonly string[], settings: RunSettings): Row[] {
  settings.log(`  ${section} ${scenario}: skipped (run time budget spent)`);
  return names.map((name, i) => ({ ...newRow(section, scenario, name, i === 0), status: 'n/a' as const, note: 'skipped: run time budget spent' }));
}

export interface HttpScenario {
  readonly section: string;
  readonly target: HttpTarget;
  /** The first one is the floor. */
  readonly drivers: readonly HttpDriver[];
  readonly size: number;
  readonly concurrency: number;
  readonly count: number;
  readonly warmup: number;
  /** Keep warming up until this long has passed (the first scenario of a section). */
  readonly warmupMs: number;
  /** Prefix of the scenario's label, e.g. `text()` (user-shaped scenarios). */
  readonly label?: string;
  /** The path requested; default `/<size>`. */
  readonly path?: string;
}

/** Measures every driver of an HTTP scenario; returns one row per driver. */
export async function httpScenario(server: BenchServer, settings: RunSettings, s: HttpScenario): Promise<Row[]> {
  const scenario = `${s.label ? `${s.label}, ` : ''}${sizeLabel(s.size)}, c=${s.concurrency}`;
  if (performance.now() > settings.deadline) return skipped(s.section, scenario, s.drivers.map((d) => d.name), settings);
  settings.log(`  ${s.section} ${scenario}`);
  const path = s.path ?? `/${s.size}`;
  const contenders: Contender<HttpClient>[] = [];
  for (const [i, driver] of s.drivers.entries()) {
    const row = newRow(s.section, scenario, driver.name, i === 0);
    const contender: Contender<HttpClient> = { row };
    contenders.push(contender);
    try {
      const client = await withTimeout(driver.setup(s.target), 10_000, 'setup');
      contender.client = client;
      contender.close = () => withTimeout(client.close(), 5_000, 'close');
      row.note = client.note ?? '';
    } catch (error) {
      row.status = 'n/a';
      row.note = firstLine(error);
      settings.log(`    ${driver.name}: n/a: ${row.note}`);
    }
  }
  const load = (count: number) => (client: HttpClient) =>
    runLoad((done) => client.request(path, done), { count, concurrency: s.concurrency, timeoutMs: settings.timeoutMs, expectBytes: s.size });
  await runRounds(server, settings, contenders, load(s.warmup), load(s.count), s.warmupMs);
  return contenders.map((c) => c.row);
}

export type WsMode = 'round trip' | 'send' | 'receive';

export interface WsScenario {
  readonly url: string;
  /** The first one is the floor. */
  readonly drivers: readonly WsDriver[];
  readonly mode: WsMode;
  readonly size: number;
  readonly count: number;
  readonly warmup: number;
  /** Keep warming up until this long has passed (the first scenario of a section). */
  readonly warmupMs: number;
}

/** Sends a `#` command and waits for `#ok`. */
function command(client: WsClient, text: string): Promise<void> {
  return withTimeout(
    new Promise<void>((resolve) => {
      client.onMessage = (message) => {
        if (messageText(message) === WS.ok) resolve();
      };
      client.send(text);
    }),
    5_000,
    `WebSocket command ${text}`,
  );
}

/** Messages in flight when sending one way (acknowledged every {@link WS.ackEvery}). */
const SEND_WINDOW = 64;

function wsMeasure(mode: WsMode, size: number, count: number, timeoutMs: number): Measure<WsClient> {
  const payload = new Uint8Array(size).fill(0x78);
  if (mode === 'round trip') {
    return async (client) => {
      await command(client, WS.echo);
      let pending: ((error: Error | null, bytes: number) => void) | undefined;
      client.onMessage = (message) => {
        const done = pending;
        pending = undefined;
        done?.(null, messageLength(message));
      };
      return runLoad(
        (done) => {
          pending = done;
          client.send(payload);
        },
        { count, concurrency: 1, timeoutMs, expectBytes: size },
      );
    };
  }
  return async (client) => {
    await command(client, mode === 'send' ? WS.sink : WS.echo);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        if (mode === 'receive') {
          let received = 0;
          client.onMessage = (message) => {
            const length = messageLength(message);
            if (length !== size) return reject(new Error(`got a ${length}-byte message, expected ${size}`));
            if (++received === count) resolve();
          };
          client.send(WS.push(count, size));
          return;
        }
        let sent = 0;
        let acked = 0;
        const fill = (): void => {
          while (sent < count && sent - acked < SEND_WINDOW) {
            sent++;
            client.send(payload);
          }
        };
        client.onMessage = (message) => {
          const text = messageText(message);
          if (!text?.startsWith('#ack ')) return;
          acked = Number(text.slice(5));
          if (acked >= count) resolve();
          else fill();
        };
        fill();
      }),
      timeoutMs,
      `${mode} of ${count} messages`,
    );
    const elapsedMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuMicros = cpu.user + cpu.system;
    return { rate: (count / elapsedMs) * 1000, p50: Number.NaN, p99: Number.NaN, clientCpu: cpuMicros / 1000 / elapsedMs, cpuPerOp: cpuMicros / count, elapsedMs };
  };
}

/** Measures every driver of a WebSocket scenario. */
export async function wsScenario(server: BenchServer, settings: RunSettings, s: WsScenario): Promise<Row[]> {
  const scenario = `${s.mode}, ${sizeLabel(s.size)}`;
  if (performance.now() > settings.deadline) return skipped('WebSocket', scenario, s.drivers.map((d) => d.name), settings);
  settings.log(`  WebSocket ${scenario}`);
  const contenders: Contender<WsClient>[] = [];
  for (const [i, driver] of s.drivers.entries()) {
    const row = newRow('WebSocket', scenario, driver.name, i === 0);
    const contender: Contender<WsClient> = { row };
    contenders.push(contender);
    try {
      const client = await withTimeout(driver.setup(s.url), 10_000, 'setup');
      contender.close = () => withTimeout(client.close(), 5_000, 'close');
      await command(client, WS.echo).catch(async (error: unknown) => {
        await contender.close?.().catch(() => undefined);
        throw error;
      });
      contender.client = client;
    } catch (error) {
      row.status = 'n/a';
      row.note = firstLine(error);
      contender.close = undefined;
      settings.log(`    ${driver.name}: n/a: ${row.note}`);
    }
  }
  await runRounds(server, settings, contenders, wsMeasure(s.mode, s.size, s.warmup, settings.timeoutMs), wsMeasure(s.mode, s.size, s.count, settings.timeoutMs), s.warmupMs);
  return contenders.map((c) => c.row);
}
