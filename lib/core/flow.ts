/**
 * A request's flow control (Gun's `flow`): pause and resume the delivery of its response data.
 * Pass one as `RequestInit.flow`; {@link pullBody} does it for you.
 */
import type { StreamFlow } from './session.js';

/**
 * Pauses and resumes one request's response data on the wire. While paused, rxconn stops reading
 * the response (HTTP/1.1: the socket is paused; HTTP/2: the stream is paused, so node withholds
 * WINDOW_UPDATE), and the server's writes block once the TCP buffers or the 1 MiB stream window
 * are full: what is held in memory is bounded by the flow-control window, not by the body.
 * The state carries over when the request is re-sent on another session. A runtime that cannot
 * pause (a browser's fetch) ignores it.
 *
 * @example
 * const flow = new Flow();
 * conn.get('/big', { flow }).subscribe(event => { flow.pause(); work(event).then(() => flow.resume()); });
 */
export class Flow {
  #paused = false;
  #control: StreamFlow | undefined;

  /** Whether it is paused now. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Stops reading the response until {@link resume}. Idempotent. */
  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.#control?.pause();
  }

  /** Reads the response again. Idempotent. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#control?.resume();
  }

  /**
   * Core use: binds the stream a session started for this request (applying a pause already
   * asked for). Returns the unbinding, called when the stream settles or is handed back.
   */
  bind(control: StreamFlow): () => void {
    this.#control = control;
    if (this.#paused) control.pause();
    return () => {
      if (this.#control === control) this.#control = undefined;
    };
  }
}
