/**
 * Zone plumbing for the Angular binding: rxconn's sockets and timers live outside the Angular
 * zone; what reaches the application is delivered back inside it.
 */
import type { NgZone } from '@angular/core';
import { Observable } from 'rxjs';

/** The two calls of `NgZone` the binding uses; without a zone (no NgZone provided) both just run. */
export interface ZoneRunner {
  runOutsideAngular<T>(fn: () => T): T;
  run<T>(fn: () => T): T;
}

/** Runs everything where it is called: what `NoopNgZone` does. */
export const NO_ZONE: ZoneRunner = {
  runOutsideAngular: fn => fn(),
  run: fn => fn(),
};

/** `NgZone` as a {@link ZoneRunner}, or {@link NO_ZONE} when there is none. */
export function zoneRunner(zone: NgZone | null): ZoneRunner {
  return zone ?? NO_ZONE;
}

/**
 * Subscribes to `source` outside the Angular zone (so the timers and socket listeners it sets up
 * do not trigger change detection) and delivers its notifications inside it, as Angular's own
 * `FetchBackend` does. Cold, like `source`.
 */
export function outsideZone<T>(zone: ZoneRunner, source: Observable<T>): Observable<T> {
  return new Observable<T>(subscriber =>
    zone.runOutsideAngular(() =>
      source.subscribe({
        next: value => zone.run(() => subscriber.next(value)),
        error: (error: unknown) => zone.run(() => subscriber.error(error)),
        complete: () => zone.run(() => subscriber.complete()),
      }),
    ),
  );
}
