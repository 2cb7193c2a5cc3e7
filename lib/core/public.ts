/**
 * What every runtime's entry point exports: the runtime-free core (the connection, its events,
 * errors, collect operators, WebSocket channel, Server-Sent Events and diagnostics types). Each
 * entry adds its own `open()`, `webSocket()` and options type.
 */
export { Connection } from './connection.js';
export type { ConnectionInfo, RequestOptions, ShutdownOptions, UpgradeEvent, UpgradeInit } from './connection.js';
export type { Endpoint, StreamFlow, Switched } from './session.js';
export { body, json, text } from './collect.js';
export type { CollectOptions, CollectedResponse } from './collect.js';
export { Flow } from './flow.js';
export { pullBody, pullEvents } from './pull.js';
export type { PullBodyOptions } from './pull.js';
export type { KeepaliveOptions, RetryOptions } from './options.js';
export type { RequestBody, RequestInit } from './request-init.js';
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
} from './events.js';
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
} from './errors.js';
export type { ConnectWait, ProxyFailure, RxconnErrorCode } from './errors.js';
export { WebSocketChannel } from './websocket/channel.js';
export type { WebSocketChannelEvent, WebSocketCloseEvent, WebSocketMessage, WebSocketOpenEvent, WebSocketUnsentEvent } from './websocket/channel.js';
export type { WebSocketOptions } from './websocket/options.js';
export { WebSocketHandshakeError } from './websocket/handshake-error.js';
export { ReconnectingWebSocket } from './websocket/reconnecting.js';
export type { ReconnectingWebSocketEvent, WebSocketConnectOptions } from './websocket/reconnecting.js';
export { ReconnectingEventSource } from './sse/event-source.js';
export { SseResponseError } from './sse/response-error.js';
export type { SseEvent } from './sse/event.js';
export type { EventSourceOptions, SseInit } from './sse/options.js';
export type {
  ConnectionMessage,
  DiagnosticsRequest,
  RequestCreateMessage,
  RequestEndMessage,
  RequestErrorMessage,
  RequestHeadersMessage,
  RequestResponseMessage,
} from './diagnostics.js';
