/**
 * `open()`'s options on Node: the runtime-free validation of lib/core/options.ts, plus the TLS
 * material checked once by `tls.createSecureContext` (a bad certificate is an error of `open()`,
 * not a failed dial) and reused by every dial.
 */
import { createSecureContext } from 'node:tls';
import type { SecureContextOptions } from 'node:tls';
import { resolveOptions as resolveCommon } from '../core/options.js';
import type { ResolvedOptions } from '../core/options.js';

/** Validates `open()`'s arguments for Node and applies the defaults. Throws `RXCONN_INVALID_ARGUMENT`. */
export function resolveOptions(origin: unknown, options: unknown): ResolvedOptions {
  return resolveCommon(origin, options, tls => createSecureContext(tls as SecureContextOptions));
}
