/**
 * The rotation rule (lib/core/rotation.ts), as pure logic: which planned closes redial at once
 * without spending the retry budget, and which are failures with backoff.
 */
import { describe, expect, it } from 'vitest';
import { MAX_HASTY_ROTATIONS, RotationRule } from '../lib/core/rotation.js';

const NO_ERROR = { errorCode: 0, lastStreamId: 1, debugData: '' };

describe('the rotation rule', () => {
  it('a planned close of a session that served streams or lived PROVEN_AFTER ms is a rotation, however many in a row', () => {
    const rule = new RotationRule();
    for (let i = 0; i < 10; i++) {
      expect(rule.isRotation(undefined, false, true)).toBe(true);
      expect(rule.isRotation(NO_ERROR, true, false)).toBe(true);
    }
  });

  it(`allows ${MAX_HASTY_ROTATIONS} hasty ones in a row (neither served nor lived), then they are failures`, () => {
    const rule = new RotationRule();
    const hasty = Array.from({ length: MAX_HASTY_ROTATIONS + 2 }, () => rule.isRotation(undefined, false, false));
    expect(hasty).toEqual([...Array<boolean>(MAX_HASTY_ROTATIONS).fill(true), false, false]);
  });

  it('starts the hasty count over after a session proved itself, or after a rotation that served', () => {
    const rule = new RotationRule();
    for (let i = 0; i < MAX_HASTY_ROTATIONS; i++) rule.isRotation(undefined, false, false);
    rule.proved();
    expect(rule.isRotation(undefined, false, false)).toBe(true);
    for (let i = 0; i < MAX_HASTY_ROTATIONS; i++) rule.isRotation(undefined, false, false);
    expect(rule.isRotation(undefined, false, true)).toBe(true);
    expect(rule.isRotation(undefined, false, false)).toBe(true);
  });

  it('a GOAWAY with an error code is never a rotation', () => {
    const rule = new RotationRule();
    expect(rule.isRotation({ errorCode: 2, lastStreamId: 9, debugData: '' }, true, true)).toBe(false);
  });
});
