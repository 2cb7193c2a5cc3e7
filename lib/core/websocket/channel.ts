/**
 * `conn.websocket(path)`: a shared WebSocket on the connection, as an Observable of messages
 * plus `send()` and `close()`.
 */
import { Observable, Subject, filter, take } from 'rxjs';
import type { Observer, Subscriber, Subscription, TeardownLogic, Unsubscribable } from 'rxjs';
import { ConnectionClosedError, InvalidArgumentError, QueueFullError } from '../errors.js';
import type { RxconnError } from '../errors.js';
import type { Headers } from '../events.js';
import type { ResolvedOptions } from '../options.js';
import type { LinkConnection, LinkEnd, LinkHooks, WebSocketLink, WebSocketMessage } from './link.js';
import type { Runtime } from '../runtime.js';
import type { ConnectionState } from '../events.js';
import { resolveWebSocketOptions } from './options.js';
import type { ResolvedWebSocketOptions, WebSocketOptions } from './options.js';
import { checkClose, isMessage } from './validation.js';
import { pullIterable } from '../pull.js';
import { OwnedObservable, watch } from '../watched.js';

export type { WebSocketMessage } from './link.js';

/** A WebSocket of the channel opened: the handshake succeeded. */
export interface WebSocketOpenEvent {
  readonly type: 'open';
  /** The subprotocol the server chose, `''` if none was offered. */
  readonly subprotocol: string;
  /** The headers of the server's 101. */
  readonly headers: Headers;
}

/** A WebSocket of the channel that had opened is closed. */
export interface WebSocketCloseEvent {
  readonly type: 'close';
  /** The server's close code, or 1006 when no close frame arrived. */
  readonly code: number;
  readonly reason: string;
  /** What the channel's subscribers errored with; `undefined` when they completed. */
  readonly error: RxconnError | undefined;
}

/**
 * Messages queued with `send()` that were never sent: the connection closed or failed before a
 * WebSocket of the channel opened. Nothing is dropped silently: they are handed back here.
 */
export interface WebSocketUnsentEvent {
  readonly type: 'unsent';
  /** The messages, in the order they were sent. */
  readonly messages: readonly WebSocketMessage[];
  readonly error: RxconnError;
}

/** What {@link WebSocketChannel.events} reports. */
export type WebSocketChannelEvent = WebSocketOpenEvent | WebSocketCloseEvent | WebSocketUnsentEvent;

const ENDED = new Set(['closing', 'closed', 'failed']);

/** What a channel needs of its connection (`Connection` satisfies it). */
export interface ChannelConnection extends LinkConnection {
  readonly state: ConnectionState;
  readonly state$: Observable<ConnectionState>;
}

/**
 * The channel's side of one link, one object with methods rather than closures (a link holds it
 * for the WebSocket's life): the messages go to each subscriber, and the end ends them all
 * (taken out first, so that one resubscribing from its error or complete handler joins a new
 * link); the link's open and end go to the channel.
 */
class LinkSink implements Observer<WebSocketMessage>, LinkHooks {
  readonly #channel: WebSocketChannel;
  /**
   * The subscribers: alone in `#one` (most channels have one), and all in `#many` from the time a
   * second joins (a Set weighs ~150 B). Either way, a message goes to them as a Set being iterated
   * delivers it: in the order they joined, to those who join during the delivery, not to those
   * who left.
   */
  #one: Subscriber<WebSocketMessage> | undefined;
  #many: Set<Subscriber<WebSocketMessage>> | undefined;
  /** A message is being delivered to `#one`: whoever joins now goes in `#many`, delivered to after it. */
  #delivering = false;

  constructor(channel: WebSocketChannel) {
    this.#channel = channel;
  }

  get size(): number {
    return this.#many ? this.#many.size : this.#one ? 1 : 0;
  }

  add(subscriber: Subscriber<WebSocketMessage>): void {
    if (this.#many) this.#many.add(subscriber);
    else if (!this.#one && !this.#delivering) this.#one = subscriber;
    else {
      this.#many = new Set(this.#one ? [this.#one, subscriber] : [subscriber]);
      this.#one = undefined;
    }
  }

  /** Whether `subscriber` was one of them. */
  delete(subscriber: Subscriber<WebSocketMessage>): boolean {
    if (this.#many) return this.#many.delete(subscriber);
    if (this.#one !== subscriber) return false;
    this.#one = undefined;
    return true;
  }

  onOpen(link: WebSocketLink, headers: Headers): void {
    linkOpened(this.#channel, link, headers);
  }

  onEnd(link: WebSocketLink, end: LinkEnd | undefined): void {
    linkEnded(this.#channel, link, end);
  }

  next(message: WebSocketMessage): void {
    const many = this.#many;
    if (many) {
      for (const subscriber of many) subscriber.next(message);
      return;
    }
    const one = this.#one;
    if (!one) return;
    const outer = this.#delivering;
    this.#delivering = true;
    one.next(message);
    this.#delivering = outer;
    // Who joined meanwhile made `#many` (with `one` first, if it stayed): they come after it.
    const joined = this.#many as Set<Subscriber<WebSocketMessage>> | undefined;
    if (joined) for (const subscriber of joined) if (subscriber !== one) subscriber.next(message);
  }

  error(error: unknown): void {
    for (const subscriber of this.#drain()) subscriber.error(error);
  }

  complete(): void {
    for (const subscriber of this.#drain()) subscriber.complete();
  }

  #drain(): Array<Subscriber<WebSocketMessage>> {
    const all = this.#many ? [...this.#many] : this.#one ? [this.#one] : [];
    this.#many?.clear();
    this.#one = undefined;
    return all;
  }
}

/**
 * A channel's subscribe function, set in its class's static block (where `#join` can be
 * called). RxJS calls it as a method of the Observable, so `this` is the channel: one function
 * for every channel, no closure each.
 */
let subscribeChannel: (this: Observable<WebSocketMessage>, subscriber: Subscriber<WebSocketMessage>) => TeardownLogic;
/** What a {@link LinkSink} tells its channel, set in the same static block. */
let linkOpened: (channel: WebSocketChannel, link: WebSocketLink, headers: Headers) => void;
let linkEnded: (channel: WebSocketChannel, link: WebSocketLink, end: LinkEnd | undefined) => void;
/** {@link WebSocketChannel.events}'s subscribe, shared by every channel (set in the same static block). */
let watchChannelEvents: (channel: WebSocketChannel, subscriber: Subscriber<WebSocketChannelEvent>) => TeardownLogic;
/** What a {@link Membership} tells its channel, set in the same static block. */
let leaveChannel: (channel: WebSocketChannel, sink: LinkSink, subscriber: Subscriber<WebSocketMessage>, link: WebSocketLink) => void;

/**
 * One subscriber's place among a link's subscribers, and its teardown: an object rather than a
 * closure and its scope (half the size), as the subscriber holds it for the WebSocket's life.
 */
class Membership implements Unsubscribable {
  readonly #channel: WebSocketChannel;
  readonly #sink: LinkSink;
  readonly #subscriber: Subscriber<WebSocketMessage>;
  readonly #link: WebSocketLink;

  constructor(channel: WebSocketChannel, sink: LinkSink, subscriber: Subscriber<WebSocketMessage>, link: WebSocketLink) {
    this.#channel = channel;
    this.#sink = sink;
    this.#subscriber = subscriber;
    this.#link = link;
  }

  unsubscribe(): void {
    leaveChannel(this.#channel, this.#sink, this.#subscriber, this.#link);
  }
}

/**
 * A WebSocket on a connection (`conn.websocket(path, options)`): an Observable of incoming
 * messages (text frames as `string`, binary frames as `Uint8Array` — a Node `Buffer`, passed on
 * without a copy) plus {@link send} and {@link close}. It is **shared and lazy**: the first
 * subscriber performs the upgrade on the connection (waiting for it to be connected and idle),
 * later subscribers share the same WebSocket, and the last unsubscribe closes it with 1000 (a
 * subscribe during that closing handshake upgrades again once it is over). The WebSocket takes
 * the whole HTTP/1.1 connection: a second channel on the same connection errors with
 * `RXCONN_UNSUPPORTED` while the first is open. No extension (permessage-deflate) is offered.
 *
 * It **completes** when the WebSocket closes normally: a server close with 1000, 1001 or no
 * code; a `close()` of ours; a graceful `conn.shutdown()` (close 1001 and its echo). It
 * **errors** with `RXCONN_WEBSOCKET_CLOSED` (any other server code, with `closeCode` and
 * `reason`; a server that ends the connection without a close frame, 1006; a protocol error of
 * the server, e.g. a message over `maxPayload`, closed with 1009), `RXCONN_KEEPALIVE_TIMEOUT`
 * (no pong within `keepalive.timeout`), `RXCONN_CONNECTION_DOWN` (the socket failed),
 * `RXCONN_CONNECTION_CLOSED` (`conn.close()`, or a shutdown whose close handshake timed out),
 * `RXCONN_PROTOCOL` with a {@link WebSocketHandshakeError} (the server refused the upgrade —
 * `status` and `body` are on the error — or answered a broken 101), and `RXCONN_UNSUPPORTED` on
 * an HTTP/2 connection. The WebSocket takes over the HTTP/1.1 connection (`upgraded`); when it
 * closes, the connection reconnects as plain HTTP, and resubscribing (e.g. `retry()`) upgrades
 * again on the next connection.
 *
 * @example
 * const chat = conn.websocket('/chat', { protocols: ['chat.v2'] });
 * chat.pipe(retry({ delay: 1000 })).subscribe(message => console.log(message));
 * chat.send('hello'); // queued until the WebSocket is open
 */
export class WebSocketChannel extends Observable<WebSocketMessage> {
  static {
    subscribeChannel = function (this: Observable<WebSocketMessage>, subscriber: Subscriber<WebSocketMessage>): TeardownLogic {
      return (this as WebSocketChannel).#join(subscriber);
    };
    linkOpened = (channel, link, headers) => channel.#onOpen(link, headers);
    linkEnded = (channel, link, end) => channel.#onEnd(link, end);
    watchChannelEvents = (channel, subscriber) => channel.#watchEvents(subscriber);
    leaveChannel = (channel, sink, subscriber, link) => channel.#leave(sink, subscriber, link);
  }

  readonly #connection: ChannelConnection;
  readonly #options: ResolvedWebSocketOptions;
  readonly #runtime: Pick<Runtime, 'createLink'>;
  /** Made when {@link events} is watched, let go when nobody does (see `watched.ts`). */
  #events: Subject<WebSocketChannelEvent> | undefined;
  #eventsView: Observable<WebSocketChannelEvent> | undefined;
  /** Messages waiting for the WebSocket to open, in order; none (rather than an empty array) when none waits. */
  #queue: WebSocketMessage[] | undefined;
  /** The WebSocket of the current shared subscription. */
  #link: WebSocketLink | undefined;
  /** Where {@link #link} delivers, with the subscribers sharing it (a new one for each link). */
  #sink: LinkSink | undefined;
  /** A released WebSocket still in its closing handshake. */
  #closing: WebSocketLink | undefined;
  /** Starts the next WebSocket once {@link #closing} has ended. */
  #startNext: (() => void) | undefined;
  /** Watches the connection for its end while messages are queued. */
  #watch: Subscription | undefined;
  /** How many pull views are behind: while any is, the WebSocket's socket is not read. */
  #holds = 0;

  /** @internal Use `conn.websocket(path, options)`. */
  constructor(connection: ChannelConnection, path: string, options: WebSocketOptions | undefined, connectionOptions: Pick<ResolvedOptions, 'keepalive' | 'closeTimeout' | 'runtime'>) {
    const resolved = resolveWebSocketOptions(path, options, connectionOptions);
    super(subscribeChannel);
    this.#connection = connection;
    this.#options = resolved;
    this.#runtime = connectionOptions.runtime;
  }

  /**
   * Hot: `open` each time a WebSocket of this channel opens (with the chosen subprotocol), `close`
   * when it closes, `unsent` with the queued messages that were never sent because the connection
   * ended first. Completes when the connection does.
   */
  get events(): Observable<WebSocketChannelEvent> {
    return (this.#eventsView ??= new OwnedObservable(this, watchChannelEvents));
  }

  /** One watcher of {@link events}, with its own watch on the connection: a channel holds no observer on it while nobody listens. */
  #watchEvents(subscriber: Subscriber<WebSocketChannelEvent>): TeardownLogic {
    const unwatch = watch((this.#events ??= new Subject()), subscriber, subject => {
      if (this.#events === subject) this.#events = undefined;
    });
    const end = (): void => subscriber.complete();
    const connection = this.#connection.subscribe({ error: end, complete: end });
    return () => {
      connection.unsubscribe();
      unwatch();
    };
  }

  /** Bytes handed to the open WebSocket and not yet written to the socket (ws's `bufferedAmount`); 0 when none is open. */
  get bufferedAmount(): number {
    return this.#link?.bufferedAmount ?? 0;
  }

  /** @internal The bound on a closing handshake (the connection's `closeTimeout`). */
  get closeTimeout(): number {
    return this.#options.closeTimeout;
  }

  /** How many messages wait for the WebSocket to open. */
  get queued(): number {
    return this.#queue?.length ?? 0;
  }

  /** The subprotocol the server chose for the open WebSocket (`''` if none, or none open). */
  get subprotocol(): string {
    return this.#link?.subprotocol ?? '';
  }

  /**
   * Sends one message: a `string` as a text frame, a `Uint8Array` as a binary frame. While the
   * WebSocket is not open (before the first subscribe, during the upgrade, between a loss and the
   * next subscription) the message is queued, in order, and sent as soon as a WebSocket of this
   * channel opens. Never drops silently: it throws `RXCONN_QUEUE_FULL` when `maxQueued` messages
   * already wait, `RXCONN_CONNECTION_CLOSED` once the connection is shutting down or closed, and
   * `RXCONN_INVALID_ARGUMENT` for anything but a string or bytes. A message handed to an open
   * WebSocket is written to its socket; like any network write, it is lost if the connection
   * dies before the server reads it.
   */
  send(data: WebSocketMessage): void {
    if (!isMessage(data)) throw new InvalidArgumentError('websocket send() takes a string (text frame) or a Uint8Array (binary frame)');
    const link = this.#link;
    if (!this.#queue && link?.send(data)) return;
    if (ENDED.has(this.#connection.state)) throw new ConnectionClosedError(`the connection is ${this.#connection.state}: the message cannot be sent`);
    if (this.queued >= this.#options.maxQueued) {
      throw new QueueFullError(`the websocket send queue is full (websocket options.maxQueued = ${this.#options.maxQueued}): the message was not queued`);
    }
    (this.#queue ??= []).push(data);
    // Should the connection end before a WebSocket opens, the queue is handed back as `unsent`.
    this.#watch ??= this.#connection.state$.pipe(filter(state => state === 'closed' || state === 'failed'), take(1)).subscribe(state => this.#unsent(state));
  }

  #unsent(state: ConnectionState): void {
    this.#watch = undefined;
    const messages = this.#queue;
    this.#queue = undefined;
    if (!messages) return;
    const error = new ConnectionClosedError(`the connection ${state === 'failed' ? 'failed' : 'closed'} before ${messages.length} queued message${messages.length === 1 ? ' was' : 's were'} sent`);
    this.#events?.next({ type: 'unsent', messages, error });
  }

  /**
   * Starts the closing handshake of the open WebSocket with `code` (default 1000) and `reason`
   * (at most 123 bytes of UTF-8); subscribers complete when the server answers, or after
   * `closeTimeout` (the socket is then destroyed). During the upgrade, it closes right after the
   * queued messages are sent. Without subscribers it does nothing. Throws
   * `RXCONN_INVALID_ARGUMENT` for a code outside 1000–1003, 1007–1014, 3000–4999.
   */
  close(code = 1000, reason = ''): void {
    checkClose(code, reason);
    this.#link?.close(code, reason);
  }

  /**
   * The messages as an `AsyncIterable` that stops reading the socket while the loop is behind
   * (Node; a browser's WebSocket cannot pause): the server's sends then block, and what is held is
   * bounded by the socket buffers, not by what the server sends. It joins the channel as one more
   * subscriber (others keep theirs; while a pull view is behind, nobody receives). Breaking out of
   * the loop unsubscribes (the last subscriber closes the WebSocket with 1000); the channel's
   * error is thrown from the loop. While paused, pongs are not read either: a keepalive timeout
   * shorter than the consumer's pauses fails the WebSocket.
   *
   * @example
   * for await (const message of conn.websocket('/feed').pull()) await store(message);
   */
  pull(): AsyncIterable<WebSocketMessage> {
    return {
      [Symbol.asyncIterator]: () => pullIterable<WebSocketMessage>(this, { pause: () => this.#hold(1), resume: () => this.#hold(-1) })[Symbol.asyncIterator](),
    };
  }

  #hold(delta: 1 | -1): void {
    this.#holds += delta;
    if (delta === 1 && this.#holds === 1) this.#link?.pause?.();
    else if (delta === -1 && this.#holds === 0) this.#link?.resume?.();
  }

  /**
   * One subscriber joins: the first starts a WebSocket, the others share it; the last to leave
   * releases it (close 1000). A hand-rolled refCount rather than `share()`: messages go straight
   * from ws to each subscriber, the hot path of every message.
   */
  #join(subscriber: Subscriber<WebSocketMessage>): TeardownLogic {
    const existing = this.#link;
    const sink = existing ? this.#sink! : (this.#sink = new LinkSink(this));
    // Joined before the link starts: a start that fails at once must reach this subscriber.
    sink.add(subscriber);
    const link = existing ?? this.#runtime.createLink(this.#connection, this.#options, sink, sink);
    if (!existing) {
      this.#link = link;
      if (this.#holds > 0) link.pause?.();
      // A WebSocket released a moment ago may still be closing: the upgraded connection takes
      // no request, not even a new upgrade, until its socket is closed. Upgrade after it.
      if (this.#closing) this.#startNext = () => link.start();
      else link.start();
    }
    return new Membership(this, sink, subscriber, link);
  }

  /** `subscriber` left the subscribers of `link`, in `sink` (see {@link Membership}). */
  #leave(sink: LinkSink, subscriber: Subscriber<WebSocketMessage>, link: WebSocketLink): void {
    if (!sink.delete(subscriber) || sink.size > 0 || this.#link !== link) return;
    this.#link = undefined;
    link.release();
    if (!link.done) this.#closing = link;
  }

  #onOpen(link: WebSocketLink, headers: Headers): void {
    const queue = this.#queue;
    let sent = 0;
    while (queue && sent < queue.length && link.send(queue[sent]!)) sent++;
    queue?.splice(0, sent);
    if (queue?.length === 0) this.#queue = undefined;
    if (!this.#queue) {
      this.#watch?.unsubscribe();
      this.#watch = undefined;
    }
    this.#events?.next({ type: 'open', subprotocol: link.subprotocol, headers });
  }

  #onEnd(link: WebSocketLink, end: LinkEnd | undefined): void {
    if (this.#link === link) this.#link = undefined;
    if (end) this.#events?.next({ type: 'close', ...end });
    if (this.#closing === link) {
      this.#closing = undefined;
      const startNext = this.#startNext;
      this.#startNext = undefined;
      startNext?.();
    }
  }
}
