/**
 * A ws `WebSocket` in **client** mode on a socket whose opening handshake is already done (the
 * connection's protocol upgrade did it): ws does all the framing, masking, fragmentation,
 * UTF-8 validation, ping/pong and the closing handshake.
 *
 * Why this way. ws has two doors: `new WebSocket(url)` (client: it dials and sends its own
 * handshake, so it cannot take a socket that already switched) and `new WebSocket(null)`
 * followed by `setSocket(socket, head, options)` (what ws's own `WebSocketServer` does after
 * *its* handshake). The second door is the one that fits, but it builds a server-mode socket:
 * `_isServer = true`, so it would send unmasked frames and reject the server's unmasked ones.
 * Everything that depends on the mode reads the one field `_isServer` *after* the constructor,
 * at `setSocket` (the Receiver's `isServer`) and at each send (`mask: !this._isServer` for data,
 * ping, pong and close frames), exactly as `initAsClient` leaves it (`_isServer = false`). So we
 * set `_isServer = false` between the constructor and `setSocket`: the same state ws reaches as
 * a client, with no framing of our own. Using ws's `Sender`/`Receiver` directly would mean
 * re-implementing the closing handshake and its error paths that `WebSocket` already has.
 *
 * It touches two underscore members (`_isServer`, `setSocket`), so ws is pinned to an exact
 * version in package.json, and `spec/websocket-client-mode.spec.ts` checks against a raw peer
 * that every frame we send is masked and that unmasked server frames are accepted: a ws
 * upgrade that changed these internals fails that test, not users.
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';

/** The members of ws's `WebSocket` used here that its public typings do not declare. */
interface WebSocketInternals {
  _isServer: boolean;
  setSocket(socket: Socket, head: Buffer, options: { allowSynchronousEvents: boolean; maxPayload: number; skipUTF8Validation: boolean }): void;
}

/** Options of {@link clientWebSocket}. */
export interface ClientSocketOptions {
  /** Largest incoming message, in bytes; 0 = no limit. Above it ws closes with 1009. */
  readonly maxPayload: number;
}

/**
 * Runs a client-mode ws `WebSocket` on `socket`, an upgraded socket that is paused (as the
 * connection hands it over); `head` is what was read past the 101. The socket is left paused:
 * call `socket.resume()` once the listeners are attached.
 */
export function clientWebSocket(socket: Socket, head: Buffer, options: ClientSocketOptions): WebSocket {
  // The typings only declare `new WebSocket(null)`; at runtime the third argument carries `autoPong`.
  const ServerSide = WebSocket as unknown as new (address: null, protocols: undefined, options: { autoPong: boolean }) => WebSocket;
  const ws = new ServerSide(null, undefined, { autoPong: true });
  const internals = ws as unknown as WebSocketInternals;
  if (internals._isServer !== true || typeof internals.setSocket !== 'function') {
    throw new Error('ws internals changed: cannot run a client-mode WebSocket on an upgraded socket (check the ws version)');
  }
  internals._isServer = false;
  internals.setSocket(socket, head, { allowSynchronousEvents: true, maxPayload: options.maxPayload, skipUTF8Validation: false });
  return ws;
}
