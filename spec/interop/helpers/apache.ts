/**
 * An apache2 on 127.0.0.1 run by the suite for WebSocket over HTTP/2 (RFC 8441): its own config
 * in a temp dir, h2c (prior knowledge, `H2Direct on`) and HTTP/1.1 on one cleartext port,
 * `H2WebSockets` on or off, `/ws` proxied to a WebSocket backend with mod_proxy_wstunnel.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { APACHE } from './install.js';
import { freePort, start, tempDir, waitForPort } from './processes.js';
import type { Proc } from './processes.js';

const MODULES = ['mpm_event', 'authz_core', 'http2', 'proxy', 'proxy_http', 'proxy_wstunnel'];

export class Apache {
  readonly dir = tempDir('rxconn-apache-');
  #proc: Proc | undefined;

  private constructor(
    readonly port: number,
    backendPort: number,
    webSockets: boolean,
  ) {
    const p = this.dir.path;
    // As root, apache refuses to run its children as root: they run as www-data (it only needs to read nothing here).
    const user = process.getuid?.() === 0 ? 'User www-data\nGroup www-data' : '';
    writeFileSync(
      join(p, 'apache2.conf'),
      `ServerRoot /usr/lib/apache2
${MODULES.map(m => `LoadModule ${m}_module /usr/lib/apache2/modules/mod_${m}.so`).join('\n')}
${user}
ServerName 127.0.0.1
Listen 127.0.0.1:${port}
PidFile ${p}/apache2.pid
ErrorLog ${p}/error.log
LogLevel warn
Mutex file:${p}
DefaultRuntimeDir ${p}
Protocols h2c http/1.1
H2Direct on
H2WebSockets ${webSockets ? 'on' : 'off'}
ProxyPass /ws ws://127.0.0.1:${backendPort}/ upgrade=websocket
`,
    );
  }

  /** Writes the config for a fresh port; call {@link start} next. */
  static async create(backendPort: number, options: { webSockets: boolean }): Promise<Apache> {
    return new Apache(await freePort(), backendPort, options.webSockets);
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts apache in the foreground and waits until its port accepts. */
  async start(): Promise<void> {
    this.#proc = start(APACHE.command, ['-f', join(this.dir.path, 'apache2.conf'), '-DFOREGROUND']);
    try {
      await Promise.race([
        waitForPort(this.port),
        this.#proc.exited.then(() => {
          throw new Error(`apache2 exited: ${this.#proc?.output()} ${this.errorLog()}`);
        }),
      ]);
    } catch (error) {
      await this.#proc.kill9();
      throw error;
    }
  }

  errorLog(): string {
    try {
      return readFileSync(join(this.dir.path, 'error.log'), 'utf8');
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
