/**
 * Graceful shutdown's wait (lib/core/drain-wait.ts) on RxJS TestScheduler: the `finalize` runs
 * when the active-stream count reaches zero, or at the bound, exactly once.
 */
import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { waitForDrain } from '../lib/core/drain-wait.js';

function run(limit: number, script: (tick: (active: number, at: number) => void) => void, initial = 2): { doneAt: number | undefined; timedOutAt: number | undefined; doneCount: number } {
  const scheduler = new TestScheduler(() => undefined);
  const out = { doneAt: undefined as number | undefined, timedOutAt: undefined as number | undefined, doneCount: 0 };
  scheduler.run(() => {
    let active = initial;
    const progress = new Subject<void>();
    waitForDrain({
      progress,
      drained: () => active === 0,
      limit,
      scheduler,
      timedOut: () => (out.timedOutAt = scheduler.now()),
      done: () => {
        out.doneCount++;
        out.doneAt = scheduler.now();
      },
    });
    script((count, at) => scheduler.schedule(() => {
      active = count;
      progress.next();
    }, at));
  });
  return out;
}

describe('the shutdown wait', () => {
  it('finishes when the last stream ends, not at the first change', () => {
    const out = run(1_000, tick => {
      tick(1, 10);
      tick(0, 30);
      tick(0, 40);
    });
    expect(out).toEqual({ doneAt: 30, timedOutAt: undefined, doneCount: 1 });
  });

  it('finishes at once when nothing is active when it starts', () => {
    const out = run(1_000, () => undefined, 0);
    expect(out).toEqual({ doneAt: 0, timedOutAt: undefined, doneCount: 1 });
  });

  it('finishes at its bound, having said so first, when streams are still active', () => {
    const out = run(100, tick => tick(1, 50));
    expect(out).toEqual({ doneAt: 100, timedOutAt: 100, doneCount: 1 });
  });

  it('has no bound with Infinity', () => {
    const out = run(Infinity, tick => tick(0, 5_000_000));
    expect(out).toEqual({ doneAt: 5_000_000, timedOutAt: undefined, doneCount: 1 });
  });
});
