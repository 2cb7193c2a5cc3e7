/**
 * Request bodies for tests that need the client to keep writing.
 */
import { Observable } from 'rxjs';

/** A streamed body of `count` chunks of 64 KiB, one a millisecond. */
export function endlessUpload(count: number): Observable<Uint8Array> {
  return new Observable<Uint8Array>(subscriber => {
    let sent = 0;
    const timer = setInterval(() => {
      if (sent++ === count) subscriber.complete();
      else subscriber.next(new Uint8Array(65_536));
    }, 1);
    return () => clearInterval(timer);
  });
}
