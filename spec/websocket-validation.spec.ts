/**
 * The WebSocket layer's pure parts, without sockets: validation predicates, option checks, the
 * handshake check, and the mapping of how a WebSocket ended to complete or error.
 */
import { describe, expect, it } from 'vitest';
import { acceptFor, checkSwitched, handshakeHeaders } from '../lib/node/websocket/handshake.js';
import { WebSocketHandshakeError } from '../lib/core/websocket/handshake-error.js';
import { closeCodeOf, closeOutcome } from '../lib/core/websocket/close-outcome.js';
import type { CloseFacts } from '../lib/core/websocket/close-outcome.js';
import { resolveWebSocketOptions } from '../lib/core/websocket/options.js';
import { checkClose, checkSubprotocols, isMessage, isSubprotocol, isValidCloseCode, isValidCloseReason } from '../lib/core/websocket/validation.js';
import { KeepaliveTimeoutError } from '../lib/index.js';

const CONN = { keepalive: { interval: 30_000, timeout: 10_000 }, closeTimeout: 15_000 } as const;

describe('close codes and reasons', () => {
  it.each([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4999])('%i may be sent', code => {
    expect(isValidCloseCode(code)).toBe(true);
  });

  it.each([999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 1000.5, Number.NaN, '1000', undefined])('%s may not be sent', code => {
    expect(isValidCloseCode(code)).toBe(false);
  });

  it('limits the reason to 123 bytes of UTF-8, not 123 characters', () => {
    expect(isValidCloseReason('a'.repeat(123))).toBe(true);
    expect(isValidCloseReason('a'.repeat(124))).toBe(false);
    expect(isValidCloseReason('é'.repeat(61))).toBe(true); // 122 bytes
    expect(isValidCloseReason('é'.repeat(62))).toBe(false); // 124 bytes
    expect(isValidCloseReason(42)).toBe(false);
  });

  it('checkClose throws RXCONN_INVALID_ARGUMENT with an exact message', () => {
    expect(() => checkClose(1005, '')).toThrow(expect.objectContaining({ code: 'RXCONN_INVALID_ARGUMENT', message: 'close code 1005 is not allowed: use 1000–1003, 1007–1014 or 3000–4999' }));
    expect(() => checkClose(1000, 'x'.repeat(124))).toThrow('close reason is 124 bytes in UTF-8: at most 123 are allowed');
    expect(() => checkClose(1000, 7)).toThrow('close reason must be a string (got number)');
    expect(() => checkClose(4000, 'done')).not.toThrow();
  });
});

describe('subprotocols and messages', () => {
  it('accepts tokens and rejects separators, spaces and empty names', () => {
    expect(isSubprotocol('chat.v2')).toBe(true);
    expect(isSubprotocol('graphql-transport-ws')).toBe(true);
    expect(isSubprotocol('')).toBe(false);
    expect(isSubprotocol('a b')).toBe(false);
    expect(isSubprotocol('a,b')).toBe(false);
    expect(isSubprotocol('ü')).toBe(false);
  });

  it('checkSubprotocols takes a string or a list of distinct tokens', () => {
    expect(checkSubprotocols('chat')).toEqual(['chat']);
    expect(checkSubprotocols(['a', 'b'])).toEqual(['a', 'b']);
    expect(() => checkSubprotocols(['a', 'a'])).toThrow('websocket subprotocol "a" is listed twice');
    expect(() => checkSubprotocols(['a b'])).toThrow('websocket subprotocol "a b" is not a valid token');
    expect(() => checkSubprotocols(3)).toThrow('websocket options.protocols must be a string or an array of strings');
  });

  it('a message is a string or bytes', () => {
    expect(isMessage('x')).toBe(true);
    expect(isMessage(new Uint8Array(1))).toBe(true);
    expect(isMessage(Buffer.from('x'))).toBe(true);
    expect(isMessage(42)).toBe(false);
    expect(isMessage({})).toBe(false);
  });
});

describe('websocket options', () => {
  it('applies the defaults and takes keepalive and closeTimeout from the connection', () => {
    expect(resolveWebSocketOptions('/chat?room=1', undefined, CONN)).toEqual({
      path: '/chat?room=1',
      protocols: [],
      headers: {},
      maxQueued: 1000,
      maxPayload: 100 * 1024 * 1024,
      handshakeTimeout: undefined,
      keepalive: CONN.keepalive,
      closeTimeout: CONN.closeTimeout,
    });
  });

  it('shares the resolved options of channels without options on the same path and connection settings, frozen', () => {
    const shared = resolveWebSocketOptions('/shared', undefined, CONN);
    expect(resolveWebSocketOptions('/shared', undefined, { ...CONN })).toBe(shared);
    expect(Object.isFrozen(shared)).toBe(true);
    expect(resolveWebSocketOptions('/other', undefined, CONN)).not.toBe(shared);
    expect(resolveWebSocketOptions('/shared', {}, CONN)).not.toBe(shared);
    expect(resolveWebSocketOptions('/shared', undefined, { ...CONN, closeTimeout: 1 })).toMatchObject({ closeTimeout: 1 });
    expect(resolveWebSocketOptions('/shared', undefined, { ...CONN, keepalive: { interval: 1, timeout: 1 } })).toMatchObject({ keepalive: { interval: 1, timeout: 1 } });
    expect(resolveWebSocketOptions('/shared', undefined, { ...CONN, keepalive: false })).toMatchObject({ keepalive: false });
  });

  it.each([
    ['chat', undefined, 'websocket path must be a string starting with "/" (got "chat")'],
    ['/a b', undefined, 'request.path "/a b" must start with "/" and contain no spaces or control characters'],
    ['/', { nope: 1 }, 'websocket options.nope is not a known option (known: protocols, headers, maxQueued, maxPayload, handshakeTimeout)'],
    ['/', { maxQueued: -1 }, 'websocket options.maxQueued must be an integer ≥ 0 (got -1)'],
    ['/', { maxPayload: 1.5 }, 'websocket options.maxPayload must be an integer ≥ 0 (got 1.5)'],
    ['/', { handshakeTimeout: 0 }, 'websocket options.handshakeTimeout must be a number > 0 and at most 2147483647 ms (about 24.8 days), or Infinity for none (got 0)'],
    ['/', { protocols: ['ok', 'not ok'] }, 'websocket subprotocol "not ok" is not a valid token'],
    ['/', { headers: { 'Sec-WebSocket-Key': 'x' } }, 'header "sec-websocket-key" is set by the WebSocket handshake'],
    ['/', { headers: { 'sec-websocket-protocol': 'x' } }, 'header "sec-websocket-protocol" is set by the WebSocket handshake: use options.protocols'],
    ['/', { headers: { upgrade: 'h2c' } }, 'header "upgrade" is connection-specific and managed by rxconn'],
    ['/', { headers: { 'x-a': 'line\r\nbreak' } }, 'header "x-a" has a forbidden character (CR, LF, NUL or a control character) in its value'],
  ])('rejects path %j with %j', (path, options, message) => {
    expect(() => resolveWebSocketOptions(path, options, CONN)).toThrow(expect.objectContaining({ code: 'RXCONN_INVALID_ARGUMENT', message }));
  });
});

describe('the opening handshake', () => {
  const key = 'dGhlIHNhbXBsZSBub25jZQ==';
  const accept = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='; // RFC 6455 §1.3

  it('computes sec-websocket-accept as RFC 6455 does', () => {
    expect(acceptFor(key)).toBe(accept);
  });

  it('sends the key, the version and the offered subprotocols after the user headers', () => {
    expect(handshakeHeaders(key, ['a', 'b'], { origin: 'https://x' })).toEqual({
      origin: 'https://x',
      'sec-websocket-key': key,
      'sec-websocket-version': '13',
      'sec-websocket-protocol': 'a, b',
    });
    expect(handshakeHeaders(key, [], {})).not.toHaveProperty('sec-websocket-protocol');
  });

  it('returns the chosen subprotocol of a valid 101', () => {
    expect(checkSwitched({ connection: 'Upgrade', upgrade: 'WebSocket', 'sec-websocket-accept': accept }, key, [])).toBe('');
    expect(checkSwitched({ connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-accept': accept, 'sec-websocket-protocol': 'b' }, key, ['a', 'b'])).toBe('b');
    expect(checkSwitched({ connection: 'keep-alive, upgrade', upgrade: 'websocket', 'sec-websocket-accept': accept }, key, [])).toBe('');
  });

  it.each([
    [{ connection: 'Upgrade', upgrade: 'h2c', 'sec-websocket-accept': accept }, [], 'websocket handshake failed: the server switched to "h2c", not "websocket"'],
    [{ connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-accept': 'nope' }, [], 'websocket handshake failed: sec-websocket-accept does not match the key sent'],
    [{ connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-accept': accept, 'sec-websocket-extensions': 'permessage-deflate' }, [], 'websocket handshake failed: the server chose an extension that was not offered (permessage-deflate)'],
    [{ connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-accept': accept }, ['a'], 'websocket handshake failed: the server chose no subprotocol (offered: a)'],
    [{ connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-accept': accept, 'sec-websocket-protocol': 'c' }, ['a', 'b'], 'websocket handshake failed: the server chose subprotocol "c", not one offered (a, b)'],
    [{ connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-accept': accept, 'sec-websocket-protocol': 'c' }, [], 'websocket handshake failed: the server chose subprotocol "c" but none was offered'],
    // gun: ws_SUITE reject_upgrade_missing_connection_header
    [{ upgrade: 'websocket', 'sec-websocket-accept': accept }, [], 'websocket handshake failed: the 101 has no connection header'],
    [{ connection: 'keep-alive', upgrade: 'websocket', 'sec-websocket-accept': accept }, [], 'websocket handshake failed: the 101\'s connection header is "keep-alive", without "upgrade"'],
    // gun: ws_SUITE reject_upgrade_missing_upgrade_header
    [{ connection: 'Upgrade', 'sec-websocket-accept': accept }, [], 'websocket handshake failed: the 101 has no upgrade header'],
  ])('rejects %j (offered %j)', (headers, protocols, message) => {
    let error: unknown;
    try {
      checkSwitched(headers, key, protocols);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WebSocketHandshakeError);
    expect(error).toMatchObject({ code: 'RXCONN_PROTOCOL', status: 101, message });
  });

  it('a handshake error decodes its body', () => {
    const error = new WebSocketHandshakeError('refused', 403, {}, Buffer.from('go away'));
    expect(error.text).toBe('go away');
    expect(error.retryable).toBe(false);
    expect(error.name).toBe('WebSocketHandshakeError');
  });
});

describe('close outcome', () => {
  const facts = (over: Partial<CloseFacts>): CloseFacts => ({ code: 1006, reason: '', initiator: undefined, failure: undefined, connectionLost: true, ...over });

  it('completes on a server close with 1000, 1001 or no code', () => {
    for (const code of [1000, 1001, 1005]) expect(closeOutcome(facts({ code }))).toBeUndefined();
  });

  it('errors RXCONN_WEBSOCKET_CLOSED with the code and reason of any other server close', () => {
    expect(closeOutcome(facts({ code: 4000, reason: 'bye' }))).toMatchObject({ code: 'RXCONN_WEBSOCKET_CLOSED', closeCode: 4000, reason: 'bye', message: 'websocket closed with code 4000 (bye)' });
    expect(closeOutcome(facts({ code: 1011 }))).toMatchObject({ closeCode: 1011, message: 'websocket closed with code 1011' });
  });

  it('an end without a close frame is 1006 if the connection reported the loss, a close of ours otherwise', () => {
    expect(closeOutcome(facts({}))).toMatchObject({ code: 'RXCONN_WEBSOCKET_CLOSED', closeCode: 1006 });
    expect(closeOutcome(facts({ connectionLost: false }))).toMatchObject({ code: 'RXCONN_CONNECTION_CLOSED', message: 'the connection was closed' });
  });

  it('a close we started completes, whatever the server answers; a shutdown without an answer errors', () => {
    expect(closeOutcome(facts({ initiator: 'user', code: 4001 }))).toBeUndefined();
    expect(closeOutcome(facts({ initiator: 'user' }))).toBeUndefined();
    expect(closeOutcome(facts({ initiator: 'release' }))).toBeUndefined();
    expect(closeOutcome(facts({ initiator: 'shutdown', code: 1001 }))).toBeUndefined();
    expect(closeOutcome(facts({ initiator: 'shutdown' }))).toMatchObject({ code: 'RXCONN_CONNECTION_CLOSED' });
  });

  it('a failure found on the way wins', () => {
    const failure = new KeepaliveTimeoutError(20);
    expect(closeOutcome(facts({ code: 1000, failure }))).toBe(failure);
    expect(closeOutcome(facts({ initiator: 'user', failure }))).toBe(failure);
  });

  it('maps ws protocol errors to the close code ws sends', () => {
    expect(closeCodeOf('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH')).toBe(1009);
    expect(closeCodeOf('WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH')).toBe(1009);
    expect(closeCodeOf('WS_ERR_INVALID_UTF8')).toBe(1007);
    expect(closeCodeOf('WS_ERR_INVALID_OPCODE')).toBe(1002);
  });
});
