/**
 * The client side of the WebSocket opening handshake (RFC 6455 §4.1) on top of the connection's
 * protocol upgrade: the request headers, and the check of the server's 101.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Headers } from '../../core/events.js';
import { WebSocketHandshakeError } from '../../core/websocket/handshake-error.js';

/** The GUID of RFC 6455 §1.3, appended to the key to compute `sec-websocket-accept`. */
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A fresh `sec-websocket-key`: 16 random bytes, base64. */
export function createKey(): string {
  return randomBytes(16).toString('base64');
}

/** The `sec-websocket-accept` a server must answer to `key`. */
export function acceptFor(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/** The request headers of the handshake: the user's, then the key, the version and the offered subprotocols. */
export function handshakeHeaders(key: string, protocols: readonly string[], headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = { ...headers, 'sec-websocket-key': key, 'sec-websocket-version': '13' };
  if (protocols.length > 0) out['sec-websocket-protocol'] = protocols.join(', ');
  return out;
}

function single(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Checks a 101 answer against the request (RFC 6455 §4.1, client steps 2–6) and returns the
 * negotiated subprotocol (`''` when none). Throws {@link WebSocketHandshakeError}.
 * No extension is offered (no permessage-deflate), so any extension in the answer is an error.
 */
export function checkSwitched(headers: Headers, key: string, protocols: readonly string[]): string {
  const fail = (message: string): never => {
    throw new WebSocketHandshakeError(`websocket handshake failed: ${message}`, 101, headers);
  };
  const upgrade = single(headers, 'upgrade');
  if (upgrade === undefined) fail('the 101 has no upgrade header');
  if (upgrade?.toLowerCase() !== 'websocket') fail(`the server switched to ${JSON.stringify(upgrade ?? '')}, not "websocket"`);
  const connection = single(headers, 'connection');
  const tokens = (connection ?? '').split(',').map(token => token.trim().toLowerCase());
  if (!tokens.includes('upgrade')) fail(connection === undefined ? 'the 101 has no connection header' : `the 101's connection header is ${JSON.stringify(connection)}, without "upgrade"`);
  if (single(headers, 'sec-websocket-accept') !== acceptFor(key)) fail('sec-websocket-accept does not match the key sent');
  return checkNegotiated(headers, protocols, 101);
}

/**
 * Checks the extension and subprotocol of an accepted handshake (HTTP/1.1 101, or the 2xx of an
 * RFC 8441 extended CONNECT, which has no `upgrade` or `sec-websocket-accept` to check) and
 * returns the subprotocol (`''` when none). Throws {@link WebSocketHandshakeError}.
 */
export function checkNegotiated(headers: Headers, protocols: readonly string[], status: number): string {
  const fail = (message: string): never => {
    throw new WebSocketHandshakeError(`websocket handshake failed: ${message}`, status, headers);
  };
  const extensions = single(headers, 'sec-websocket-extensions');
  if (extensions !== undefined) fail(`the server chose an extension that was not offered (${extensions})`);
  const chosen = single(headers, 'sec-websocket-protocol');
  if (chosen === undefined) {
    if (protocols.length > 0) fail(`the server chose no subprotocol (offered: ${protocols.join(', ')})`);
    return '';
  }
  if (!protocols.includes(chosen)) {
    fail(protocols.length > 0 ? `the server chose subprotocol ${JSON.stringify(chosen)}, not one offered (${protocols.join(', ')})` : `the server chose subprotocol ${JSON.stringify(chosen)} but none was offered`);
  }
  return chosen;
}
