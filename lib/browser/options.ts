/**
 * `open()`'s options in a browser: the connection options that have a meaning there, plus the
 * probe that is the evidence of `connected`. What a page cannot do is refused by `open()`.
 */
import { InvalidArgumentError, UnsupportedError } from '../core/errors.js';
import type { ConnectionOptions } from '../core/options.js';
import { resolveOptions } from '../core/options.js';
import type { ResolvedOptions } from '../core/options.js';
import type { Runtime } from '../core/runtime.js';
import { isForbiddenHeader } from './forbidden.js';

/** The request that proves the origin reachable: at connect, and after `keepalive.interval` without traffic. */
export interface ProbeOptions {
  /** Path (and query) of the probe. Default `/`. */
  path?: string;
  /** Method of the probe. Default `HEAD`. */
  method?: 'HEAD' | 'GET' | 'OPTIONS';
  /**
   * Whether a response with this status proves the origin up. Default: any status does (an HTTP
   * error is a response); return `false` for a gateway's 502/503/504 to count them as down.
   */
  isUp?: (status: number) => boolean;
}

/** Options of the browser `open()`: those of Node's, without what a page cannot control. */
export interface BrowserConnectionOptions extends Omit<ConnectionOptions, 'tls' | 'protocols' | 'maxHeaderSize'> {
  /** The probe exchange. */
  probe?: ProbeOptions;
}

/** The probe, resolved. */
export type ProbeSettings = Required<ProbeOptions>;

/** Resolved browser options: the core's, and the probe. */
export interface ResolvedBrowserOptions {
  readonly common: ResolvedOptions;
  readonly probe: ProbeSettings;
}

/** Options of Node's `open()` that a page cannot honour, and why. */
const NODE_ONLY: ReadonlyArray<readonly [string, string]> = [
  ['protocols', 'the browser picks HTTP/1.1, HTTP/2 or HTTP/3 by itself (ALPN); a page cannot force one'],
  ['maxHeaderSize', 'the browser parses response headers itself'],
  ['proxy', 'the browser chooses its proxy itself (system settings, PAC)'],
  ['socketPath', 'a page cannot open a Unix socket'],
];

const METHODS = new Set(['HEAD', 'GET', 'OPTIONS']);

function resolveProbe(value: unknown): ProbeSettings {
  if (value === undefined) return { path: '/', method: 'HEAD', isUp: () => true };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidArgumentError('options.probe must be an object');
  const { path = '/', method = 'HEAD', isUp = () => true, ...rest } = value as ProbeOptions;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new InvalidArgumentError(`options.probe has an unknown key ${JSON.stringify(unknown[0])} (known: path, method, isUp)`);
  if (typeof path !== 'string' || !path.startsWith('/')) throw new InvalidArgumentError(`options.probe.path must be a string starting with "/" (got ${JSON.stringify(path)})`);
  if (!METHODS.has(method)) throw new InvalidArgumentError(`options.probe.method must be HEAD, GET or OPTIONS (got ${JSON.stringify(method)})`);
  if (typeof isUp !== 'function') throw new InvalidArgumentError('options.probe.isUp must be a function');
  return { path, method, isUp };
}

/**
 * Validates the browser `open()`'s arguments. Throws `RXCONN_UNSUPPORTED` for an option a page
 * cannot honour (naming it and why), `RXCONN_INVALID_ARGUMENT` for a bad value.
 */
export function resolveBrowserOptions(origin: unknown, options: unknown, runtimeFor: (probe: ProbeSettings) => Runtime): ResolvedBrowserOptions {
  const raw = options === undefined ? {} : options;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidArgumentError('options must be an object');
  const { probe, ...rest } = raw as Record<string, unknown>;
  for (const [key, why] of NODE_ONLY) {
    if (rest[key] !== undefined) throw new UnsupportedError(`options.${key} cannot be used in a browser: ${why}`);
  }
  const settings = resolveProbe(probe);
  const common = resolveOptions(origin, rest, runtimeFor(settings));
  for (const name of Object.keys(common.headers)) {
    if (isForbiddenHeader(name.toLowerCase())) throw new UnsupportedError(`options.headers: ${JSON.stringify(name)} cannot be set from a browser: the browser controls it`);
  }
  return { common, probe: settings };
}
