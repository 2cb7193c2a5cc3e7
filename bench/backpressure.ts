/**
 * `npm run bench -- --backpressure`: the memory a slow asynchronous consumer of a large download
 * holds, pushed (`concatMap` of a per-chunk delay: everything that arrives waits in its buffer)
 * versus pulled (`pullBody` / `WebSocketChannel.pull()`: the wire is paused while it waits).
 *
 * The parent serves a 64 MiB body at full speed (HTTP/1.1, h2c, and as 64 KiB WebSocket
 * messages, every write honouring backpressure) and runs each consumer in its own child process
 * (`node --expose-gc`). A consumer takes DELAY ms per chunk for WINDOW ms, then leaves (cancel);
 * the child samples RSS and heap + external memory every 20 ms and reports the peaks above its
 * baseline. Prints a markdown table and writes bench/results/backpressure.md.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { concatMap, map, timer } from 'rxjs';
import type { Observable } from 'rxjs';
import { WebSocketServer } from 'ws';
import { open, pullBody } from '../lib/index.js';
import { resultsDir } from './paths.js';

const TOTAL = 64 * 1024 * 1024;
const CHUNK = 64 * 1024;
const DELAY = 50;
const WINDOW = 3_000;
const MiB = 1024 * 1024;

type Protocol = 'http1' | 'http2' | 'websocket';
type Mode = 'push' | 'pull';
interface Result { readonly protocol: Protocol; readonly mode: Mode; readonly chunks: number; readonly bytes: number; readonly rss: number; readonly heap: number }

// ---- the child: one consumer ----

async function child(protocol: Protocol, mode: Mode, origin: string): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const conn = open(origin, protocol === 'http2' ? { protocols: ['http2'] } : {});
  // Connect first, so that the baseline holds the connection (and ws's buffers) but no body.
  await new Promise<void>(resolve => {
    const s = conn.state$.subscribe(state => {
      if (state === 'connected') {
        resolve();
        queueMicrotask(() => s.unsubscribe());
      }
    });
  });
  gc?.();
  const base = process.memoryUsage();
  let rss = 0;
  let heap = 0;
  const sample = (): void => {
    const now = process.memoryUsage();
    rss = Math.max(rss, now.rss - base.rss);
    heap = Math.max(heap, now.heapUsed + now.external - base.heapUsed - base.external);
  };
  const sampler = setInterval(sample, 20);
  let chunks = 0;
  let bytes = 0;
  const until = Date.now() + WINDOW;
  const take = (chunk: Uint8Array): boolean => {
    chunks++;
    bytes += chunk.byteLength;
    return Date.now() < until;
  };
  const sleep = (): Promise<void> => new Promise(resolve => setTimeout(resolve, DELAY));
  if (mode === 'pull') {
    const source: AsyncIterable<string | Uint8Array> = protocol === 'websocket' ? conn.websocket('/').pull() : pullBody(flow => conn.get('/', { flow }));
    for await (const chunk of source) {
      await sleep();
      if (!take(chunk as Uint8Array)) break;
    }
  } else {
    const source: Observable<Uint8Array> =
      protocol === 'websocket'
        ? (conn.websocket('/') as Observable<string | Uint8Array>).pipe(map(m => m as Uint8Array))
        : conn.get('/').pipe(concatMap(e => (e.type === 'data' ? [e.data] : [])));
    await new Promise<void>(resolve => {
      const subscription = source.pipe(concatMap(chunk => timer(DELAY).pipe(map(() => chunk)))).subscribe({
        next: chunk => {
          if (!take(chunk)) {
            subscription.unsubscribe();
            resolve();
          }
        },
        complete: resolve,
        error: resolve,
      });
    });
  }
  sample();
  clearInterval(sampler);
  conn.close();
  await conn.whenClosed();
  process.stdout.write(`RESULT ${JSON.stringify({ protocol, mode, chunks, bytes, rss, heap } satisfies Result)}\n`);
}

// ---- the parent: servers and the table ----

function writeBody(out: Writable): void {
  let written = 0;
  let stopped = false;
  out.once('close', () => (stopped = true));
  const body = Buffer.alloc(CHUNK, 7);
  const pump = (): void => {
    while (!stopped && written < TOTAL) {
      written += CHUNK;
      if (!out.write(body)) {
        out.once('drain', pump);
        return;
      }
    }
    if (!stopped) out.end();
  };
  pump();
}

async function listen(server: http.Server | http2.Http2Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function runChild(protocol: Protocol, mode: Mode, origin: string): Promise<Result> {
  const self = fileURLToPath(import.meta.url);
  const proc = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', self, '--child', protocol, mode, origin], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (data: Buffer) => (out += data.toString()));
  return new Promise((resolve, reject) => {
    proc.on('close', code => {
      const line = out.split('\n').find(l => l.startsWith('RESULT '));
      if (line) resolve(JSON.parse(line.slice('RESULT '.length)) as Result);
      else reject(new Error(`the ${protocol} ${mode} consumer exited with ${code} and no result`));
    });
  });
}

async function parent(): Promise<void> {
  const h1 = http.createServer((_request, response) => writeBody(response));
  const h2 = http2.createServer().on('stream', stream => {
    stream.respond({ ':status': 200 });
    writeBody(stream);
  });
  const wsHttp = http.createServer();
  const wss = new WebSocketServer({ server: wsHttp, perMessageDeflate: false });
  wss.on('connection', ws => {
    let sent = 0;
    const body = Buffer.alloc(CHUNK, 7);
    const more = (): void => {
      // At most 4 messages not yet written to the socket: the sender honours backpressure.
      while (sent < TOTAL / CHUNK && ws.bufferedAmount < 4 * CHUNK && ws.readyState === ws.OPEN) {
        sent++;
        ws.send(body, () => more());
      }
    };
    more();
    ws.on('error', () => {});
  });
  const origins: Record<Protocol, string> = { http1: await listen(h1), http2: await listen(h2), websocket: await listen(wsHttp) };
  const results: Result[] = [];
  for (const protocol of ['http1', 'http2', 'websocket'] as const) {
    for (const mode of ['push', 'pull'] as const) {
      const result = await runChild(protocol, mode, origins[protocol]);
      process.stderr.write(`${protocol} ${mode}: ${JSON.stringify(result)}\n`);
      results.push(result);
    }
  }
  for (const server of [h1, h2, wsHttp]) {
    server.close();
    (server as http.Server).closeAllConnections?.();
  }
  wss.close();
  const mib = (n: number): string => (n / MiB).toFixed(1);
  const names: Record<Protocol, string> = { http1: 'HTTP/1.1', http2: 'HTTP/2 (h2c)', websocket: 'WebSocket (HTTP/1.1)' };
  const lines = [
    `A consumer taking ${DELAY} ms per chunk of a ${TOTAL / MiB} MiB body served at full speed, for ${WINDOW / 1000} s; peaks above the connected baseline, one process each (node ${process.version}).`,
    '',
    '| protocol | consumer | chunks consumed | peak RSS growth (MiB) | peak heap + external growth (MiB) |',
    '|---|---|---:|---:|---:|',
    ...results.map(r => `| ${names[r.protocol]} | ${r.mode === 'push' ? 'push (`concatMap` of a delay)' : r.protocol === 'websocket' ? 'pull (`channel.pull()`)' : 'pull (`pullBody`)'} | ${r.chunks} | ${mib(r.rss)} | ${mib(r.heap)} |`),
  ];
  const table = `${lines.join('\n')}\n`;
  process.stdout.write(table);
  writeFileSync(join(resultsDir(), 'backpressure.md'), table);
}

const argv = process.argv.slice(2);
if (argv[0] === '--child') await child(argv[1] as Protocol, argv[2] as Mode, argv[3]!);
else await parent();
