/**
 * The event of a Server-Sent Events stream, as `conn.sse()` and `conn.eventSource()` emit it.
 */

/** One dispatched Server-Sent Event (WHATWG HTML §9.2). */
export interface SseEvent {
  /** The `event:` field of its block, or `'message'` when it had none (or an empty one). */
  readonly type: string;
  /** The `data:` lines of its block, joined with `\n`. */
  readonly data: string;
  /**
   * The last event ID at dispatch: set by the latest `id:` field of this or an earlier event of
   * the stream (across reconnects for `eventSource()`), `''` if none or after an empty `id:`.
   */
  readonly id: string;
  /** The reconnection time the server last asked for with `retry:`, in ms; `undefined` if it never did. */
  readonly retry: number | undefined;
}
