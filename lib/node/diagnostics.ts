/**
 * rxconn's instrumentation channels on Node's `diagnostics_channel` (see `lib/core/diagnostics.ts`
 * for the names and payloads). Node isolates subscribers: one that throws does not stop the
 * publish; its exception is rethrown on a later tick as an `uncaughtException`.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { DiagnosticsPublisher } from '../core/diagnostics.js';

export const nodeDiagnostics: DiagnosticsPublisher = {
  channel: name => diagnosticsChannel.channel(name),
};
