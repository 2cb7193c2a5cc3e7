/**
 * Proxy URLs: `http://`, `https://` (CONNECT) and `socks5://` (SOCKS5), parsed into one resolved
 * hop, synchronously (no I/O): the Node runtime's option validation runs it at `open()`. Credentials
 * stay in the hop and never reach a message: every message names the proxy by {@link ProxyHop.label}.
 */
import { createSecureContext } from 'node:tls';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { InvalidArgumentError } from '../../core/errors.js';
import type { Intermediary, Protocol } from '../../core/events.js';

/** One proxy given as an object, for what a URL cannot say. */
export interface ProxyConfig {
  /** `http://[user:pass@]host[:port]`, `https://…` or `socks5://[user:pass@]host[:port]`. */
  url: string | URL;
  /**
   * What to speak to an HTTP proxy: `['http1']` (default) or `['http2']` (h2c prior knowledge on
   * `http://`); on `https://` the ALPN offer, in order (`['http2', 'http1']` lets the proxy choose).
   * Not for `socks5://`.
   */
  protocols?: readonly Protocol[];
  /** `node:tls` options for an `https://` proxy (`ca`, `cert`, `key`, `servername`...); verified against the proxy's name by default. */
  tls?: Omit<TlsConnectionOptions, 'host' | 'port' | 'socket' | 'ALPNProtocols'>;
}

/** One proxy: a URL, a `URL`, or a {@link ProxyConfig}. */
export type ProxyEntry = string | URL | ProxyConfig;

/** A proxy of the chain with its defaults applied. */
export interface ProxyHop {
  readonly type: 'connect' | 'socks5';
  /** The host to dial or to tunnel to (an IPv6 address without brackets). */
  readonly host: string;
  readonly port: number;
  /** An `https://` proxy: TLS to the proxy itself. */
  readonly secure: boolean;
  /** CONNECT proxies: the protocols to offer (see {@link ProxyConfig.protocols}). */
  readonly protocols: readonly Protocol[];
  readonly tls: NonNullable<ProxyConfig['tls']>;
  /** From the URL's userinfo, percent-decoded. */
  readonly username?: string;
  readonly password?: string;
  /** `scheme://host:port`, without credentials: how messages name this proxy. */
  readonly label: string;
}

const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443, 'socks5:': 1080, 'socks5h:': 1080 };
const PROTOCOLS: readonly Protocol[] = ['http1', 'http2'];

function fail(message: string): never {
  throw new InvalidArgumentError(message);
}

/** `host:port`, with an IPv6 host in brackets (RFC 9112 authority-form). */
export function authority(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** A text that may hold a URL with credentials, with the userinfo masked, for messages. */
export function redact(text: string): string {
  return text.replace(/\/\/[^/@\s]*@/, '//***@');
}

function decode(part: string, what: string, at: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    fail(`${at}: the ${what} in the proxy URL is not valid percent-encoding`);
  }
}

function resolveProtocols(value: unknown, type: ProxyHop['type'], at: string): readonly Protocol[] {
  if (value === undefined) return type === 'socks5' ? [] : ['http1'];
  if (type === 'socks5') fail(`${at}.protocols is only for http:// and https:// proxies`);
  if (!Array.isArray(value) || value.length === 0 || value.some(p => !PROTOCOLS.includes(p as Protocol)) || new Set(value).size !== value.length) {
    fail(`${at}.protocols must be a non-empty array of distinct 'http1' | 'http2'`);
  }
  return [...(value as Protocol[])];
}

function resolveProxyTls(value: unknown, secure: boolean, at: string): ProxyHop['tls'] {
  if (value === undefined) return {};
  if (!secure) fail(`${at}.tls is only for https:// proxies`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${at}.tls must be an object`);
  for (const key of ['host', 'port', 'socket', 'ALPNProtocols', 'path']) {
    if (key in value) fail(`${at}.tls.${key} cannot be set: it comes from the proxy URL and ${at}.protocols`);
  }
  const tls = value as ProxyHop['tls'];
  if (tls.secureContext !== undefined) return tls;
  // Built once here, as for the origin's options.tls: a bad ca or key is an error of open(), not of every dial.
  try {
    return { ...tls, secureContext: createSecureContext(tls) };
  } catch (error) {
    fail(`${at}.tls is invalid: ${(error as Error).message}`);
  }
}

/**
 * Parses one proxy entry. `at` names it in messages (`options.proxy[1]`). A URL without a scheme
 * is refused here; the environment reader adds `http://` first, as curl does.
 */
export function parseProxy(entry: unknown, at: string): ProxyHop {
  let config: { url?: unknown; protocols?: unknown; tls?: unknown };
  if (typeof entry === 'string' || entry instanceof URL) config = { url: entry };
  else if (typeof entry === 'object' && entry !== null && !Array.isArray(entry)) {
    config = entry as typeof config;
    for (const key of Object.keys(config)) {
      if (!['url', 'protocols', 'tls'].includes(key)) fail(`${at}.${key} is not a known option (known: url, protocols, tls)`);
    }
  } else fail(`${at} must be a proxy URL string, a URL or { url, protocols?, tls? }`);
  const text = config.url instanceof URL ? config.url.href : config.url;
  if (typeof text !== 'string') fail(`${at}.url must be a string or URL`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    fail(`${at} is not a valid proxy URL: ${JSON.stringify(redact(text))}`);
  }
  const scheme = url.protocol;
  if (!(scheme in DEFAULT_PORTS)) {
    fail(`${at} must use http:, https: or socks5: (got ${JSON.stringify(scheme)}); a URL without a scheme is not accepted here`);
  }
  if (!url.hostname) fail(`${at} has no host`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) fail(`${at} must be scheme://[user:pass@]host[:port] only`);
  const type = scheme === 'http:' || scheme === 'https:' ? 'connect' : 'socks5';
  const secure = scheme === 'https:';
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port ? Number(url.port) : DEFAULT_PORTS[scheme];
  const username = url.username ? decode(url.username, 'username', at) : undefined;
  const password = url.password ? decode(url.password, 'password', at) : undefined;
  if (password !== undefined && username === undefined) fail(`${at} has a password but no username`);
  if (type === 'socks5') {
    // RFC 1929: one length byte each.
    if (username !== undefined && new TextEncoder().encode(username).length > 255) fail(`${at}: a SOCKS5 username is at most 255 bytes`);
    if (password !== undefined && new TextEncoder().encode(password).length > 255) fail(`${at}: a SOCKS5 password is at most 255 bytes`);
  }
  for (const [what, value] of [['username', username], ['password', password]] as const) {
    if (value !== undefined && [...value].some(c => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) fail(`${at}: the ${what} has a control character`);
  }
  return {
    type,
    host,
    port,
    secure,
    protocols: resolveProtocols(config.protocols, type, at),
    tls: resolveProxyTls(config.tls, secure, at),
    ...(username !== undefined && { username }),
    ...(password !== undefined && { password }),
    label: `${scheme === 'socks5h:' ? 'socks5:' : scheme}//${authority(host, port)}`,
  };
}

/** How `info()` and the `connected` event show a hop, once its protocol is known. */
export function intermediary(hop: ProxyHop, protocol: Intermediary['protocol']): Intermediary {
  return { type: hop.type, host: hop.host, port: hop.port, transport: hop.secure ? 'tls' : 'tcp', protocol };
}
