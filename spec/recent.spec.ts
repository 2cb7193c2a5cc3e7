/**
 * The small cache of latest entries that connections opened alike share their options through.
 */
import { describe, expect, it } from 'vitest';
import { Recent } from '../lib/core/recent.js';

describe('Recent', () => {
  it('keeps the latest `size` entries: one more lets the oldest go, and setting a kept key makes it the newest', () => {
    const recent = new Recent<string, number>(2);
    expect(recent.set('a', 1)).toBe(1);
    recent.set('b', 2);
    recent.set('a', 3); // a is now the newest: b goes next
    recent.set('c', 4);
    expect([recent.get('a'), recent.get('b'), recent.get('c')]).toEqual([3, undefined, 4]);
  });
});
