/**
 * The keepalive clock on its own (lib/node/ping-clock.ts), with a scripted port instead of a
 * connection: clocks of one duration share a node timer, and each must still fire at its own
 * time, stop cleanly, and leave no timer behind. Real timers with tiny values.
 */
import { describe, expect, it } from 'vitest';
import { PingClock } from '../lib/node/ping-clock.js';
import type { PingPort } from '../lib/node/ping-clock.js';

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms));

/** Resolves once `done()` holds, looking every 2 ms. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await sleep(2);
}

/** The node timers alive now. */
const timers = (): number => process.getActiveResourcesInfo().filter(resource => resource === 'Timeout').length;

/** A port that records what its clock asks, answering `sendPing` with `sent`. */
function port(sent = true): PingPort & { pings: number[]; timeouts: number[] } {
  const pings: number[] = [];
  const timeouts: number[] = [];
  return {
    pings,
    timeouts,
    sendPing: () => (pings.push(performance.now()), sent),
    pingTimedOut: () => void timeouts.push(performance.now()),
  };
}

describe('PingClock', () => {
  it('pings after interval, then, unanswered, times out once after timeout (interval and timeout equal: one list)', async () => {
    const before = timers();
    const owner = port();
    const started = performance.now();
    new PingClock(10, 10, owner);
    await until(() => owner.timeouts.length > 0);
    await sleep(20);
    expect(owner.pings).toHaveLength(1);
    expect(owner.timeouts).toHaveLength(1);
    expect(owner.pings[0]! - started).toBeGreaterThanOrEqual(9);
    expect(owner.timeouts[0]! - owner.pings[0]!).toBeGreaterThanOrEqual(9);
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it('pings again interval ms after each answer', async () => {
    const before = timers();
    const owner = port();
    const clock = new PingClock(10, 1_000, owner);
    for (let n = 1; n <= 3; n++) {
      await until(() => owner.pings.length >= n);
      clock.answered();
    }
    expect(owner.pings[2]! - owner.pings[1]!).toBeGreaterThanOrEqual(9);
    clock.stop();
    expect(owner.timeouts).toEqual([]);
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it('shares one timer among the clocks of a duration; a clock stopped among them leaves the others on time; the last stop clears the timer', async () => {
    const before = timers();
    const owners = Array.from({ length: 50 }, () => port());
    const clocks = owners.map(owner => new PingClock(20, 1_000, owner));
    // Fifty clocks, one timer (others of the test runner may come and go meanwhile: at most one more).
    expect(timers() - before).toBeLessThanOrEqual(1);
    clocks[0]!.stop();
    clocks[25]!.stop();
    await until(() => owners[49]!.pings.length > 0);
    await sleep(5);
    expect(owners.map(owner => owner.pings.length)).toEqual(owners.map((_, i) => (i === 0 || i === 25 ? 0 : 1)));
    for (const clock of clocks) clock.stop();
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it('a clock started later fires later: not with an earlier one of the same interval', async () => {
    const early = port();
    const late = port();
    const clocks = [new PingClock(30, 1_000, early)];
    await sleep(15);
    const started = performance.now();
    clocks.push(new PingClock(30, 1_000, late));
    await until(() => late.pings.length > 0);
    expect(early.pings).toHaveLength(1);
    expect(late.pings[0]! - started).toBeGreaterThanOrEqual(29);
    for (const clock of clocks) clock.stop();
  });

  it('stops quietly when the ping cannot be sent', async () => {
    const before = timers();
    const owner = port(false);
    new PingClock(5, 5, owner);
    await until(() => owner.pings.length > 0);
    await sleep(20);
    expect(owner.pings).toHaveLength(1);
    expect(owner.timeouts).toEqual([]);
    expect(timers()).toBeLessThanOrEqual(before);
  });
});
