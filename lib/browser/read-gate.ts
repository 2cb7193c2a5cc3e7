/**
 * The browser's side of a request's `Flow`: while paused, the fetch body reader is not read, so
 * the browser's stream buffers fill and its own flow control (TCP, HTTP/2 windows) slows the
 * server. The buffers are the browser's: how much it reads ahead is out of our reach.
 */
import type { StreamFlow } from '../core/session.js';

export class ReadGate implements StreamFlow {
  #wait: Promise<void> | undefined;
  #open: (() => void) | undefined;

  pause(): void {
    if (this.#wait) return;
    this.#wait = new Promise<void>(resolve => (this.#open = resolve));
  }

  resume(): void {
    const open = this.#open;
    this.#wait = undefined;
    this.#open = undefined;
    open?.();
  }

  /** `undefined` while not paused; else a promise that resolves on `resume` (an abort resumes too: see fetch-session). */
  passed(): Promise<void> | undefined {
    return this.#wait;
  }
}
