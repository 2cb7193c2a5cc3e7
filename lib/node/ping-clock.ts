/**
 * The clock of a keepalive (HTTP/2 PING, WebSocket ping): a ping `interval` ms after the start
 * and after each answer, so at most one is out, and `timeout` ms for its answer. Whoever owns it
 * sends the pings and reports the answers. (A socket-level timer inside a protocol module: the
 * exception STYLE.md allows.)
 *
 * One node timer for many clocks. An idle connection carries its clock for hours, and a node
 * `Timeout` with its arguments weighs about 0.2 KiB, more than the clock itself. Clocks that wait
 * the same number of ms are due in the order they started waiting, so they queue in one list per
 * duration, as node's own timer lists do, and the list has one timer, set for the clock at its
 * head. Each clock still fires at its own time, `interval` ms after its own start or answer:
 * connections that opened apart ping apart, as they did with a timer each, never in a burst.
 */

/** What the clock asks of its owner. */
export interface PingPort {
  /** Sends one ping; `false` if it could not be sent (the connection is going away: the clock stops quietly). */
  sendPing(): boolean;
  /** No answer within `timeout` ms: called once, after the clock stopped. */
  pingTimedOut(timeout: number): void;
}

/** The clocks waiting `ms` ms, first due first, and the one timer they share. */
interface DueList {
  readonly ms: number;
  head: PingClock | undefined;
  tail: PingClock | undefined;
  timer: NodeJS.Timeout | undefined;
  /** When the timer fires: the due time of the head when it was set. */
  timerDue: number;
}

/** The lists that have clocks, by duration; a list goes when its last clock leaves. */
const lists = new Map<number, DueList>();

/** The clocks' time (see {@link now}). */
let clockTime = 0;

/**
 * Now, in whole ms (a small integer: a clock's due time needs no boxed number). Never behind the
 * time a timer last fired for (see `#fire`), so a clock that waits again from there is due later.
 */
function now(): number {
  return (clockTime = Math.max(clockTime, Math.floor(performance.now())));
}

export class PingClock {
  readonly #interval: number;
  readonly #timeout: number;
  readonly #port: PingPort;
  /** A ping is out: the clock waits in the list of `timeout`, not of `interval`. */
  #waiting = false;
  /** The list it waits in; none once stopped (or while it fires). */
  #list: DueList | undefined;
  #due = 0;
  #prev: PingClock | undefined;
  #next: PingClock | undefined;

  /** Starts it: the first ping goes out `interval` ms from now. */
  constructor(interval: number, timeout: number, port: PingPort) {
    this.#interval = interval;
    this.#timeout = timeout;
    this.#port = port;
    this.#wait(interval);
  }

  /** The ping was answered: the next one goes out `interval` ms from now. */
  answered(): void {
    if (!this.#waiting) return;
    this.#waiting = false;
    this.#leave();
    this.#wait(this.#interval);
  }

  /** Stops it (the timer goes with the last clock of its list); idempotent. */
  stop(): void {
    this.#waiting = false;
    this.#leave();
  }

  /** Its time has come (it has left its list): a ping, or, while one is out, the timeout. */
  #onDue(): void {
    if (this.#waiting) {
      this.#waiting = false;
      this.#port.pingTimedOut(this.#timeout);
      return;
    }
    this.#waiting = true;
    this.#wait(this.#timeout);
    if (!this.#port.sendPing()) this.stop();
  }

  /** Joins the tail of the list of `ms`: every clock in it started waiting earlier, so is due no later. */
  #wait(ms: number): void {
    let list = lists.get(ms);
    if (!list) lists.set(ms, (list = { ms, head: undefined, tail: undefined, timer: undefined, timerDue: 0 }));
    this.#list = list;
    this.#due = now() + ms;
    this.#prev = list.tail;
    if (list.tail) list.tail.#next = this;
    else list.head = this;
    list.tail = this;
    if (!list.timer) PingClock.#arm(list);
  }

  #leave(): void {
    const list = this.#list;
    if (!list) return;
    const prev = this.#prev;
    const next = this.#next;
    if (prev) prev.#next = next;
    else list.head = next;
    if (next) next.#prev = prev;
    else list.tail = prev;
    this.#list = this.#prev = this.#next = undefined;
    if (list.head) return; // its timer, set for an earlier head maybe, finds nothing due and is set again
    clearTimeout(list.timer);
    list.timer = undefined;
    if (lists.get(list.ms) === list) lists.delete(list.ms);
  }

  /** Sets the list's timer for its head. */
  static #arm(list: DueList): void {
    const due = list.head!.#due;
    list.timerDue = due;
    list.timer = setTimeout(PingClock.#fire, Math.max(1, due - now()), list);
  }

  /** The timer of `list`, shared by its clocks: each that is due fires, in order. */
  static #fire(list: DueList): void {
    list.timer = undefined;
    // Node's timers run on the loop's clock, read at the start of a turn: one may fire a little
    // before `performance.now()` reaches the time it was set for. Its head is due all the same.
    const time = (clockTime = Math.max(now(), list.timerDue));
    try {
      // A clock that fires waits again (in this list, when its interval and timeout are equal)
      // until `time` + 1 ms at the earliest: the loop ends.
      for (let clock = list.head; clock && clock.#due <= time; clock = list.head) {
        clock.#leave();
        clock.#onDue();
      }
    } finally {
      if (list.head && !list.timer) PingClock.#arm(list);
    }
  }
}
