/**
 * Instrumentation: rxconn publishes its lifecycle and its requests on named channels
 * (`rxconn:connection:<event type>`, `rxconn:request:create|headers|response|end|error`), the way
 * undici does on Node's `diagnostics_channel`, so that tracers (OpenTelemetry) can build spans.
 * The core only sees the {@link DiagnosticsPublisher} its runtime provides (Node:
 * `lib/node/diagnostics.ts`); with none, or with nobody subscribed, nothing is built or published.
 */
import { InvalidArgumentError } from './errors.js';
import type { ConnectionEvent, Headers, Protocol, ResponseEvent } from './events.js';
import { isFieldValue, isToken, trimOws } from './http-syntax.js';
import { CONNECTION_HEADERS } from './request-init.js';
import type { PreparedRequest } from './request-init.js';
import type { Endpoint } from './session.js';

/** One named channel, as `diagnostics_channel.channel(name)` returns it. */
export interface DiagnosticsChannel {
  /** Whether anyone listens; checked before any payload is built. */
  readonly hasSubscribers: boolean;
  /** Delivers `message` to the subscribers, synchronously. */
  publish(message: unknown): void;
}

/** What a runtime offers for instrumentation: channels by name. */
export interface DiagnosticsPublisher {
  channel(name: string): DiagnosticsChannel;
}

/**
 * The request as published on every `rxconn:request:*` channel: the same object each time, so a
 * subscriber can key a `WeakMap` (a span) on it.
 */
export interface DiagnosticsRequest {
  /** The connection's origin, `http(s)://host:port`. */
  readonly origin: string;
  readonly method: string;
  readonly path: string;
  /** The request headers as they are sent (names lower-case), without those rxconn manages (`host`, framing). */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /**
   * Adds a request header (e.g. `traceparent`); only from a `rxconn:request:create` subscriber, and
   * validated as a request's own headers are (throws `RXCONN_INVALID_ARGUMENT`).
   */
  addHeader(name: string, value: string): void;
}

/** `rxconn:connection:<type>`: one lifecycle event of a connection (see `ConnectionEvent`). */
export interface ConnectionMessage {
  readonly origin: string;
  readonly event: ConnectionEvent;
}
/** `rxconn:request:create`: a request was subscribed (published in the subscriber's async context). */
export interface RequestCreateMessage { readonly request: DiagnosticsRequest }
/** `rxconn:request:headers`: the request starts on a session; its head is written now. */
export interface RequestHeadersMessage {
  readonly request: DiagnosticsRequest;
  readonly protocol: Protocol;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
}
/** `rxconn:request:response`: the final response head arrived. */
export interface RequestResponseMessage { readonly request: DiagnosticsRequest; readonly status: number; readonly headers: Headers }
/** `rxconn:request:end`: the request settled without error: its response ended (or it switched protocols), or it was `cancelled` (unsubscribed). */
export interface RequestEndMessage { readonly request: DiagnosticsRequest; readonly cancelled: boolean; readonly trailers: Headers | undefined }
/** `rxconn:request:error`: the request errored (what its subscriber receives). */
export interface RequestErrorMessage { readonly request: DiagnosticsRequest; readonly error: Error }

/** The channel names. */
export const CHANNELS = {
  create: 'rxconn:request:create',
  headers: 'rxconn:request:headers',
  response: 'rxconn:request:response',
  end: 'rxconn:request:end',
  error: 'rxconn:request:error',
} as const;

/** The name of the channel of a connection event type. */
export const connectionChannel = (type: ConnectionEvent['type']): string => `rxconn:connection:${type}`;

interface RequestChannels {
  readonly create: DiagnosticsChannel;
  readonly headers: DiagnosticsChannel;
  readonly response: DiagnosticsChannel;
  readonly end: DiagnosticsChannel;
  readonly error: DiagnosticsChannel;
}

/** The channels of one publisher, resolved once and shared by every connection it serves. */
class PublisherChannels {
  readonly #publisher: DiagnosticsPublisher;
  readonly #events = new Map<string, DiagnosticsChannel>();
  readonly requests: RequestChannels;

  constructor(publisher: DiagnosticsPublisher) {
    this.#publisher = publisher;
    const channel = (name: string): DiagnosticsChannel => publisher.channel(name);
    this.requests = { create: channel(CHANNELS.create), headers: channel(CHANNELS.headers), response: channel(CHANNELS.response), end: channel(CHANNELS.end), error: channel(CHANNELS.error) };
  }

  event(type: ConnectionEvent['type']): DiagnosticsChannel {
    let channel = this.#events.get(type);
    if (!channel) this.#events.set(type, (channel = this.#publisher.channel(connectionChannel(type))));
    return channel;
  }
}

const channelsOf = new WeakMap<DiagnosticsPublisher, PublisherChannels>();

/** The diagnostics of one connection: its origin, and its publisher's channels. */
export class ConnectionDiagnostics {
  readonly #channels: PublisherChannels;
  readonly #origin: string;

  constructor(publisher: DiagnosticsPublisher, origin: string) {
    let channels = channelsOf.get(publisher);
    if (!channels) channelsOf.set(publisher, (channels = new PublisherChannels(publisher)));
    this.#channels = channels;
    this.#origin = origin;
  }

  /** Publishes a connection event on `rxconn:connection:<type>`, if anyone listens. */
  event(event: ConnectionEvent): void {
    const channel = this.#channels.event(event.type);
    if (channel.hasSubscribers) deliver(channel, { origin: this.#origin, event } satisfies ConnectionMessage);
  }

  /**
   * A trace for a new request, publishing `rxconn:request:create` now (a subscriber may add
   * headers: read {@link RequestTrace.request} back); `undefined`, with nothing built, when no
   * request channel has a subscriber.
   */
  request(prepared: PreparedRequest): RequestTrace | undefined {
    const c = this.#channels.requests;
    if (!(c.create.hasSubscribers || c.headers.hasSubscribers || c.response.hasSubscribers || c.end.hasSubscribers || c.error.hasSubscribers)) return undefined;
    return new RequestTrace(c, this.#origin, prepared);
  }
}

/** The published request: its description, and the headers `create` subscribers add. */
class PublishedRequest implements DiagnosticsRequest {
  readonly method: string;
  readonly path: string;
  /** Whether `create` is being published (the only time headers may be added). */
  open = false;
  #prepared: PreparedRequest;

  constructor(
    readonly origin: string,
    prepared: PreparedRequest,
  ) {
    this.method = prepared.method;
    this.path = prepared.path;
    this.#prepared = prepared;
  }

  get headers(): ReadonlyArray<readonly [string, string]> {
    return this.#prepared.headers;
  }

  /** The request to send. */
  get prepared(): PreparedRequest {
    return this.#prepared;
  }

  addHeader(name: string, value: string): void {
    if (!this.open) throw new InvalidArgumentError('addHeader() works only in a rxconn:request:create subscriber');
    this.#prepared = { ...this.#prepared, headers: [...this.#prepared.headers, checkedHeader(name, value)] };
  }
}

/** One instrumented request: publishes each step of it once. */
export class RequestTrace {
  readonly #channels: RequestChannels;
  readonly #request: PublishedRequest;
  #trailers: Headers | undefined;
  #settled = false;

  constructor(channels: RequestChannels, origin: string, prepared: PreparedRequest) {
    this.#channels = channels;
    this.#request = new PublishedRequest(origin, prepared);
    if (channels.create.hasSubscribers) {
      this.#request.open = true;
      deliver(channels.create, { request: this.#request } satisfies RequestCreateMessage);
      this.#request.open = false;
    }
  }

  /** The request to send: the prepared one, with the headers that `create` subscribers added. */
  get request(): PreparedRequest {
    return this.#request.prepared;
  }

  /** The request starts on a session whose transport is `endpoint`. */
  sent(protocol: Protocol, endpoint: Endpoint): void {
    const channel = this.#channels.headers;
    if (channel.hasSubscribers) {
      const { localAddress, localPort, remoteAddress, remotePort } = endpoint;
      deliver(channel, { request: this.#request, protocol, localAddress, localPort, remoteAddress, remotePort } satisfies RequestHeadersMessage);
    }
  }

  /** A response event was delivered. */
  event(event: ResponseEvent): void {
    if (event.type === 'response') {
      if (this.#channels.response.hasSubscribers) deliver(this.#channels.response, { request: this.#request, status: event.status, headers: event.headers } satisfies RequestResponseMessage);
    } else if (event.type === 'trailers') this.#trailers = event.headers;
  }

  /** The request settled: `error` when it errored; none with `completed` false when it was cancelled. */
  settled(completed: boolean, error?: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    if (error) {
      if (this.#channels.error.hasSubscribers) deliver(this.#channels.error, { request: this.#request, error } satisfies RequestErrorMessage);
    } else if (this.#channels.end.hasSubscribers) {
      deliver(this.#channels.end, { request: this.#request, cancelled: !completed, trailers: this.#trailers } satisfies RequestEndMessage);
    }
  }
}

/**
 * Publishes without letting a subscriber's exception reach the request path: it is rethrown on a
 * later microtask, as Node's own `diagnostics_channel` rethrows it on a later tick.
 */
function deliver(channel: DiagnosticsChannel, message: unknown): void {
  try {
    channel.publish(message);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

/** Validates a header added by a subscriber with the rules of a request's own headers. */
function checkedHeader(name: string, value: string): readonly [string, string] {
  if (typeof name !== 'string' || !isToken(name)) throw new InvalidArgumentError(`addHeader(): header name ${JSON.stringify(name)} is not a valid token`);
  const lower = name.toLowerCase();
  if (CONNECTION_HEADERS.has(lower) || lower === 'host') throw new InvalidArgumentError(`addHeader(): header ${JSON.stringify(lower)} is managed by rxconn`);
  if (typeof value !== 'string' || !isFieldValue(value)) throw new InvalidArgumentError(`addHeader(): header ${JSON.stringify(lower)} has a forbidden character (CR, LF, NUL or a control character) in its value`);
  return [lower, trimOws(value)];
}
