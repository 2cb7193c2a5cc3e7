/**
 * How a WebSocket's end maps to its subscribers' fate: complete, or which error. Pure.
 */
import { ConnectionClosedError, WebSocketClosedError } from '../errors.js';
import type { RxconnError } from '../errors.js';

/** Who started the close, when we did: `close()`, the last unsubscribe, or the connection's graceful shutdown. */
export type CloseInitiator = 'user' | 'release' | 'shutdown';

/** What is known when the socket has closed. */
export interface CloseFacts {
  /** The close code ws reports: the server's close frame, or 1006 when none arrived. */
  readonly code: number;
  readonly reason: string;
  /** Set when we started the closing handshake. */
  readonly initiator: CloseInitiator | undefined;
  /** A failure found on the way (keepalive timeout, protocol error, socket error); it wins. */
  readonly failure: RxconnError | undefined;
  /** The connection reported the loss of this socket (`disconnected`); if not, `close()` took it. */
  readonly connectionLost: boolean;
}

/** No close frame arrived: RFC 6455's "abnormal closure". Never sent on the wire. */
export const ABNORMAL_CLOSURE = 1006;

/** Server codes that end a channel normally: normal closure, going away, and a close frame without a code. */
const NORMAL = new Set([1000, 1001, 1005]);

/** `undefined` when the channel completes, otherwise its error. */
export function closeOutcome(facts: CloseFacts): RxconnError | undefined {
  const { code, reason, initiator, failure } = facts;
  if (failure) return failure;
  if (initiator === 'user' || initiator === 'release') return undefined;
  if (initiator === 'shutdown') {
    return code === ABNORMAL_CLOSURE ? new ConnectionClosedError('the connection shut down before the server answered the close frame (1001): the socket was destroyed') : undefined;
  }
  if (NORMAL.has(code)) return undefined;
  if (code === ABNORMAL_CLOSURE) {
    return facts.connectionLost
      ? new WebSocketClosedError(code, '', 'websocket closed abnormally (1006): the server closed the connection without a close frame')
      : new ConnectionClosedError('the connection was closed');
  }
  return new WebSocketClosedError(code, reason);
}

/** The close code ws sent for one of its `WS_ERR_*` protocol errors (RFC 6455 §7.4.1). */
export function closeCodeOf(wsErrorCode: string): number {
  switch (wsErrorCode) {
    case 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH':
    case 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH':
      return 1009;
    case 'WS_ERR_INVALID_UTF8':
      return 1007;
    default:
      return 1002;
  }
}
