/**
 * `options.tls` in Node: validated at `open()` and turned into one secure context reused by every
 * dial.
 */
import { createSecureContext } from 'node:tls';
import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { InvalidArgumentError } from '../core/errors.js';
import { shown } from '../core/options.js';

/** The `node:tls` connect options rxconn accepts (host, port, socket and ALPN come from the connection). */
export type TlsOptions = Omit<TlsConnectionOptions, 'host' | 'port' | 'socket' | 'ALPNProtocols'>;

const TLS_CHECKS: ReadonlyArray<readonly [string, string]> = [
  ['servername', 'string'],
  ['rejectUnauthorized', 'boolean'],
  ['checkServerIdentity', 'function'],
  ['session', 'object'],
];

function fail(message: string): never {
  throw new InvalidArgumentError(message);
}

/**
 * Validates `options.tls` now, so a mistake is an error of `open()` rather than a failed dial:
 * the fields `tls.connect()` checks late, and the secure context (ca, cert, key, ciphers,
 * versions...), built once here and reused by every dial.
 */
/** No TLS options: one shared object. */
const NONE: TlsOptions = Object.freeze({});

export function resolveTls(value: unknown): TlsOptions {
  if (value === undefined) return NONE;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`options.tls must be an object (got ${shown(value)})`);
  const tls = value as Record<string, unknown>;
  for (const key of ['host', 'port', 'socket', 'ALPNProtocols', 'path']) {
    if (key in tls) fail(`options.tls.${key} cannot be set: it comes from the origin and options.protocols`);
  }
  for (const [key, type] of TLS_CHECKS) {
    if (tls[key] !== undefined && typeof tls[key] !== type) fail(`options.tls.${key} must be a ${type} (got ${shown(tls[key])})`);
  }
  if (tls.secureContext !== undefined) return tls as TlsOptions;
  try {
    return { ...(tls as TlsOptions), secureContext: createSecureContext(tls as TlsOptions) };
  } catch (error) {
    fail(`options.tls is invalid: ${(error as Error).message}`);
  }
}
