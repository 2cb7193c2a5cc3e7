/**
 * The probe exchange: one small request whose answer (any HTTP status, unless `probe.isUp` says
 * otherwise) is the evidence that the origin is reachable. `navigator.onLine` is never evidence.
 */
import { ConnectionDownError, describe } from '../core/errors.js';
import type { Protocol } from '../core/events.js';
import type { ResolvedBrowserOptions } from './options.js';

/** What a successful probe learned. */
export interface ProbeResult {
  readonly status: number;
  /** From Resource Timing (`nextHopProtocol`): `h2`/`h3` → `http2`; HTTP/1.x or not visible → `http1`. */
  readonly protocol: Protocol;
}

/**
 * The protocol the browser used for `url`, when the page may see it: same origin, or a
 * cross-origin response with `Timing-Allow-Origin`. Otherwise the string is empty.
 */
async function protocolOf(url: string): Promise<Protocol> {
  const hop = (): string => {
    const entries = globalThis.performance?.getEntriesByName?.(url, 'resource') ?? [];
    return (entries[entries.length - 1] as PerformanceResourceTiming | undefined)?.nextHopProtocol ?? '';
  };
  // The entry may be queued a task after the body ends.
  const seen = hop() || (await new Promise<string>(resolve => setTimeout(() => resolve(hop()), 0)));
  return seen === 'h2' || seen === 'h3' ? 'http2' : 'http1';
}

/**
 * Sends one probe. Resolves when a response head arrives that counts as up; rejects with
 * `RXCONN_CONNECTION_DOWN` when the network fails or the status counts as down; rejects with the
 * abort reason when `signal` aborts.
 */
export async function probeOnce(options: ResolvedBrowserOptions, signal: AbortSignal): Promise<ProbeResult> {
  const { probe, common } = options;
  const url = common.origin + probe.path;
  let response: Response;
  try {
    response = await fetch(url, { method: probe.method, cache: 'no-store', signal, headers: Object.entries(common.headers) });
  } catch (error) {
    if (signal.aborted) throw error;
    throw new ConnectionDownError(`the probe ${probe.method} ${probe.path} could not reach ${common.origin}: ${describe(error)}`, { cause: error });
  }
  if (!probe.isUp(response.status)) {
    void response.body?.cancel().catch(() => {});
    throw new ConnectionDownError(`the probe ${probe.method} ${probe.path} got status ${response.status}, which options.probe.isUp counts as down`);
  }
  // The Resource Timing entry is written once the body has ended (a HEAD's at once).
  await response.arrayBuffer().catch(() => undefined);
  return { status: response.status, protocol: await protocolOf(url) };
}
