/**
 * Subjects that exist only while watched: their owner makes one for the first subscriber and
 * lets it go when the last one leaves (the next subscriber gets a new one). What nobody watches
 * then costs an idle connection nothing, rather than an emptied Subject kept for hours. And the
 * Observable an owner hands out to watch it, without a closure of its own.
 */
import { Observable } from 'rxjs';
import type { Subject, Subscriber, TeardownLogic } from 'rxjs';

/**
 * Subscribes `subscriber` to `subject`; once the subject's last subscriber has left, calls
 * `unwatched(subject)` so that its owner lets it go. Returns the teardown.
 */
export function watch<T>(subject: Subject<T>, subscriber: Subscriber<T>, unwatched: (subject: Subject<T>) => void): () => void {
  const subscription = subject.subscribe(subscriber);
  return () => {
    subscription.unsubscribe();
    if (!subject.observed) unwatched(subject);
  };
}

/**
 * The subscribe function of every {@link OwnedObservable}, set in its static block (where its
 * private fields can be read): RxJS calls it as a method of the Observable.
 */
let subscribeOwned: (this: Observable<unknown>, subscriber: Subscriber<unknown>) => TeardownLogic;

/**
 * An Observable that hands each subscriber to `subscribe(owner, subscriber)`: an owner's view
 * (a connection's `state$`) without a closure and its scope for each owner. Pass a function
 * shared by every owner.
 */
export class OwnedObservable<O, T> extends Observable<T> {
  static {
    subscribeOwned = function (this: Observable<unknown>, subscriber: Subscriber<unknown>): TeardownLogic {
      const self = this as OwnedObservable<unknown, unknown>;
      return self.#subscribe(self.#owner, subscriber);
    };
  }

  readonly #owner: O;
  readonly #subscribe: (owner: O, subscriber: Subscriber<T>) => TeardownLogic;

  constructor(owner: O, subscribe: (owner: O, subscriber: Subscriber<T>) => TeardownLogic) {
    super(subscribeOwned);
    this.#owner = owner;
    this.#subscribe = subscribe;
  }
}
