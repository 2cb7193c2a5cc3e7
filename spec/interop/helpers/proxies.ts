/**
 * Real proxies from Debian for the tunnel interop suite, each run by the suite on 127.0.0.1 with
 * its own config in a temp dir, killable (kill -9 of its process group) and restartable on the
 * same port: tinyproxy and squid (HTTP CONNECT, Basic auth), microsocks (SOCKS5 with -u/-P),
 * nghttpx --http2-proxy (HTTP/2 CONNECT, h2c and TLS frontends, chained to an HTTP proxy) and
 * haproxy (a TLS wrapper: an `https://` proxy in front of an HTTP proxy).
 * Configurations: /work/shared/reference/gun-parity-research.md §1.6.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HAPROXY, MICROSOCKS, NGHTTPX, SQUID, TINYPROXY } from './install.js';
import { freePort, start, tempDir, waitForPort, waitForPortClosed } from './processes.js';
import type { Proc } from './processes.js';

const fixture = (name: string): string => new URL(`../../fixtures/${name}`, import.meta.url).pathname;

/** The user and password every authenticating proxy here accepts. */
export const USER = 'alice';
export const PASSWORD = 's3cret-Pw';
export const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

/** One proxy process on one or more ports of 127.0.0.1, restartable. */
export class Daemon {
  #proc: Proc | undefined;
  readonly #dir = tempDir('rxconn-proxy-');

  private constructor(
    readonly name: string,
    readonly command: string,
    readonly ports: readonly number[],
    readonly args: (dir: string) => string[],
    readonly setup: (dir: string) => void,
  ) {
    // Daemons that drop privileges (tinyproxy to nobody, squid to proxy) must read their files.
    chmodSync(this.#dir.path, 0o777);
    setup(this.#dir.path);
  }

  get port(): number {
    return this.ports[0];
  }

  get dir(): string {
    return this.#dir.path;
  }

  /** `scheme://[alice:pw@]127.0.0.1:port` of its first (or `index`th) port. */
  url(scheme: 'http' | 'https' | 'socks5', credentials = false, index = 0): string {
    return `${scheme}://${credentials ? `${USER}:${PASSWORD}@` : ''}127.0.0.1:${this.ports[index]}`;
  }

  async start(): Promise<void> {
    this.#proc = start(this.command, this.args(this.#dir.path), { cwd: this.#dir.path });
    try {
      await Promise.race([
        Promise.all(this.ports.map(port => waitForPort(port, 15_000))),
        this.#proc.exited.then(() => {
          throw new Error(`${this.name} exited: ${this.#proc?.output()}`);
        }),
      ]);
    } catch (error) {
      await this.#proc.kill9();
      throw error;
    }
  }

  /** kill -9 of the whole process group; resolves once nothing accepts on its ports. */
  async kill9(): Promise<void> {
    await this.#proc?.kill9();
    for (const port of this.ports) await waitForPortClosed(port);
  }

  async restart(): Promise<void> {
    await this.start();
  }

  output(): string {
    return this.#proc?.output() ?? '';
  }

  async dispose(): Promise<void> {
    await this.#proc?.kill9();
    this.#dir.remove();
  }

  /** tinyproxy with Basic auth (a wrong password gets 401, none 407), CONNECT to any port. */
  static async tinyproxy(): Promise<Daemon> {
    const port = await freePort();
    return new Daemon('tinyproxy', TINYPROXY.command, [port], dir => ['-d', '-c', join(dir, 'tinyproxy.conf')], dir =>
      writeFileSync(
        join(dir, 'tinyproxy.conf'),
        [
          'User nobody',
          'Group nogroup',
          `Port ${port}`,
          'Listen 127.0.0.1',
          'Allow 127.0.0.1',
          `BasicAuth ${USER} ${PASSWORD}`,
          'DisableViaHeader Yes',
          'LogLevel Warning',
          'MaxClients 200',
          'Timeout 60',
          '',
        ].join('\n'),
      ),
    );
  }

  /** squid with Basic auth through basic_ncsa_auth (407 for none or wrong), CONNECT to any port. */
  static async squid(): Promise<Daemon> {
    const port = await freePort();
    return new Daemon('squid', SQUID.command, [port], dir => ['-N', '-f', join(dir, 'squid.conf')], dir => {
      const hash = execFileSync('openssl', ['passwd', '-apr1', PASSWORD]).toString().trim();
      writeFileSync(join(dir, 'passwd'), `${USER}:${hash}\n`, { mode: 0o644 });
      writeFileSync(
        join(dir, 'squid.conf'),
        [
          `http_port 127.0.0.1:${port}`,
          `pid_filename ${dir}/squid.pid`,
          'cache deny all',
          `access_log stdio:${dir}/access.log`,
          `cache_log ${dir}/cache.log`,
          'cache_effective_user proxy',
          'shutdown_lifetime 1 seconds',
          `auth_param basic program /usr/lib/squid/basic_ncsa_auth ${dir}/passwd`,
          'auth_param basic realm rxconn-test',
          'acl authed proxy_auth REQUIRED',
          'acl localhost_src src 127.0.0.1/32 ::1',
          'http_access deny !localhost_src',
          'http_access allow authed',
          'http_access deny all',
          '',
        ].join('\n'),
      );
    });
  }

  /** microsocks with username/password (-u/-P). */
  static async microsocks(): Promise<Daemon> {
    const port = await freePort();
    return new Daemon('microsocks', MICROSOCKS.command, [port], () => ['-i', '127.0.0.1', '-p', String(port), '-u', USER, '-P', PASSWORD], () => {});
  }

  /**
   * nghttpx as an HTTP/2 forward proxy (--http2-proxy) with an h2c frontend (first port) and a TLS
   * frontend with ALPN h2 (second port), chained to the HTTP proxy on `backendPort` (tinyproxy),
   * to which it adds our Basic credentials.
   */
  static async nghttpx(backendPort: number): Promise<Daemon> {
    const [h2c, tls] = [await freePort(), await freePort()];
    return new Daemon(
      'nghttpx',
      NGHTTPX.command,
      [h2c, tls],
      () => [
        '--conf=/dev/null',
        '--http2-proxy',
        `--frontend=127.0.0.1,${h2c};no-tls`,
        `--frontend=127.0.0.1,${tls}`,
        `--backend=127.0.0.1,${backendPort}`,
        '--workers=1',
        '--no-ocsp',
        '--errorlog-file=/dev/stderr',
        `--add-request-header=Proxy-Authorization: ${BASIC}`,
        fixture('server.key'),
        fixture('server.pem'),
      ],
      () => {},
    );
  }

  /** haproxy terminating TLS (the test certificate) in front of the HTTP proxy on `backendPort`: an `https://` proxy. */
  static async haproxy(backendPort: number): Promise<Daemon> {
    const port = await freePort();
    return new Daemon('haproxy', HAPROXY.command, [port], dir => ['-db', '-f', join(dir, 'haproxy.cfg')], dir => {
      writeFileSync(join(dir, 'combined.pem'), readFileSync(fixture('server.pem')).toString() + readFileSync(fixture('server.key')).toString());
      writeFileSync(
        join(dir, 'haproxy.cfg'),
        [
          'global',
          '  maxconn 200',
          'defaults',
          '  mode tcp',
          '  timeout connect 5s',
          '  timeout client 60s',
          '  timeout server 60s',
          'frontend https_proxy',
          `  bind 127.0.0.1:${port} ssl crt ${dir}/combined.pem`,
          '  default_backend http_proxy',
          'backend http_proxy',
          `  server p 127.0.0.1:${backendPort}`,
          '',
        ].join('\n'),
      );
    });
  }
}
