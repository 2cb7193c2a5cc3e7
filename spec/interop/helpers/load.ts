/**
 * A steady request load on one connection, for the rotation and restart scenarios: `concurrency`
 * workers, each sending one request at a time (GETs, and every `postEvery`-th a POST with a text
 * body), every request with a unique id in {@link ID_HEADER} so that the upstream's record tells
 * which ones the server processed. Every outcome is kept; nothing is left dangling.
 */
import { lastValueFrom } from 'rxjs';
import { text } from '../../../lib/index.js';
import type { Connection } from '../../../lib/index.js';
import { codeOf } from '../../faults/helpers/outcomes.js';
import { ID_HEADER } from './upstream.js';

/** How one request of the load ended. */
export interface LoadOutcome {
  readonly id: string;
  readonly method: 'GET' | 'POST';
  /** `'ok'` for the expected answer, `'wrong'` for another one, else the error's rxconn code. */
  readonly result: string;
  /** When it was subscribed and when it ended (Date.now()). */
  readonly start: number;
  readonly end: number;
}

export interface LoadOptions {
  /** Prefix of the request ids (unique per load). */
  readonly name: string;
  readonly concurrency: number;
  /** Stop after this many requests (default: only when {@link Load.stop} is called). */
  readonly total?: number;
  /** Every n-th request is a POST (default 4); 0 for GETs only. */
  readonly postEvery?: number;
}

export class Load {
  readonly outcomes: LoadOutcome[] = [];
  #sent = 0;
  #stopped = false;
  readonly #done: Promise<void>;
  readonly #progress = new Set<() => void>();

  constructor(
    readonly conn: Connection,
    readonly options: LoadOptions,
  ) {
    this.#done = Promise.all(Array.from({ length: options.concurrency }, () => this.#worker())).then(() => undefined);
  }

  /** Requests subscribed so far. */
  get sent(): number {
    return this.#sent;
  }

  /** Requests ended so far (answered or errored). */
  get ended(): number {
    return this.outcomes.length;
  }

  /** Resolves once `count` more requests ended from now on. */
  progressed(count: number): Promise<void> {
    const target = this.ended + count;
    return new Promise(resolve => {
      const check = (): void => {
        if (this.ended < target) return;
        this.#progress.delete(check);
        resolve();
      };
      this.#progress.add(check);
    });
  }

  /** No new request after this; resolves once every request sent has ended. */
  stop(): Promise<void> {
    this.#stopped = true;
    return this.#done;
  }

  /** Resolves when every request of a bounded load ended. */
  finished(): Promise<void> {
    return this.#done;
  }

  /** Count of each result (`ok`, `wrong`, error codes). */
  tally(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const { result } of this.outcomes) counts[result] = (counts[result] ?? 0) + 1;
    return counts;
  }

  async #worker(): Promise<void> {
    const { name, total = Infinity, postEvery = 4 } = this.options;
    while (!this.#stopped && this.#sent < total) {
      const n = this.#sent++;
      const id = `${name}-${n}`;
      const method = postEvery > 0 && n % postEvery === postEvery - 1 ? 'POST' : 'GET';
      const payload = method === 'POST' ? 'p'.repeat(1 + (n % 4096)) : '';
      const headers = { [ID_HEADER]: id };
      const request$ = method === 'POST' ? this.conn.post(`/up/${id}`, payload, { headers }) : this.conn.get(`/up/${id}`, { headers });
      const expected = `${method} ${id} ${payload.length}`;
      let result: string;
      const start = Date.now();
      try {
        const reply = await lastValueFrom(request$.pipe(text()));
        result = reply.status === 200 && reply.body === expected ? 'ok' : 'wrong';
      } catch (error) {
        result = codeOf(error);
      }
      this.outcomes.push({ id, method, result, start, end: Date.now() });
      for (const check of [...this.#progress]) check();
    }
  }
}

/** The requests that errored although the upstream never saw them, except those whose error says so. */
export function lost(outcomes: readonly LoadOutcome[], seen: ReadonlyMap<string, number>): LoadOutcome[] {
  // RXCONN_NO_RESPONSE tells the caller exactly that: written, never answered, perhaps not processed.
  return outcomes.filter(o => o.result !== 'ok' && !seen.has(o.id) && o.result !== 'RXCONN_NO_RESPONSE');
}
