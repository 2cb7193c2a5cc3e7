/**
 * Third-party servers for the interop suite, installed from Debian packages when missing.
 * Bounded in time; when a package cannot be installed the caller skips with the printed reason.
 */
import { execFile } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A command the suite needs, and the Debian package that provides it. */
export interface Tool {
  readonly command: string;
  readonly pkg: string;
}

export const NGINX: Tool = { command: '/usr/sbin/nginx', pkg: 'nginx-light' };
export const NGHTTPD: Tool = { command: '/usr/sbin/nghttpd', pkg: 'nghttp2-server' };
export const WEBSOCKETD: Tool = { command: '/usr/bin/websocketd', pkg: 'websocketd' };
/** The proxies of the tunnel suite (spec/interop/proxies.spec.ts). */
export const TINYPROXY: Tool = { command: '/usr/bin/tinyproxy', pkg: 'tinyproxy' };
export const SQUID: Tool = { command: '/usr/sbin/squid', pkg: 'squid' };
export const MICROSOCKS: Tool = { command: '/usr/bin/microsocks', pkg: 'microsocks' };
export const NGHTTPX: Tool = { command: '/usr/sbin/nghttpx', pkg: 'nghttp2-proxy' };
export const HAPROXY: Tool = { command: '/usr/sbin/haproxy', pkg: 'haproxy' };
/** RFC 8441 WebSocket over HTTP/2 (spec/interop/websocket-h2.spec.ts). */
export const APACHE: Tool = { command: '/usr/sbin/apache2', pkg: 'apache2' };

/** Why a tool is unavailable, or `undefined` when it is there. */
export type Availability = Record<string, string | undefined>;

const INSTALL_TIMEOUT = 240_000;

async function aptGet(args: string[]): Promise<void> {
  await run('apt-get', args, { timeout: INSTALL_TIMEOUT, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, maxBuffer: 16 * 1024 * 1024 });
}

const pending = new Map<string, Promise<Availability>>();

/**
 * Makes sure `tools` (default: nginx, nghttpd and websocketd) are installed (one `apt-get
 * install` for the missing ones, after an `apt-get update` if the first try fails), and reports
 * each one's availability. Package scripts are kept from starting services (policy-rc.d), so
 * nothing listens but what the suite starts itself.
 */
export function ensureTools(tools: readonly Tool[] = [NGINX, NGHTTPD, WEBSOCKETD]): Promise<Availability> {
  const key = tools.map(t => t.pkg).join(' ');
  const known = pending.get(key);
  if (known) return known;
  const result = (async () => {
    const missing = tools.filter(t => !existsSync(t.command));
    const result: Availability = {};
    if (missing.length > 0) {
      let failure: string | undefined;
      if (process.getuid?.() !== 0) {
        failure = `not root: cannot apt-get install ${missing.map(t => t.pkg).join(' ')}`;
      } else {
        const policy = '/usr/sbin/policy-rc.d';
        const ownPolicy = !existsSync(policy);
        if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
        try {
          const install = ['install', '-y', '-q', '--no-install-recommends', ...missing.map(t => t.pkg)];
          try {
            await aptGet(install);
          } catch {
            await aptGet(['update', '-q']);
            await aptGet(install);
          }
        } catch (error) {
          failure = `apt-get install ${missing.map(t => t.pkg).join(' ')} failed: ${String((error as Error).message).split('\n')[0]}`;
        } finally {
          if (ownPolicy) rmSync(policy, { force: true });
        }
      }
      if (failure) console.warn(`[interop] ${failure}`);
    }
    for (const tool of tools) {
      result[tool.pkg] = existsSync(tool.command) ? undefined : `${tool.command} is not installed (package ${tool.pkg})`;
      if (result[tool.pkg]) console.warn(`[interop] skipping ${tool.pkg} scenarios: ${result[tool.pkg]}`);
    }
    return result;
  })();
  pending.set(key, result);
  return result;
}
