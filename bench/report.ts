/** The markdown report: targets first, then one table per section, then memory. */
import type { MemoryClient, MemoryResult } from './memory.js';
import type { Row } from './scenarios.js';
import { median, range } from './stats.js';

export interface MemoryRow {
  readonly test: 'growth' | 'idle' | 'churn';
  readonly client: MemoryClient;
  readonly result: MemoryResult;
}

export interface Report {
  readonly date: string;
  readonly node: string;
  readonly cpu: string;
  readonly cores: number;
  readonly pinned: boolean;
  readonly quick: boolean;
  /** Whether clients ran from the esbuild bundle (as shipped) or through tsx. */
  readonly bundled: boolean;
  readonly rounds: number;
  readonly durationS: number;
  /** 1-minute load average at the start and at the end of the run. */
  readonly load: readonly [number, number];
  readonly counts: string;
  readonly rows: readonly Row[];
  readonly memory: readonly MemoryRow[];
}

export const RXCONN = 'rxconn';

const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–');
const ms = (n: number): string => (!Number.isFinite(n) ? '–' : n < 1 ? n.toFixed(3) : n < 10 ? n.toFixed(2) : n.toFixed(1));
const times = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}×` : '–');
const pct = (n: number): string => (Number.isFinite(n) ? `${Math.round(n * 100)}%` : '–');
const kib = (bytes: number): string => (Number.isFinite(bytes) ? `${(bytes / 1024).toFixed(1)} KiB` : '–');
const mib = (bytes: number): string => (Number.isFinite(bytes) ? `${(bytes / 1048576).toFixed(1)} MiB` : '–');
const signedMib = (bytes: number): string => (Number.isFinite(bytes) ? `${bytes >= 0 ? '+' : ''}${(bytes / 1048576).toFixed(2)} MiB` : '–');

/** Median over rounds of a row's figure. */
export const medianOf = (row: Row, pick: (s: Row['samples'][number]) => number): number => median(row.samples.map(pick));

/** `a / b` per round, median; NaN unless both rows are ok. */
export function pairedRatio(a: Row | undefined, b: Row | undefined): number {
  if (a?.status !== 'ok' || b?.status !== 'ok') return Number.NaN;
  const n = Math.min(a.samples.length, b.samples.length);
  const ratios: number[] = [];
  for (let i = 0; i < n; i++) ratios.push((a.samples[i]?.rate ?? Number.NaN) / (b.samples[i]?.rate ?? Number.NaN));
  return median(ratios);
}

function statusCell(row: Row): string {
  if (row.status === 'n/a') return `n/a (${row.note})`;
  if (row.status === 'failed') return `failed: ${row.note}`;
  return '';
}

function sectionTable(rows: readonly Row[], unit: string): string[] {
  const out = [
    `| Scenario | Client | ${unit} (median) | × floor (median) | × floor per round | p50 ms | p99 ms | client CPU µs per ${unit === 'msg/s' ? 'msg' : 'req'} (× floor) | CPU client / server / other | Notes |`,
    '| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |',
  ];
  let last = '';
  for (const row of rows) {
    const scenario = row.scenario === last ? '' : row.scenario;
    last = row.scenario;
    const name = row.client === RXCONN ? `**${row.client}**` : row.client;
    const problem = statusCell(row);
    if (problem && row.samples.length === 0) {
      out.push(`| ${scenario} | ${name} | ${problem} | | | | | | | |`);
      continue;
    }
    const ratio = row.floor ? '1.00× (floor)' : times(median(row.ratios));
    const [lo, hi] = range(row.ratios);
    const perRound = row.floor ? '' : `${row.ratios.map((r) => r.toFixed(2)).join(' / ')}${Number.isFinite(lo) ? ` (${lo.toFixed(2)}–${hi.toFixed(2)})` : ''}`;
    const notes = [
      problem,
      row.status === 'ok' ? row.note : '',
      row.newConnections > 0 ? `${row.newConnections} more connections` : '',
      row.retried > 0 ? `${row.retried} noisy measurement${row.retried > 1 ? 's' : ''} repeated` : '',
    ].filter(Boolean);
    const cpu = `${pct(medianOf(row, (s) => s.clientCpu))} / ${pct(median(row.serverCpu))} / ${pct(median(row.otherCpu))}`;
    const perOp = medianOf(row, (s) => s.cpuPerOp);
    const floorRow = rows.find((r) => r.floor && r.scenario === row.scenario);
    const floorPerOp = floorRow?.status === 'ok' ? medianOf(floorRow, (s) => s.cpuPerOp) : Number.NaN;
    const cost = `${perOp >= 100 ? perOp.toFixed(0) : perOp.toFixed(1)}${row.floor ? '' : ` (${times(perOp / floorPerOp)})`}`;
    out.push(
      `| ${scenario} | ${name} | ${int(medianOf(row, (s) => s.rate))} | ${ratio} | ${perRound} | ${ms(medianOf(row, (s) => s.p50))} | ${ms(medianOf(row, (s) => s.p99))} | ${cost} | ${cpu} | ${notes.join('; ')} |`,
    );
  }
  return out;
}

interface Target {
  readonly what: string;
  readonly measured: string;
  readonly met: boolean | undefined;
}

function worst(values: readonly { value: number; label: string }[], higherIsBetter: boolean): { value: number; label: string } | undefined {
  const finite = values.filter((v) => Number.isFinite(v.value));
  if (finite.length === 0) return undefined;
  return finite.reduce((a, b) => ((higherIsBetter ? b.value < a.value : b.value > a.value) ? b : a));
}

/** The targets of issue 5, evaluated on this run. */
export function targets(report: Report): Target[] {
  const rows = report.rows;
  const rx = rows.filter((r) => r.client === RXCONN);
  const peer = (row: Row, client: string): Row | undefined => rows.find((r) => r.section === row.section && r.scenario === row.scenario && r.client === client);
  const out: Target[] = [];
  const ratioTarget = (what: string, section: (s: string) => boolean, against: string | undefined, bound: number): void => {
    const subject = rx.filter((r) => section(r.section));
    const values = subject.map((r) => ({
      value: against === undefined ? (r.status === 'ok' ? median(r.ratios) : Number.NaN) : pairedRatio(r, peer(r, against)),
      label: `${r.section.replace('HTTP/2 ', '')} ${r.scenario}`,
    }));
    const w = worst(values, true);
    if (subject.length === 0 || !w) {
      const reason = subject.find((r) => r.status !== 'ok')?.note ?? 'not measured';
      out.push({ what, measured: `n/a (${reason})`, met: undefined });
      return;
    }
    const all = values.filter((v) => Number.isFinite(v.value)).map((v) => `${v.label}: ${v.value.toFixed(2)}`).join('; ');
    // The steadier figure on a shared machine: client CPU per request, rxconn's over the other's.
    const cost = subject
      .map((r) => {
        const other = against === undefined ? rows.find((f) => f.section === r.section && f.scenario === r.scenario && f.floor) : peer(r, against);
        const value = r.status === 'ok' && other?.status === 'ok' ? medianOf(r, (s) => s.cpuPerOp) / medianOf(other, (s) => s.cpuPerOp) : Number.NaN;
        return Number.isFinite(value) ? `${r.section.replace('HTTP/2 ', '')} ${r.scenario}: ${value.toFixed(2)}` : '';
      })
      .filter(Boolean)
      .join('; ');
    out.push({ what, measured: `throughput: worst ${w.value.toFixed(2)}× (${w.label}) — ${all}.<br>CPU per request, rxconn ÷ ${against ?? 'floor'}: ${cost}`, met: w.value >= bound });
  };
  ratioTarget('HTTP/2 h2c ≥ 0.95× node:http2', (s) => s === 'HTTP/2 h2c', undefined, 0.95);
  ratioTarget('HTTP/2 TLS ≥ 0.95× node:http2', (s) => s === 'HTTP/2 TLS', undefined, 0.95);
  ratioTarget('HTTP/2 ≥ 1.5× http2-wrapper', (s) => s.startsWith('HTTP/2'), 'http2-wrapper', 1.5);
  ratioTarget('HTTP/2 ≥ 1.5× got', (s) => s === 'HTTP/2 TLS', 'got', 1.5);
  ratioTarget('HTTP/1.1 ≥ 1.0× node:http agent', (s) => s === 'HTTP/1.1', undefined, 1.0);
  ratioTarget('WebSocket ≥ 0.95× ws msg/s', (s) => s === 'WebSocket', undefined, 0.95);
  // Issue 15: the user-shaped scenarios (a Promise per request, text()/json()).
  const user = (s: string): boolean => s.endsWith('Promise per request');
  ratioTarget('Promise per request, text()/json() ≥ 0.95× the raw floor wrapped the same way', user, undefined, 0.95);
  for (const peerName of ['fetch', 'undici request()', 'got']) ratioTarget(`Promise per request ≥ 1.0× ${peerName}`, user, peerName, 1.0);

  const rtt = rx.filter((r) => r.section === 'WebSocket' && r.scenario.startsWith('round trip'));
  const rttValues = rtt.map((r) => {
    const floor = peer(r, 'ws');
    const value = r.status === 'ok' && floor?.status === 'ok' ? medianOf(r, (s) => s.p50) / medianOf(floor, (s) => s.p50) : Number.NaN;
    return { value, label: r.scenario };
  });
  const w = worst(rttValues, false);
  out.push(
    w
      ? { what: 'WebSocket round-trip p50 ≤ 1.1× ws', measured: rttValues.map((v) => `${v.label}: ${v.value.toFixed(2)}×`).join('; '), met: w.value <= 1.1 }
      : { what: 'WebSocket round-trip p50 ≤ 1.1× ws', measured: `n/a (${rtt[0]?.note || 'not measured'})`, met: undefined },
  );

  /** RSS and heap growth over the second half of a growth job. */
  const growthOf = (client: string): { rss: number; heap: number } | undefined => {
    const result = report.memory.find((m) => m.test === 'growth' && m.client === client)?.result;
    if (result?.mode !== 'growth') return undefined;
    const [, mid, end] = result.points;
    return { rss: (end?.rss ?? Number.NaN) - (mid?.rss ?? Number.NaN), heap: (end?.heap ?? Number.NaN) - (mid?.heap ?? Number.NaN) };
  };
  for (const [client, floorClient] of [['rxconn http2', 'node:http2'], ['rxconn http1', 'node:http agent']] as const) {
    const growth = report.memory.find((m) => m.test === 'growth' && m.client === client)?.result;
    const own = growthOf(client);
    if (own) {
      // Noise: the floor's own RSS growth over the same requests (allocator and JIT, not a leak), plus 1 MiB.
      const floor = growthOf(floorClient);
      const rssBound = Math.max(2 * 1048576, (floor?.rss ?? 0) + 1048576);
      const reference = floor ? `; ${floorClient}: RSS ${signedMib(floor.rss)}, heap ${signedMib(floor.heap)}` : '';
      out.push({
        what: `${client}: no growth from 50k to 100k requests beyond noise (RSS ≤ the floor's growth + 1 MiB, at least 2 MiB; heap ≤ 1 MiB)`,
        measured: `RSS ${signedMib(own.rss)}, heap ${signedMib(own.heap)}${reference}`,
        met: own.rss <= rssBound && own.heap <= 1048576,
      });
    } else {
      out.push({ what: `${client}: no growth 50k→100k requests`, measured: `n/a (${growth?.mode === 'error' ? growth.message : 'not measured'})`, met: undefined });
    }
    const idle = report.memory.find((m) => m.test === 'idle' && m.client === client)?.result;
    if (idle?.mode === 'idle') {
      const per = (idle.after.heap - idle.before.heap) / idle.count;
      out.push({ what: `${client}: idle connection ≤ 50 KiB heap`, measured: kib(per), met: per <= 50 * 1024 });
    } else {
      out.push({ what: `${client}: idle connection ≤ 50 KiB heap`, measured: `n/a (${idle?.mode === 'error' ? idle.message : 'not measured'})`, met: undefined });
    }
  }
  return out;
}

function memoryTables(memory: readonly MemoryRow[]): string[] {
  const out: string[] = [];
  const failed = (m: MemoryRow): string => (m.result.mode === 'error' ? `| ${m.client} | n/a (${m.result.message}) |` : '');
  const growth = memory.filter((m) => m.test === 'growth').sort((a, b) => a.client.localeCompare(b.client));
  if (growth.length) {
    out.push('### Growth over requests (one connection, 64 B, c=64; read after a full GC at the start, after half the requests and at the end)', '');
    out.push('| Client | req/s | RSS start | RSS half | RSS end | Δ RSS half→end | heap half | heap end | Δ heap half→end | Δ external half→end |');
    out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const m of growth) {
      if (m.result.mode !== 'growth') {
        out.push(failed(m));
        continue;
      }
      const [a, b, c] = m.result.points;
      if (!a || !b || !c) continue;
      out.push(`| ${m.client} | ${int(m.result.rate)} | ${mib(a.rss)} | ${mib(b.rss)} | ${mib(c.rss)} | ${signedMib(c.rss - b.rss)} | ${mib(b.heap)} | ${mib(c.heap)} | ${signedMib(c.heap - b.heap)} | ${signedMib(c.external - b.external)} |`);
    }
    out.push('');
  }
  const idle = memory.filter((m) => m.test === 'idle');
  if (idle.length) {
    out.push('### Idle open connections (held at once; after a full GC)', '');
    out.push('| Client | connections | heap per connection | RSS per connection |', '| --- | ---: | ---: | ---: |');
    for (const m of idle) {
      if (m.result.mode !== 'idle') {
        out.push(failed(m));
        continue;
      }
      const { before, after, count } = m.result;
      out.push(`| ${m.client} | ${count} | ${kib((after.heap - before.heap) / count)} | ${kib((after.rss - before.rss) / count)} |`);
    }
    out.push('');
  }
  const churn = memory.filter((m) => m.test === 'churn');
  if (churn.length) {
    out.push('### Open and close connections in sequence (after a full GC)', '');
    out.push('| Client | connections | total | per connection | Δ heap | heap left per connection (2nd half) | Δ RSS |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const m of churn) {
      if (m.result.mode !== 'churn') {
        out.push(failed(m));
        continue;
      }
      const { points, count, elapsedMs } = m.result;
      const [a, b, c] = points;
      if (!a || !b || !c) continue;
      const slope = (c.heap - b.heap) / (count - Math.floor(count / 2));
      out.push(`| ${m.client} | ${count} | ${(elapsedMs / 1000).toFixed(2)} s | ${ms(elapsedMs / count)} ms | ${kib(c.heap - a.heap)} | ${slope.toFixed(0)} B | ${signedMib(c.rss - a.rss)} |`);
    }
    out.push('');
  }
  return out;
}

export function toMarkdown(report: Report): string {
  const out: string[] = [
    '# rxconn benchmarks',
    '',
    `${report.date} · Node ${report.node} · ${report.cpu} × ${report.cores} · ${report.pinned ? 'client pinned to core 0, server process to core 1' : 'not pinned (no taskset)'} · ${report.quick ? '**--quick** run' : 'full run'} · ${report.bundled ? 'bench and rxconn bundled with esbuild, as tsup builds it' : 'run through tsx (keepNames on: rxconn slower than built)'} · ${report.rounds} rounds, clients alternating · ${report.counts} · load average ${report.load[0].toFixed(2)} at start, ${report.load[1].toFixed(2)} at end · run took ${report.durationS.toFixed(0)} s`,
    '',
    'Ratios are each round\'s rate over the floor\'s rate in the same round, median over rounds. "other" CPU is what other processes on the machine used during the measurement (1 core = 100%); a measurement with more than 25% is repeated once. How to read this: [bench/README.md](../README.md).',
    '',
    '![ratios to the floor](ratios.svg)',
    '',
    '## Targets',
    '',
    '| Target | Measured | Met |',
    '| --- | --- | :---: |',
    ...targets(report).map((t) => `| ${t.what} | ${t.measured} | ${t.met === undefined ? '–' : t.met ? 'yes' : '**no**'} |`),
    '',
  ];
  const sections = [...new Set(report.rows.map((r) => r.section))];
  for (const section of sections) {
    out.push(`## ${section}`, '', ...sectionTable(report.rows.filter((r) => r.section === section), section === 'WebSocket' ? 'msg/s' : 'req/s'), '');
  }
  if (report.memory.length) out.push('## Memory', '', ...memoryTables(report.memory));
  return out.join('\n');
}
