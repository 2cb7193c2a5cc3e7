/**
 * The pull view itself, without sockets: `pullIterable` over a Subject pauses its gate when a
 * value waits and the loop is not pulling, resumes once the queue is empty, releases the pause
 * when the loop leaves or the source ends, and throws the source's error; `Flow` carries a pause
 * to the stream it is bound to.
 */
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Flow } from '../lib/core/flow.js';
import { pullIterable } from '../lib/core/pull.js';

function gate(): { log: string[]; pause(): void; resume(): void } {
  const log: string[] = [];
  return { log, pause: () => log.push('pause'), resume: () => log.push('resume') };
}

describe('pullIterable', () => {
  it('pauses once while values wait, resumes when the queue is empty, and hands values over in order', async () => {
    const source = new Subject<number>();
    const g = gate();
    const iterator = pullIterable(source, g)[Symbol.asyncIterator]();
    const first = iterator.next();
    source.next(1); // a waiting pull: handed over, no pause
    expect(await first).toEqual({ value: 1, done: false });
    source.next(2);
    source.next(3);
    expect(g.log).toEqual(['pause']);
    expect(await iterator.next()).toEqual({ value: 2, done: false });
    expect(g.log).toEqual(['pause']);
    expect(await iterator.next()).toEqual({ value: 3, done: false });
    expect(g.log).toEqual(['pause', 'resume']);
    source.complete();
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
    expect(source.observed).toBe(false);
  });

  it('delivers what was queued before the end, and lifts the pause when the source ends', async () => {
    const source = new Subject<number>();
    const g = gate();
    const iterator = pullIterable(source, g)[Symbol.asyncIterator]();
    source.next(1);
    source.complete();
    expect(g.log).toEqual(['pause', 'resume']);
    expect(await iterator.next()).toEqual({ value: 1, done: false });
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it('throws the source error after the queued values', async () => {
    const source = new Subject<number>();
    const iterator = pullIterable(source, gate())[Symbol.asyncIterator]();
    source.next(1);
    source.error(new Error('boom'));
    expect(await iterator.next()).toEqual({ value: 1, done: false });
    await expect(iterator.next()).rejects.toThrow('boom');
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });

  it('return() unsubscribes and lifts the pause', async () => {
    const source = new Subject<number>();
    const g = gate();
    const iterator = pullIterable(source, g)[Symbol.asyncIterator]();
    source.next(1);
    expect(await iterator.return?.()).toEqual({ value: undefined, done: true });
    expect(g.log).toEqual(['pause', 'resume']);
    expect(source.observed).toBe(false);
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
  });
});

describe('Flow', () => {
  it('applies a pause asked for before binding, forwards later calls, and forgets an unbound stream', () => {
    const flow = new Flow();
    flow.pause();
    flow.pause();
    expect(flow.paused).toBe(true);
    const g = gate();
    const unbind = flow.bind(g);
    expect(g.log).toEqual(['pause']);
    flow.resume();
    flow.resume();
    expect(g.log).toEqual(['pause', 'resume']);
    unbind();
    flow.pause();
    expect(g.log).toEqual(['pause', 'resume']);
    expect(flow.paused).toBe(true);
  });
});
