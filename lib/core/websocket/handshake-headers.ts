/**
 * The request headers a WebSocket opening handshake sets itself.
 */

/** Headers the handshake sets; a user may not set them. (`connection`/`upgrade` are the core's.) */
export const HANDSHAKE_HEADERS: ReadonlySet<string> = new Set([
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
]);
