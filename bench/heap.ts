/**
 * Where an idle connection's heap goes: opens N connections of one client against an in-process
 * h2c/ws server, takes a heap snapshot before and after, and prints the objects that grew, by
 * kind and name, per connection. A developer's tool (not part of `npm run bench`):
 *
 *   npx tsx bench/heap.ts --client=rxconn-http2 --count=1000      # or raw-http2, rxconn-websocket, raw-ws
 *
 * `--client=rxconn-inflight` / `raw-inflight` count what one request *in flight* keeps alive
 * instead: N GETs sent as users write them (`lastValueFrom(conn.get(path).pipe(json()))`, or the
 * raw session wrapped in a Promise that collects the chunks), held unanswered by the server. What
 * each of them keeps is what a scavenge copies at high concurrency.
 */
import { createServer as createH2cServer } from 'node:http2';
import { connect as h2connect } from 'node:http2';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeHeapSnapshot } from 'node:v8';
import { readFileSync, rmSync } from 'node:fs';
import { WebSocket, WebSocketServer } from 'ws';
import type { ClientHttp2Session, ServerHttp2Stream } from 'node:http2';
import { filter, firstValueFrom, lastValueFrom } from 'rxjs';
import { json, open } from '../lib/index.js';

const args = new Map(process.argv.slice(2).map(a => a.replace(/^--/, '').split('=') as [string, string]));
const client = args.get('client') ?? 'rxconn-http2';
const count = Number(args.get('count') ?? 1000);
const gc = (globalThis as { gc?: () => void }).gc;
let phase = 0;

interface Snapshot { nodes: number[]; edges: number[]; strings: string[]; snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } } }

/** Prints who holds the first few objects named `name` (`--retainers=subscribeForRetry`), up to 12 levels. */
function retainers(snap: Snapshot, name: string): void {
  const { node_fields: nf, edge_fields: ef, node_types: [nodeTypes], edge_types: [edgeTypes] } = snap.snapshot.meta;
  const nw = nf.length;
  const ew = ef.length;
  const [nName, nEdges, nType] = ['name', 'edge_count', 'type'].map(f => nf.indexOf(f));
  const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map(f => ef.indexOf(f));
  const held = new Map<number, { from: number; edge: string }[]>();
  for (let n = 0, e = 0; n < snap.nodes.length; n += nw) {
    for (let k = 0; k < snap.nodes[n + nEdges]; k++, e += ew) {
      const type = edgeTypes[snap.edges[e + eType]];
      if (type === 'weak') continue;
      const label = type === 'element' || type === 'hidden' ? `[${snap.edges[e + eName]}]` : snap.strings[snap.edges[e + eName]];
      const to = snap.edges[e + eTo];
      const list = held.get(to) ?? [];
      list.push({ from: n, edge: label });
      held.set(to, list);
    }
  }
  // Distance from the root over strong edges: each step up goes to the retainer closest to it (as DevTools does).
  const firstEdge = new Map<number, number>();
  for (let n = 0, e = 0; n < snap.nodes.length; n += nw) {
    firstEdge.set(n, e);
    e += snap.nodes[n + nEdges] * ew;
  }
  const distance = new Map<number, number>([[0, 0]]);
  const queue = [0];
  for (let head = 0; head < queue.length; head++) {
    const n = queue[head];
    let e = firstEdge.get(n)!;
    for (let k = 0; k < snap.nodes[n + nEdges]; k++, e += ew) {
      if (edgeTypes[snap.edges[e + eType]] === 'weak') continue;
      const to = snap.edges[e + eTo];
      if (!distance.has(to)) {
        distance.set(to, distance.get(n)! + 1);
        queue.push(to);
      }
    }
  }
  const describe = (n: number): string => `${nodeTypes[snap.nodes[n + nType]]} ${snap.strings[snap.nodes[n + nName]].slice(0, 50)}`;
  // The newest two (highest ids): objects of the connections just opened, not of the code loaded before.
  const nId = nf.indexOf('id');
  const matches: number[] = [];
  for (let n = 0; n < snap.nodes.length; n += nw) {
    const type = nodeTypes[snap.nodes[n + nType]];
    const [wantType, wantName] = name.includes(':') ? name.split(':') : [undefined, name];
    if (snap.strings[snap.nodes[n + nName]] === wantName && (wantType ? type === wantType : !['string', 'concatenated string', 'code'].includes(type))) matches.push(n);
  }
  matches.sort((a, b) => snap.nodes[b + nId] - snap.nodes[a + nId]);
  for (const n of matches.slice(0, Number(args.get('samples') ?? 2))) {
    console.log(`-- ${describe(n)}`);
    let at = n;
    for (let depth = 0; depth < 40 && at !== 0; depth++) {
      const ups = (held.get(at) ?? []).filter(r => distance.has(r.from)).sort((a, b) => distance.get(a.from)! - distance.get(b.from)!);
      const up = ups[0];
      if (!up) break;
      console.log(`${'  '.repeat(depth + 1)}<- .${up.edge} of ${describe(up.from)}`);
      at = up.from;
    }
  }
}

/** Object ids of the first snapshot (ids are stable within a process). */
const seenIds = new Set<number>();

/**
 * `--owners`: the heap of the objects that are new in the second snapshot, by the nearest named
 * object holding them (its class and the field), on the path from the root.
 */
function owners(snap: Snapshot, which: number): void {
  const { node_fields: nf, edge_fields: ef, node_types: [nodeTypes], edge_types: [edgeTypes] } = snap.snapshot.meta;
  const nw = nf.length;
  const ew = ef.length;
  const [nName, nEdges, nType, nId, nSize] = ['name', 'edge_count', 'type', 'id', 'self_size'].map(f => nf.indexOf(f));
  const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map(f => ef.indexOf(f));
  if (which === 0) {
    for (let n = 0; n < snap.nodes.length; n += nw) seenIds.add(snap.nodes[n + nId]);
    return;
  }
  // Breadth first from the root: each node's parent is its first retainer found (closest to the root).
  const parent = new Map<number, { from: number; edge: string }>();
  const queue = [0];
  const firstEdge: number[] = [];
  for (let n = 0, e = 0; n < snap.nodes.length; n += nw) {
    firstEdge[n / nw] = e;
    e += snap.nodes[n + nEdges] * ew;
  }
  parent.set(0, { from: -1, edge: '' });
  for (let head = 0; head < queue.length; head++) {
    const n = queue[head];
    let e = firstEdge[n / nw];
    for (let k = 0; k < snap.nodes[n + nEdges]; k++, e += ew) {
      const type = edgeTypes[snap.edges[e + eType]];
      if (type === 'weak') continue;
      const to = snap.edges[e + eTo];
      if (parent.has(to)) continue;
      const label = type === 'element' || type === 'hidden' ? `[${snap.edges[e + eName]}]` : snap.strings[snap.edges[e + eName]];
      parent.set(to, { from: n, edge: label });
      queue.push(to);
    }
  }
  const generic = new Set(['Object', 'Array', 'system / Context', '', 'Set', 'Map', 'WeakMap', 'WeakSet', 'Subscriber', 'OperatorSubscriber', 'SafeSubscriber']);
  const named = (n: number): boolean => {
    const type = nodeTypes[snap.nodes[n + nType]];
    return (type === 'object' || type === 'closure') && !generic.has(snap.strings[snap.nodes[n + nName]]) && !snap.strings[snap.nodes[n + nName]].startsWith('system');
  };
  const totals = new Map<string, number>();
  for (let n = 0; n < snap.nodes.length; n += nw) {
    if (seenIds.has(snap.nodes[n + nId]) || !parent.has(n)) continue;
    let at = n;
    let edge = '';
    let label = '?';
    for (let depth = 0; depth < 30; depth++) {
      const up = parent.get(at);
      if (!up || up.from < 0) break;
      edge = up.edge;
      at = up.from;
      if (named(at)) {
        label = `${snap.strings[snap.nodes[at + nName]]}.${edge}`;
        break;
      }
    }
    totals.set(label, (totals.get(label) ?? 0) + snap.nodes[n + nSize]);
  }
  const rows = [...totals].sort((a, b) => b[1] - a[1]).slice(0, Number(args.get('owners') || 40));
  for (const [label, size] of rows) console.log(`${(size / count).toFixed(0).padStart(7)} B  ${label}`);
}

function histogram(): Map<string, { count: number; size: number }> {
  for (let i = 0; i < 3; i++) gc?.();
  const file = writeHeapSnapshot(`/tmp/heap-breakdown-${process.pid}.heapsnapshot`);
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  rmSync(file);
  const wanted = args.get('retainers');
  if (wanted && phase === 1) retainers(snap, wanted);
  if (args.has('owners')) owners(snap, phase);
  phase++;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map(f => fields.indexOf(f));
  const out = new Map<string, { count: number; size: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]];
    let name = snap.strings[snap.nodes[i + nameAt]];
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '';
    if (name.length > 60) name = name.slice(0, 60);
    const key = `${type} ${name}`;
    const entry = out.get(key) ?? { count: 0, size: 0 };
    entry.count++;
    entry.size += snap.nodes[i + sizeAt];
    out.set(key, entry);
  }
  return out;
}

async function main(): Promise<void> {
  const h2 = createH2cServer();
  /** Streams of `/hold`, unanswered, and who waits for the next one. */
  const held: ServerHttp2Stream[] = [];
  const holding: (() => void)[] = [];
  const hold = (): Promise<() => void> => new Promise(resolve => holding.push(() => {
    const stream = held.shift()!;
    resolve(() => { stream.respond({ ':status': 200 }); stream.end('{"d":"ok"}'); });
  }));
  h2.on('stream', (s, headers) => {
    if (headers[':path'] !== '/hold') { s.respond({ ':status': 200 }); s.end('ok'); return; }
    held.push(s);
    holding.shift()?.();
  });
  h2.on('session', s => s.on('error', () => undefined));
  const http = createHttpServer();
  const wss = new WebSocketServer({ server: http });
  wss.on('connection', ws => ws.on('error', () => undefined));
  await new Promise<void>(r => h2.listen(0, '127.0.0.1', r));
  await new Promise<void>(r => http.listen(0, '127.0.0.1', r));
  const h2c = `http://127.0.0.1:${(h2.address() as AddressInfo).port}`;
  const ws = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const openers: Record<string, () => Promise<() => void>> = {
    'raw-http2': () => new Promise((resolve, reject) => {
      const s = h2connect(h2c);
      s.once('error', reject);
      s.once('remoteSettings', () => resolve(() => s.destroy()));
    }),
    'raw-ws': () => new Promise((resolve, reject) => {
      const w = new WebSocket(ws.replace('http', 'ws'));
      w.once('error', reject);
      w.once('open', () => resolve(() => w.terminate()));
    }),
    'rxconn-http2': () => new Promise((resolve, reject) => {
      const conn = open(h2c, { protocols: ['http2'] });
      // As bench/scale.ts holds them: no subscriber left once connected.
      const sub = conn.subscribe({ next: e => { if (e.type === 'connected') { queueMicrotask(() => sub.unsubscribe()); resolve(() => conn.close()); } }, error: reject });
    }),
    'rxconn-websocket': () => new Promise((resolve, reject) => {
      const conn = open(ws, { protocols: ['http1'] });
      const channel = conn.websocket('/');
      const sub = channel.subscribe({ error: reject });
      const events = channel.events.subscribe(e => {
        if (e.type === 'open') { queueMicrotask(() => events.unsubscribe()); resolve(() => { sub.unsubscribe(); conn.close(); }); }
      });
    }),
  };
  let h2conn: ReturnType<typeof open> | undefined;
  let h2session: ClientHttp2Session | undefined;
  /** Their outcome does not matter: the last ones are cut off by the close at the end. */
  const settled = (promise: Promise<unknown>): void => void promise.catch(() => undefined);
  openers['rxconn-inflight'] = async () => {
    if (!h2conn) {
      h2conn = open(h2c, { protocols: ['http2'] });
      await firstValueFrom(h2conn.pipe(filter(e => e.type === 'connected')));
    }
    const answered = hold();
    settled(lastValueFrom(h2conn.get('/hold').pipe(json())));
    return answered;
  };
  openers['raw-inflight'] = async () => {
    if (!h2session) {
      const s = h2session = h2connect(h2c);
      await new Promise(r => s.once('remoteSettings', r));
    }
    const answered = hold();
    const stream = h2session.request({ ':method': 'GET', ':scheme': 'http', ':authority': h2c.slice(7), ':path': '/hold' });
    settled(new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let status = 0;
      stream.on('response', headers => { status = Number(headers[':status']); });
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        try {
          resolve({ status, body: JSON.parse((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8')) as unknown });
        } catch (error) {
          reject(error);
        }
      });
      stream.on('error', reject);
    }));
    return answered;
  };
  const opener = openers[client];
  if (!opener) throw new Error(`unknown client ${client}`);
  for (const close of await Promise.all(Array.from({ length: 20 }, opener))) close();
  await new Promise(r => setTimeout(r, 200));
  const before = histogram();
  const closers: (() => void)[] = [];
  for (let i = 0; i < count; i += 100) closers.push(...(await Promise.all(Array.from({ length: Math.min(100, count - i) }, opener))));
  // Idle means up for a while: past rxconn's 1 s proof, when its reconnect loop ends.
  await new Promise(r => setTimeout(r, 1_500));
  const after = histogram();
  const rows = [...after].map(([key, a]) => {
    const b = before.get(key) ?? { count: 0, size: 0 };
    return { key, count: (a.count - b.count) / count, size: (a.size - b.size) / count };
  }).filter(r => Math.abs(r.size) >= 8).sort((x, y) => y.size - x.size);
  const total = rows.reduce((sum, r) => sum + r.size, 0);
  console.log(`${client}: ${(total / 1024).toFixed(1)} KiB of heap per connection (${count} connections)`);
  for (const r of rows.slice(0, Number(args.get('top') ?? 60))) console.log(`${r.size.toFixed(0).padStart(7)} B ${r.count.toFixed(2).padStart(6)} × ${r.key}`);
  for (const close of closers) close();
  h2conn?.close();
  h2session?.destroy();
  h2.close(); http.close();
  setTimeout(() => process.exit(0), 500).unref();
}

void main();
