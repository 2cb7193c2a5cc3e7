/**
 * A hand-written SVG bar chart of every client's ratio to its floor: one bar per row (median),
 * a whisker for the range over rounds, the floor at 1.0 and the 0.95 target as lines.
 */
import { RXCONN } from './report.js';
import type { Row } from './scenarios.js';
import { median, range } from './stats.js';

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const COLORS: Record<string, string> = {
  [RXCONN]: '#d1495b',
  'http2-wrapper': '#edae49',
  got: '#66a182',
  'undici allowH2': '#00798c',
  'undici pipelining 1': '#00798c',
  'undici pipelining 10': '#30638e',
  'node:http2 (1 MiB window)': '#9b9b9b',
};

export function ratiosSvg(rows: readonly Row[], title: string): string {
  const shown = rows.filter((r) => !r.floor);
  const labelWidth = 330;
  const plotWidth = 520;
  const valueWidth = 140;
  const rowHeight = 18;
  const headerHeight = 24;
  const top = 44;
  // The axis stops at 2.5×: beyond that, bars and whiskers are clipped at the edge.
  const maxRatio = Math.min(2.5, Math.max(1.25, ...shown.flatMap((r) => range(r.ratios)).filter((v) => Number.isFinite(v))));
  const domain = Math.ceil(maxRatio * 4) / 4;
  const x = (ratio: number): number => labelWidth + (Math.min(ratio, domain) / domain) * plotWidth;

  const body: string[] = [];
  let y = top;
  let section = '';
  for (const row of shown) {
    if (row.section !== section) {
      section = row.section;
      y += 6;
      body.push(`<text x="8" y="${y + 15}" class="section">${escape(section)} — floor: ${escape(rows.find((r) => r.section === section && r.floor)?.client ?? '?')}</text>`);
      y += headerHeight;
    }
    const label = `${row.scenario} · ${row.client}`;
    body.push(`<text x="${labelWidth - 8}" y="${y + 13}" class="label" text-anchor="end">${escape(label)}</text>`);
    const ratio = median(row.ratios);
    if (row.status !== 'ok' && row.samples.length === 0) {
      body.push(`<text x="${labelWidth + 4}" y="${y + 13}" class="na">${escape(row.status === 'n/a' ? `n/a (${row.note})` : `failed: ${row.note}`).slice(0, 90)}</text>`);
    } else if (Number.isFinite(ratio)) {
      const color = COLORS[row.client] ?? '#8d96a3';
      body.push(`<rect x="${labelWidth}" y="${y + 3}" width="${(x(ratio) - labelWidth).toFixed(1)}" height="${rowHeight - 6}" fill="${color}"/>`);
      const [lo, hi] = range(row.ratios);
      if (hi > lo) body.push(`<line x1="${x(lo).toFixed(1)}" x2="${x(hi).toFixed(1)}" y1="${y + 9}" y2="${y + 9}" class="whisker"/>`);
      const failed = row.status === 'failed' ? ` (failed after ${row.samples.length})` : '';
      body.push(`<text x="${labelWidth + plotWidth + 10}" y="${y + 13}" class="value${row.client === RXCONN ? ' rx' : ''}">${ratio.toFixed(2)}×${failed}</text>`);
    }
    y += rowHeight;
  }
  const height = y + 30;
  const ticks: string[] = [];
  for (let t = 0; t <= domain + 1e-9; t += 0.25) {
    ticks.push(`<line x1="${x(t)}" x2="${x(t)}" y1="${top}" y2="${y}" class="grid"/>`, `<text x="${x(t)}" y="${y + 16}" class="tick" text-anchor="middle">${t.toFixed(2)}</text>`);
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${labelWidth + plotWidth + valueWidth}" height="${height}" viewBox="0 0 ${labelWidth + plotWidth + valueWidth} ${height}" font-family="system-ui, sans-serif">`,
    '<style>.label{font-size:12px;fill:#222}.section{font-size:13px;font-weight:600;fill:#222}.value{font-size:11px;fill:#222}.rx{font-weight:600}.na{font-size:11px;fill:#999;font-style:italic}.tick{font-size:10px;fill:#666}.grid{stroke:#e4e4e4}.whisker{stroke:#222;stroke-width:1.5}.floor{stroke:#222;stroke-width:1.5}.target{stroke:#d1495b;stroke-dasharray:4 3}.title{font-size:15px;font-weight:600}</style>',
    '<rect width="100%" height="100%" fill="#fff"/>',
    `<text x="8" y="20" class="title">${escape(title)}</text>`,
    `<text x="8" y="36" class="tick">bar: median ratio to the floor (throughput) over rounds · whisker: min–max over rounds · solid line: floor (1.0) · dashed: 0.95 target · <tspan fill="${COLORS[RXCONN]}" font-weight="600">rxconn</tspan> · peers in other colours</text>`,
    ...ticks,
    ...body,
    `<line x1="${x(1)}" x2="${x(1)}" y1="${top}" y2="${y}" class="floor"/>`,
    `<line x1="${x(0.95)}" x2="${x(0.95)}" y1="${top}" y2="${y}" class="target"/>`,
    '</svg>',
    '',
  ].join('\n');
}
