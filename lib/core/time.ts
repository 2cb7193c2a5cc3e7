/**
 * Time options: what a timer can hold. Timers in Node and browsers fire at once for a delay past
 * 2³¹−1 ms, so every time option is checked against that bound.
 */
import { InvalidArgumentError } from './errors.js';
import { shown } from './options.js';

/** The longest delay a timer can wait (about 24.8 days). */
export const MAX_TIMER = 2 ** 31 - 1;

/**
 * A time in ms for option `name`: `fallback` when undefined; otherwise a number ≥ `min` and at
 * most {@link MAX_TIMER}, or `Infinity` ("never") where `infinity` allows it. Throws
 * `RXCONN_INVALID_ARGUMENT` naming the option.
 */
export function checkTime(name: string, value: unknown, fallback: number, min: number, infinity: boolean, above = false): number {
  if (value === undefined) return fallback;
  const ok = typeof value === 'number' && (above ? value > min : value >= min) && (value <= MAX_TIMER || (infinity && value === Infinity));
  if (!ok) {
    throw new InvalidArgumentError(
      `${name} must be a number ${above ? '>' : '≥'} ${min} and at most ${MAX_TIMER} ms (about 24.8 days)${infinity ? ', or Infinity for none' : ''} (got ${shown(value)})`,
    );
  }
  return value;
}
