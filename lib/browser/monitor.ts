/**
 * What the parts of one browser connection share: the current episode (to report a loss found
 * elsewhere, such as a WebSocket's abnormal close) and the holds that a graceful shutdown waits
 * for besides fetch streams (an open WebSocket).
 */
import type { RxconnError } from '../core/errors.js';

/** The part of a session the monitor may end. */
export interface Losable {
  lose(error: RxconnError): void;
}

export class Monitor {
  /** The session of the current episode, while one is up. */
  current: Losable | undefined;
  #holds = 0;
  readonly #released = new Set<() => void>();

  /** How many holds are taken. */
  get holds(): number {
    return this.#holds;
  }

  /** Takes a hold; the returned function gives it back (once). */
  hold(): () => void {
    this.#holds++;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.#holds--;
      for (const listener of [...this.#released]) listener();
    };
  }

  /** Calls `listener` each time a hold is given back; returns the unsubscribe. */
  onRelease(listener: () => void): () => void {
    this.#released.add(listener);
    return () => this.#released.delete(listener);
  }

  /** Evidence of a loss from outside the current session: it ends. */
  lost(error: RxconnError): void {
    this.current?.lose(error);
  }
}
