/**
 * Pull-based views of push sources: an Observable read as an `AsyncIterable` that pauses its
 * producer while the consumer is not pulling ({@link pullBody}, `WebSocketChannel.pull`).
 */
import type { Observable } from 'rxjs';
import { Flow } from './flow.js';
import type { Headers, ResponseEvent } from './events.js';

/** Where a pull view tells its producer to stop and go. */
export interface PullGate {
  pause(): void;
  resume(): void;
}

/**
 * Reads `source` as an async iterable. Values that arrive while the consumer is not waiting are
 * queued and `gate` is paused until the queue is empty again, so the queue holds what was already
 * on its way (one socket read, or what the flow-control window let through), never more.
 * Breaking out of the loop (or `return()`) unsubscribes; an error is thrown from the loop.
 */
export function pullIterable<T>(source: Observable<T>, gate: PullGate): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const queue: T[] = [];
      let waiter: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | undefined;
      let done = false;
      let failure: { error: unknown } | undefined;
      let paused = false;
      /** The pause is lifted once the source has ended or the loop has left: nothing holds the producer. */
      const release = (): void => {
        if (!paused) return;
        paused = false;
        gate.resume();
      };
      const subscription = source.subscribe({
        next: value => {
          if (waiter) {
            const { resolve } = waiter;
            waiter = undefined;
            resolve({ value, done: false });
            return;
          }
          queue.push(value);
          if (!paused) {
            paused = true;
            gate.pause();
          }
        },
        error: (error: unknown) => {
          release();
          failure = { error };
          if (waiter) {
            const { reject } = waiter;
            waiter = undefined;
            reject(error);
          }
        },
        complete: () => {
          release();
          done = true;
          if (waiter) {
            const { resolve } = waiter;
            waiter = undefined;
            resolve({ value: undefined, done: true });
          }
        },
      });
      const finish = (): IteratorResult<T> => {
        done = true;
        queue.length = 0;
        release();
        subscription.unsubscribe();
        return { value: undefined, done: true };
      };
      return {
        next: () => {
          if (queue.length > 0) {
            const value = queue.shift() as T;
            if (queue.length === 0) release();
            return Promise.resolve({ value, done: false });
          }
          if (failure) {
            const { error } = failure;
            failure = undefined;
            done = true;
            return Promise.reject(error instanceof Error ? error : new Error(String(error)));
          }
          if (done) return Promise.resolve({ value: undefined, done: true });
          return new Promise<IteratorResult<T>>((resolve, reject) => {
            waiter = { resolve, reject };
          });
        },
        return: () => Promise.resolve(finish()),
      };
    },
  };
}

/**
 * Reads one response's body as an `AsyncIterable` of chunks that pauses the response on the
 * wire while the loop is not pulling (see {@link Flow}): a slow consumer of a large download
 * holds about one flow-control window (HTTP/2: the 1 MiB stream window; HTTP/1.1: the socket
 * buffers), not the body. `request` is given the {@link Flow} to pass as `RequestInit.flow`;
 * it is subscribed when the loop starts. Breaking out of the loop cancels the request (HTTP/2:
 * RST_STREAM(CANCEL)); a request error is thrown from the loop. The head, 1xx and trailers are
 * skipped: any status yields its body (use `onResponse` to check it).
 *
 * @example
 * for await (const chunk of pullBody(flow => conn.get('/big', { flow }))) await file.write(chunk);
 */
export function pullBody(request: (flow: Flow) => Observable<ResponseEvent>, options: PullBodyOptions = {}): AsyncIterable<Uint8Array> {
  const events = pullEvents(request);
  const { onResponse } = options;
  return {
    async *[Symbol.asyncIterator]() {
      for await (const event of events) {
        if (event.type === 'data') yield event.data;
        else if (event.type === 'response') onResponse?.(event.status, event.headers);
      }
    },
  };
}

/** Options of {@link pullBody}. */
export interface PullBodyOptions {
  /** Called with the final response's status and headers before its first chunk; throwing from it ends the loop with that error and cancels the request. Default: none. */
  onResponse?: (status: number, headers: Headers) => void;
}

/**
 * Reads one response's events (head, 1xx, data, trailers) as an `AsyncIterable` that pauses the
 * response on the wire while the loop is not pulling; as {@link pullBody}, without the filtering.
 */
export function pullEvents(request: (flow: Flow) => Observable<ResponseEvent>): AsyncIterable<ResponseEvent> {
  return {
    [Symbol.asyncIterator]() {
      const flow = new Flow();
      return pullIterable(request(flow), flow)[Symbol.asyncIterator]();
    },
  };
}
