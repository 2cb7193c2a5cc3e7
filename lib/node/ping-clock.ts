/**
 * The clock of a keepalive (HTTP/2 PING, WebSocket ping): a ping `interval` ms after the start
 * and after each answer, so at most one is out, and `timeout` ms for its answer. Whoever owns it
 * sends the pings and reports the answers. One object per connection and no closure: the timer
 * calls one shared function with the clock as its argument (an idle connection carries it for
 * hours). (A socket-level timer inside a protocol module: the exception STYLE.md allows.)
 */

/** What the clock asks of its owner. */
export interface PingPort {
  /** Sends one ping; `false` if it could not be sent (the connection is going away: the clock stops quietly). */
  sendPing(): boolean;
  /** No answer within `timeout` ms: called once, after the clock stopped. */
  pingTimedOut(timeout: number): void;
}

export class PingClock {
  readonly #interval: number;
  readonly #timeout: number;
  readonly #port: PingPort;
  #timer: NodeJS.Timeout | undefined;
  /** A ping is out: the timer is its deadline. */
  #waiting = false;
  #stopped = false;

  /** The timer's callback, shared by every clock. */
  static #tick(clock: PingClock): void {
    clock.#onTimer();
  }

  /** Starts it: the first ping goes out `interval` ms from now. */
  constructor(interval: number, timeout: number, port: PingPort) {
    this.#interval = interval;
    this.#timeout = timeout;
    this.#port = port;
    this.#timer = setTimeout(PingClock.#tick, interval, this);
  }

  /** The ping was answered: the next one goes out `interval` ms from now. */
  answered(): void {
    if (this.#stopped || !this.#waiting) return;
    this.#waiting = false;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(PingClock.#tick, this.#interval, this);
  }

  /** Clears the timer; idempotent. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #onTimer(): void {
    this.#timer = undefined;
    if (this.#stopped) return;
    if (this.#waiting) {
      this.stop();
      this.#port.pingTimedOut(this.#timeout);
      return;
    }
    this.#waiting = true;
    this.#timer = setTimeout(PingClock.#tick, this.#timeout, this);
    if (!this.#port.sendPing()) this.stop();
  }
}
