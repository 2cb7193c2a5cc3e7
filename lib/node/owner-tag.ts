/**
 * A back-reference from a Node emitter (a socket, a stream, node's HTTP/2 session, a ws object)
 * to the rxconn object that owns it. The owner's listeners can then be static methods shared by
 * every instance: Node calls a listener with the emitter as `this`, and the listener finds its
 * owner here. That makes no closure per listener and per connection, and idle connections count
 * by the thousand.
 */
export class OwnerTag<T> {
  readonly #key: symbol;

  /** `name` describes the symbol, for heap snapshots. */
  constructor(name: string) {
    this.#key = Symbol(name);
  }

  /** Marks `emitter` as owned by `owner`. */
  set(emitter: object, owner: T): void {
    (emitter as Record<symbol, T>)[this.#key] = owner;
  }

  /** The owner of an emitter this tag marked. */
  of(emitter: object): T {
    return (emitter as Record<symbol, T>)[this.#key]!;
  }
}
