/**
 * rxconn: one permanent, monitored, self-healing connection to an origin, as RxJS.
 */
export { open } from './open.js';
export { Connection } from './connection.js';
export type { ConnectionInfo, RequestOptions, ShutdownOptions, UpgradeEvent, UpgradeInit } from './connection.js';
export type { Switched } from './session.js';
export { body, json, text } from './collect.js';
export type { CollectOptions, CollectedResponse } from './collect.js';
export type { ConnectionOptions, KeepaliveOptions, RetryOptions } from './options.js';
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
  QueueFullError,
  RetriesExhaustedError,
  RxconnError,
  StreamRefusedError,
  StreamResetError,
  TimeoutError,
  TlsError,
  UnsupportedError,
  WebSocketClosedError,
} from './errors.js';
export type { RxconnErrorCode } from './errors.js';
export { WebSocketChannel } from './websocket/channel.js';
export type { WebSocketChannelEvent, WebSocketCloseEvent, WebSocketMessage, WebSocketOpenEvent } from './websocket/channel.js';
export type { WebSocketOptions } from './websocket/options.js';
export { WebSocketHandshakeError } from './websocket/handshake-error.js';
export { ReconnectingWebSocket, webSocket } from './websocket/reconnecting.js';
export type { ReconnectingWebSocketEvent, WebSocketConnectOptions } from './websocket/reconnecting.js';
