/**
 * Subjects that exist only while watched: their owner makes one for the first subscriber and
 * lets it go when the last one leaves (the next subscriber gets a new one). What nobody watches
 * then costs an idle connection nothing, rather than an emptied Subject kept for hours.
 */
import type { Subject, Subscriber } from 'rxjs';

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
