/**
 * Idle HTTP/1.1 keep-alive sockets: when the session retires one itself (before the server's
 * `Keep-Alive: timeout=N` hint expires), and when the server closing one counts as a planned
 * close rather than an outage. Pure: the session owns the timer and the close.
 */
import { MAX_TIMER } from '../core/time.js';

/**
 * An idle socket is retired this many ms before the server's `Keep-Alive: timeout=N` hint
 * expires (at N s minus the margin, and never later than half of N), so that a request is never
 * written onto a socket the server is closing.
 */
export const KEEP_ALIVE_MARGIN = 1_000;
/** An idle socket the server closes counts as a planned close once it served a response or was open this long, in ms. */
export const IDLE_CLOSE_PLANNED_AFTER = 1_000;

const KEEP_ALIVE_TIMEOUT = /(?:^|[,;\s])timeout\s*=\s*(\d+)/i;

/** The idle time, in ms, after which a socket answered with `keep-alive: <value>` is retired; undefined without a usable hint (or one longer than a timer holds). */
export function retireAfter(value: string | string[] | undefined): number | undefined {
  const match = KEEP_ALIVE_TIMEOUT.exec(Array.isArray(value) ? value.join(', ') : (value ?? ''));
  if (!match) return undefined;
  const hint = Number(match[1]) * 1000;
  const delay = Math.max(hint - KEEP_ALIVE_MARGIN, hint / 2);
  return delay <= MAX_TIMER ? delay : undefined;
}
