/**
 * Machine-wide CPU time from /proc/stat, to see how much CPU other processes took during a
 * measurement (the bench shares its 2 cores with whatever else runs). Linux only; elsewhere
 * every reading is NaN and nothing is flagged.
 */
import { readFileSync } from 'node:fs';

/** Busy CPU time of all cores so far, in ms (user + nice + system + irq + softirq + steal). */
export function busyMs(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    // USER_HZ is 100 on every Linux we run on: one jiffy is 10 ms.
    return (user + nice + system + irq + softirq + steal) * 10;
  } catch {
    return Number.NaN;
  }
}

/**
 * Waits, up to `maxMs`, for a 50 ms window in which the machine is busy less than `threshold`
 * cores (this process and the idle server use next to nothing between measurements). Resolves
 * with the time waited.
 */
export async function waitForQuiet(threshold: number, maxMs: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < maxMs) {
    const b0 = busyMs();
    const w0 = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const busy = (busyMs() - b0) / Math.max(1, Date.now() - w0);
    if (!(busy >= threshold)) break; // NaN (no /proc) counts as quiet
  }
  return Date.now() - t0;
}
