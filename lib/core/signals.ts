/**
 * What a connection shows while it lives: its state and its lifecycle events, to whoever watches
 * them. The Subjects exist only while watched (see `watched.ts`): an idle connection nobody
 * watches holds none. `Lifecycle` extends it; `Connection` hands its watchers here.
 */
import { BehaviorSubject, Subject } from 'rxjs';
import type { Subscriber, TeardownLogic } from 'rxjs';
import type { RxconnError } from './errors.js';
import type { ConnectionEvent, ConnectionState } from './events.js';
import { watch } from './watched.js';

const TERMINAL: ReadonlySet<ConnectionState> = new Set(['closed', 'failed']);

export class Signals {
  /** Who watches the events: made when first watched, let go when nobody does. */
  #events: Subject<ConnectionEvent> | undefined;
  /** Everything has ended: the events completed (or errored with `error`), and the state completed. */
  #eventsEnd: { readonly error: RxconnError | undefined } | undefined;
  #state: ConnectionState = 'connecting';
  /** Who watches the state (`state$`), as {@link #events}: most connections are only read. */
  #stateWatch: BehaviorSubject<ConnectionState> | undefined;

  /** The current state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** The state, then its changes, until everything is closed (after that: the final state, and complete). */
  watchState(subscriber: Subscriber<ConnectionState>): TeardownLogic {
    if (this.#eventsEnd) {
      subscriber.next(this.#state);
      subscriber.complete();
      return undefined;
    }
    return watch((this.#stateWatch ??= new BehaviorSubject(this.#state)), subscriber, subject => {
      if (this.#stateWatch === subject) this.#stateWatch = undefined;
    });
  }

  /** The events from now on, until the connection is over (after that: its end, at once). */
  watchEvents(subscriber: Subscriber<ConnectionEvent>): TeardownLogic {
    const end = this.#eventsEnd;
    if (end) {
      if (end.error) subscriber.error(end.error);
      else subscriber.complete();
      return undefined;
    }
    return watch((this.#events ??= new Subject()), subscriber, subject => {
      if (this.#events === subject) this.#events = undefined;
    });
  }

  protected emit(event: ConnectionEvent): void {
    this.#events?.next(event);
  }

  /** Moves to `state`; `closed` and `failed` are final. */
  protected setState(state: ConnectionState): void {
    if (this.#state === state || TERMINAL.has(this.#state)) return;
    this.#state = state;
    this.#stateWatch?.next(state);
  }

  /** Everything is over: the events complete (or error with `failure`), and so does the state. */
  protected endSignals(failure: RxconnError | undefined): void {
    const events = this.#events;
    this.#events = undefined;
    this.#eventsEnd = { error: failure };
    if (failure) events?.error(failure);
    else events?.complete();
    const state = this.#stateWatch;
    this.#stateWatch = undefined;
    state?.complete();
  }
}
