/**
 * `proxy: 'env'`: the proxy for an origin from the environment, as curl reads it, and the
 * `NO_PROXY` rules. Pure: the environment is passed in (a plain record), read once by `open()`.
 *
 * Which variable: for an `https:` origin `https_proxy`, `HTTPS_PROXY`, then `http_proxy`,
 * `HTTP_PROXY`; for `http:` `http_proxy`, `HTTP_PROXY`; then `all_proxy`, `ALL_PROXY` for both.
 * The lower-case name wins; the first non-empty value is used. A value without a scheme is an
 * `http://` proxy (curl does the same).
 *
 * `NO_PROXY` (`no_proxy` first): entries separated by commas or white space, case-insensitive:
 * - `*` anywhere in the list: no proxy for any origin;
 * - `example.com`, `.example.com` and `*.example.com` all match `example.com` and every
 *   subdomain (`api.example.com`), never `badexample.com`;
 * - an IP address matches that address only; IPv6 with or without brackets (`::1`, `[::1]`);
 * - `10.0.0.0/8`, `fd00::/8` (CIDR) match an origin whose host is an IP literal in that range,
 *   on any port (see no-proxy-ip.ts for the families and why names are not resolved);
 * - `host:port` and `[v6]:port` match only that port (the origin's port, 80/443 by default);
 * - an entry we cannot read (`10.0.0.0/33`, `10.0.0/8`, `10.0.0.0/8:8080`, `[::1`) is skipped,
 *   as curl and Go skip theirs: the variable is shared with every other tool of the machine, so
 *   one entry only some of them understand must not stop `open()`;
 * - no implicit `localhost`.
 */
import { addressEntry, inEntry, rangeEntry } from './no-proxy-ip.js';

/** The environment, as `process.env`. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** The first non-empty variable among `names`, and its name. */
function pick(env: Environment, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return { name, value };
  }
  return undefined;
}

/** The proxy variable that applies to an origin of `scheme` (`http:` or `https:`), if any. */
export function proxyVariable(env: Environment, scheme: string): { name: string; value: string } | undefined {
  const names = scheme === 'https:' ? ['https_proxy', 'HTTPS_PROXY', 'http_proxy', 'HTTP_PROXY'] : ['http_proxy', 'HTTP_PROXY'];
  return pick(env, [...names, 'all_proxy', 'ALL_PROXY']);
}

/** `host` in the form NO_PROXY entries are compared in: lower case, IPv6 without brackets. */
function bareHost(host: string): string {
  const lower = host.toLowerCase();
  return lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
}

/** One NO_PROXY entry, split into host and optional port. */
function parseEntry(entry: string): { host: string; port?: number } | undefined {
  let host = entry;
  let port: number | undefined;
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close < 0) return undefined;
    host = entry.slice(1, close);
    const rest = entry.slice(close + 1);
    if (rest) {
      if (!/^:\d+$/.test(rest)) return undefined;
      port = Number(rest.slice(1));
    }
  } else if (entry.split(':').length === 2) {
    // One colon: host:port. Two or more: a bare IPv6 address.
    const [h, p] = entry.split(':');
    if (!/^\d+$/.test(p)) return undefined;
    host = h;
    port = Number(p);
  }
  if (host.startsWith('*.')) host = host.slice(2);
  else if (host.startsWith('.')) host = host.slice(1);
  return host ? { host, ...(port !== undefined && { port }) } : undefined;
}

/** Whether `noProxy` (a NO_PROXY value) says to go direct to `host:port`. */
export function bypassesProxy(noProxy: string | undefined, host: string, port: number): boolean {
  if (!noProxy) return false;
  const target = bareHost(host);
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry === '*') return true;
    // A slash is in no host name: a CIDR range, or nothing we can read.
    if (entry.includes('/')) {
      const range = rangeEntry(entry);
      if (range && inEntry(range, target)) return true;
      continue;
    }
    const parsed = parseEntry(entry);
    if (!parsed) continue;
    if (parsed.port !== undefined && parsed.port !== port) continue;
    // An address compares as an address: `0:0::1` is `::1`, and `10.1.2.3` is `::ffff:10.1.2.3`.
    const address = addressEntry(parsed.host);
    if (address) {
      if (inEntry(address, target)) return true;
      continue;
    }
    if (target === parsed.host) return true;
    // Subdomains, for names only: an IP address has no subdomains.
    if (!target.includes(':') && !/^[\d.]+$/.test(target) && target.endsWith(`.${parsed.host}`)) return true;
  }
  return false;
}

/**
 * The proxy URL the environment gives for `origin`, or `undefined` to go direct (no variable, or
 * NO_PROXY matches). A value without a scheme gets `http://`.
 */
export function proxyFromEnv(env: Environment, origin: URL): { name: string; url: string } | undefined {
  const variable = proxyVariable(env, origin.protocol);
  if (!variable) return undefined;
  const port = origin.port ? Number(origin.port) : origin.protocol === 'https:' ? 443 : 80;
  const noProxy = pick(env, ['no_proxy', 'NO_PROXY'])?.value;
  if (bypassesProxy(noProxy, origin.hostname, port)) return undefined;
  const url = /^[a-z][a-z\d+.-]*:\/\//i.test(variable.value) ? variable.value : `http://${variable.value}`;
  return { name: variable.name, url };
}
