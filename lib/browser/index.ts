/**
 * rxconn in a browser: one permanent, monitored link to an origin, as RxJS (fetch and the native WebSocket underneath).
 */
export { open } from './open.js';
export type { BrowserConnectionOptions, ProbeOptions } from './options.js';
export { Connection } from '../core/connection.js';
export type { ConnectionInfo, RequestOptions, ShutdownOptions, UpgradeEvent, UpgradeInit } from '../core/connection.js';
export type { Switched } from '../core/session.js';
export { body, json, text } from '../core/collect.js';
export type { CollectOptions, CollectedResponse } from '../core/collect.js';
export type { KeepaliveOptions, RetryOptions } from '../core/options.js';
export type { BrowserConnectionOptions as ConnectionOptions } from './options.js';
export type { RequestBody, RequestInit } from '../core/request-init.js';
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
} from '../core/events.js';
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
  NoResponseError,
  StreamRefusedError,
  StreamResetError,
  TimeoutError,
  TlsError,
  DnsError,
  SendTimeoutError,
  UnsupportedError,
  WebSocketClosedError,
} from '../core/errors.js';
export type { RxconnErrorCode } from '../core/errors.js';
export { WebSocketChannel } from '../core/websocket/channel.js';
export type { WebSocketChannelEvent, WebSocketCloseEvent, WebSocketMessage, WebSocketOpenEvent } from '../core/websocket/channel.js';
export type { WebSocketOptions } from '../core/websocket/options.js';
export { WebSocketHandshakeError } from '../core/websocket/handshake-error.js';
export { ReconnectingWebSocket } from '../core/websocket/reconnecting.js';
export { webSocket } from './web-socket.js';
export type { ReconnectingWebSocketEvent, WebSocketConnectOptions } from '../core/websocket/reconnecting.js';
