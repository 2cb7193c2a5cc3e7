/**
 * An nginx on 127.0.0.1 run by the suite: its own prefix, config and document root in a temp
 * dir; HTTP/1.1 on a cleartext port, HTTP/2 and HTTP/1.1 over TLS (ALPN) with the test
 * certificate, h2c prior knowledge on another cleartext port; static files of known content,
 * a rate-limited copy of them, WebDAV PUT for uploads, a redirect, and a WebSocket proxy.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { NGINX } from './install.js';
import { freePort, start, tempDir, waitForPort, waitForPortClosed } from './processes.js';
import type { Proc } from './processes.js';

const run = promisify(execFile);
const fixture = (name: string): string => new URL(`../../fixtures/${name}`, import.meta.url).pathname;

/** Sizes of the static files, named `<size>.bin` under /files/ and /slow/. */
export const SIZES = [0, 1, 1_000, 16_383, 16_385, 65_536, 1024 * 1024] as const;
/** Bytes per second of /slow/: a 1 MiB download takes about a second. */
export const SLOW_RATE = 1024 * 1024;
/** The `retry:` of /sse, in ms. */
export const SSE_RETRY = 20;

export interface Ports {
  readonly h1: number;
  readonly tls: number;
  readonly h2c: number;
  /** Where /ws is proxied to (websocketd). */
  readonly ws: number;
  /** Where /up/ is proxied to (a Node server that records what it was asked), when set. */
  readonly upstream?: number;
}

/** Settings that make nginx behave as production ones do (each defaults to a setting that never interferes). */
export interface NginxSettings {
  /** `keepalive_requests`: the connection is closed (HTTP/1.1 `connection: close`, HTTP/2 GOAWAY) after this many requests. */
  readonly keepaliveRequests?: number;
  /** `keepalive_timeout`, e.g. `'1s'`: an idle connection is closed after it (HTTP/2: GOAWAY). */
  readonly keepaliveTimeout?: string;
  /** `worker_shutdown_timeout`, e.g. `'1s'`: how long a quitting worker waits for open connections (WebSockets) before closing them. */
  readonly workerShutdownTimeout?: string;
  /** Port of the Node server /up/ is proxied to. */
  readonly upstream?: number;
  /**
   * TLS 1.3 only on the TLS port, with session tickets (`true`) or none at all (`false`). Absent:
   * nginx 1.22's defaults, which stop at TLS 1.2. With `ssl_session_tickets off` and
   * `ssl_session_cache off` alone, OpenSSL still sends stateful TLS 1.3 tickets: only its
   * `NumTickets 0` stops them.
   */
  readonly tls13Tickets?: boolean;
}

/** Bytes per second of /slower/: a 1 MiB download takes about four seconds. */
export const SLOWER_RATE = 256 * 1024;

export class Nginx {
  readonly dir: ReturnType<typeof tempDir>;
  readonly files = new Map<number, Buffer>();
  #proc: Proc | undefined;

  private constructor(
    readonly ports: Ports,
    readonly settings: NginxSettings = {},
  ) {
    this.dir = tempDir('rxconn-nginx-');
    const prefix = this.dir.path;
    for (const sub of ['www/files', 'www/dav', 'tmp/body', 'tmp/proxy', 'tmp/fastcgi', 'tmp/uwsgi', 'tmp/scgi', 'logs']) mkdirSync(join(prefix, sub), { recursive: true });
    for (const size of SIZES) {
      const content = randomBytes(size);
      this.files.set(size, content);
      writeFileSync(join(prefix, 'www/files', `${size}.bin`), content);
    }
    writeFileSync(join(prefix, 'www/bom.txt'), Buffer.from('\ufeffid: b1\r\ndata: bom\r\n\r\n', 'utf8'));
    writeFileSync(join(prefix, 'nginx.conf'), this.config());
  }

  /** Writes the config for fresh ports; call {@link start} next. */
  static async create(wsPort?: number, settings: NginxSettings = {}): Promise<Nginx> {
    const ports = { h1: await freePort(), tls: await freePort(), h2c: await freePort(), ws: wsPort ?? (await freePort()), upstream: settings.upstream };
    return new Nginx(ports, settings);
  }

  get pid(): number | undefined {
    return this.#proc?.child.pid;
  }

  origin(kind: 'h1' | 'tls' | 'h2c'): string {
    return `${kind === 'tls' ? 'https' : 'http'}://127.0.0.1:${this.ports[kind]}`;
  }

  private config(): string {
    const p = this.dir.path;
    // As root, the workers would run as nobody and could not read the temp dir: keep them root.
    const user = process.getuid?.() === 0 ? 'user root root;' : '';
    const { keepaliveRequests = 100_000, keepaliveTimeout = '60s', workerShutdownTimeout } = this.settings;
    // nginx speaks HTTP/1.0 to the upstream and closes each connection: no keep-alive race there.
    const tls13 =
      this.settings.tls13Tickets === undefined
        ? ''
        : `ssl_protocols TLSv1.3; ${this.settings.tls13Tickets ? '' : 'ssl_session_tickets off; ssl_session_cache off; ssl_conf_command NumTickets 0;'}`;
    const upstream = this.ports.upstream === undefined ? '' : `location /up/ { proxy_pass http://127.0.0.1:${this.ports.upstream}; client_max_body_size 16m; }`;
    return `
${user}
worker_processes 1;
${workerShutdownTimeout ? `worker_shutdown_timeout ${workerShutdownTimeout};` : ''}
daemon off;
pid ${p}/nginx.pid;
error_log ${p}/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/octet-stream;
  client_body_temp_path ${p}/tmp/body;
  proxy_temp_path ${p}/tmp/proxy;
  fastcgi_temp_path ${p}/tmp/fastcgi;
  uwsgi_temp_path ${p}/tmp/uwsgi;
  scgi_temp_path ${p}/tmp/scgi;
  keepalive_requests ${keepaliveRequests};
  keepalive_timeout ${keepaliveTimeout};
  server {
    listen 127.0.0.1:${this.ports.h1};
    listen 127.0.0.1:${this.ports.tls} ssl http2;
    listen 127.0.0.1:${this.ports.h2c} http2;
    ssl_certificate ${fixture('server.pem')};
    ssl_certificate_key ${fixture('server.key')};
    ${tls13}
    root ${p}/www;
    location /files/ { }
    location /slow/ { alias ${p}/www/files/; limit_rate ${SLOW_RATE}; }
    location /slower/ { alias ${p}/www/files/; limit_rate ${SLOWER_RATE}; }
    ${upstream}
    location /dav/ {
      dav_methods PUT DELETE;
      create_full_put_path on;
      client_max_body_size 16m;
    }
    location = /redirect { return 301 /files/1.bin; }
    # Server-Sent Events: one event per response, echoing the request's Last-Event-ID.
    location = /sse { default_type text/event-stream; add_header Cache-Control no-store; return 200 "retry: ${SSE_RETRY}\\nid: n$msec\\ndata: last-event-id=$http_last_event_id\\n\\n"; }
    location = /sse-bom { default_type text/event-stream; alias ${p}/www/bom.txt; }
    location = /sse-wrong-type { default_type text/plain; return 200 "data: x\\n\\n"; }
    location = /sse-stop { return 204; }
    location /ws {
      proxy_pass http://127.0.0.1:${this.ports.ws};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_read_timeout 1h;
    }
  }
}
`;
  }

  /** Starts nginx (master and one worker) and waits until every port accepts. */
  async start(): Promise<void> {
    const p = this.dir.path;
    this.#proc = start(NGINX.command, ['-p', p, '-c', join(p, 'nginx.conf'), '-e', join(p, 'logs/error.log')]);
    try {
      await Promise.race([
        Promise.all([waitForPort(this.ports.h1), waitForPort(this.ports.tls), waitForPort(this.ports.h2c)]),
        this.#proc.exited.then(() => {
          throw new Error(`nginx exited: ${this.#proc?.output()} ${this.errorLog()}`);
        }),
      ]);
    } catch (error) {
      await this.#proc.kill9();
      throw error;
    }
  }

  /** `nginx -s <signal>` against this instance. */
  async signal(signal: 'quit' | 'reload' | 'stop'): Promise<void> {
    const p = this.dir.path;
    await run(NGINX.command, ['-p', p, '-c', join(p, 'nginx.conf'), '-e', join(p, 'logs/error.log'), '-s', signal], { timeout: 10_000 });
  }

  /** `nginx -s quit`: graceful; resolves at once (await {@link exited} for the end). */
  quit(): Promise<void> {
    return this.signal('quit');
  }

  /** Resolves when the master has exited (after a quit, all workers are done too). */
  async exited(): Promise<void> {
    await this.#proc?.exited;
    await waitForPortClosed(this.ports.h1);
  }

  /** `nginx -s reload`; resolves once a new worker runs (the old one drains on its own). */
  async reload(): Promise<void> {
    const before = this.workers();
    await this.signal('reload');
    const deadline = Date.now() + 10_000;
    while (!this.workers().some(pid => !before.includes(pid))) {
      if (Date.now() > deadline) throw new Error('nginx did not start a new worker after reload');
      await new Promise(resolve => setTimeout(resolve, 10));
    }
  }

  /** The pids of the master's children (the workers). */
  workers(): number[] {
    const master = this.pid;
    if (master === undefined) return [];
    const pids: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === master) pids.push(Number(entry));
      } catch {
        // The process ended meanwhile.
      }
    }
    return pids;
  }

  /** kill -9 of the master and its workers. */
  async kill9(): Promise<void> {
    await this.#proc?.kill9();
    await waitForPortClosed(this.ports.h1);
  }

  errorLog(): string {
    try {
      return readFileSync(join(this.dir.path, 'logs/error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** Stops it (kill -9 of the group) and removes its directory. */
  async dispose(): Promise<void> {
    await this.#proc?.kill9();
    this.dir.remove();
  }
}
