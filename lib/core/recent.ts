/**
 * The latest few entries of a map, for the small caches of values that many connections opened
 * alike share (their resolved options): setting an entry makes it the newest, and one past `size`
 * lets the oldest go.
 */
export class Recent<K, V> {
  readonly #entries = new Map<K, V>();

  constructor(readonly size: number) {}

  get(key: K): V | undefined {
    return this.#entries.get(key);
  }

  /** Keeps `value` as the newest entry of `key`; returns it. */
  set(key: K, value: V): V {
    const entries = this.#entries;
    entries.delete(key);
    if (entries.size >= this.size) entries.delete(entries.keys().next().value as K);
    entries.set(key, value);
    return value;
  }
}
