/**
 * rxconn: one permanent, monitored, self-healing connection to an origin, as RxJS.
 */
export { open } from './node/open.js';
export { Connection } from './core/connection.js';
export type { ConnectionInfo, RequestOptions, ShutdownOptions, UpgradeEvent, UpgradeInit } from './core/connection.js';
export type { Switched } from './core/session.js';
export { body, json, text } from './core/collect.js';
export type { CollectOptions, CollectedResponse } from './core/collect.js';
export type { KeepaliveOptions, RetryOptions } from './core/options.js';
export type { ConnectionOptions } from './node/open.js';
export type { ProxyOption } from './node/proxy/options.js';
export type { ProxyConfig, ProxyEntry } from './node/proxy/url.js';
export type { RequestBody, RequestInit } from './core/request-init.js';
export type {
  ClosedEvent,
  ClosingEvent,
  ConnectedEvent,
  ConnectingEvent,
  ConnectionEvent,
  ConnectionState,
  DataEvent,
  DisconnectedEvent,
  GoawayInfo,
  Headers,
  InformEvent,
  Intermediary,
  Protocol,
  ResponseEvent,
  ResponseHeadEvent,
  RetryingEvent,
  TrailersEvent,
  UpgradedEvent,
} from './core/events.js';
export {
  ConnectTimeoutError,
  ConnectionClosedError,
  ConnectionDownError,
  InvalidArgumentError,
  InvalidBodyError,
  KeepaliveTimeoutError,
  ProtocolError,
  ProxyError,
  QueueFullError,
  RetriesExhaustedError,
  RxconnError,
  NoResponseError,
  StreamRefusedError,
  StreamResetError,
  TimeoutError,
  TlsError,
  DnsError,
  SendTimeoutError,
  UnsupportedError,
  WebSocketClosedError,
} from './core/errors.js';
export type { ConnectWait, ProxyFailure, RxconnErrorCode } from './core/errors.js';
export { WebSocketChannel } from './core/websocket/channel.js';
export type { WebSocketChannelEvent, WebSocketCloseEvent, WebSocketMessage, WebSocketOpenEvent, WebSocketUnsentEvent } from './core/websocket/channel.js';
export type { WebSocketOptions } from './core/websocket/options.js';
export { WebSocketHandshakeError } from './core/websocket/handshake-error.js';
export { ReconnectingWebSocket } from './core/websocket/reconnecting.js';
export { webSocket } from './node/web-socket.js';
export type { ReconnectingWebSocketEvent, WebSocketConnectOptions } from './core/websocket/reconnecting.js';
export { ReconnectingEventSource } from './core/sse/event-source.js';
export { SseResponseError } from './core/sse/response-error.js';
export type { SseEvent } from './core/sse/event.js';
export type { EventSourceOptions, SseInit } from './core/sse/options.js';
export type {
  ConnectionMessage,
  DiagnosticsRequest,
  RequestCreateMessage,
  RequestEndMessage,
  RequestErrorMessage,
  RequestHeadersMessage,
  RequestResponseMessage,
} from './core/diagnostics.js';
