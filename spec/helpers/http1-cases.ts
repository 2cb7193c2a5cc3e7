/**
 * Hand-written HTTP/1.1 responses for the differential tests against llhttp: RFC 9112's framing
 * rules, the inputs of issue 11, and the places where rxconn is deliberately stricter.
 */
import type { Run } from './http1-events.js';

/**
 * A deliberate difference from llhttp (each one is listed in the README):
 * - `stricter`: rxconn refuses a response llhttp accepts.
 * - `closes`: both read the same response; rxconn does not reuse the connection after it, llhttp would.
 */
export type Difference = 'stricter' | 'closes';

export interface Case {
  readonly name: string;
  readonly text: string;
  readonly run?: Run;
  /** Set where rxconn deliberately differs from llhttp; the test checks the difference is exactly that. */
  readonly differs?: Difference;
}

const CHUNKED = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';
const close: Run = { close: true };

/** `HTTP/1.1 200 OK` with `head` as its header lines and `body` after the empty line. */
const ok = (head: string, body = ''): string => `HTTP/1.1 200 OK\r\n${head}\r\n${body}`;
/** A chunked response whose first chunk-size line is `line` (then "hi" and the last chunk). */
const chunkLine = (line: string): string => `${CHUNKED}${line}\r\nhi\r\n0\r\n\r\n`;

export const CASES: readonly Case[] = [
  // --- framing (RFC 9112 §6) ---
  { name: 'content-length body', text: ok('Content-Length: 5\r\nContent-Type: text/plain\r\n', 'hello') },
  { name: 'content-length 0', text: ok('Content-Length: 0\r\n') },
  { name: 'content-length with leading and trailing spaces', text: ok('Content-Length:   3  \r\n', 'abc') },
  { name: 'content-length with a trailing tab', text: ok('Content-Length: 3\t\r\n', 'abc') },
  { name: 'content-length +3', text: ok('Content-Length: +3\r\n', 'abc') },
  { name: 'content-length 0x3', text: ok('Content-Length: 0x3\r\n', 'abc') },
  { name: 'content-length empty', text: ok('Content-Length:\r\n', 'abc'), run: close },
  { name: 'content-length repeated with the same value', text: ok('Content-Length: 3\r\nContent-Length: 3\r\n', 'abc') },
  { name: 'content-length list of equal values', text: ok('Content-Length: 3, 3\r\n', 'abc') },
  { name: 'conflicting content-lengths', text: ok('Content-Length: 3\r\nContent-Length: 4\r\n', 'abcd') },
  { name: 'content-length of 2^53 - 1, cut short', text: ok('Content-Length: 9007199254740991\r\n', 'abc'), run: close },
  { name: 'content-length of 2^53', text: ok('Content-Length: 9007199254740992\r\n', 'abc'), run: close, differs: 'stricter' },
  { name: 'content-length body cut short', text: ok('Content-Length: 10\r\n', 'hello'), run: close },
  { name: 'content-length body followed by more bytes in the same read', text: ok('Content-Length: 2\r\n', 'okEXTRA') },
  { name: 'content-length body followed by CRLFs', text: ok('Content-Length: 2\r\n', 'ok\r\n\r\n') },
  { name: 'content-length and transfer-encoding', text: ok('Content-Length: 4\r\nTransfer-Encoding: chunked\r\n', '2\r\nok\r\n0\r\n\r\n') },
  { name: 'transfer-encoding and content-length', text: ok('Transfer-Encoding: chunked\r\nContent-Length: 4\r\n', '2\r\nok\r\n0\r\n\r\n') },
  { name: 'content-length then an empty transfer-encoding', text: ok('Content-Length: 2\r\nTransfer-Encoding:\r\n', 'ok') },
  { name: 'an empty transfer-encoding then content-length', text: ok('Transfer-Encoding: \r\nContent-Length: 2\r\n', 'ok') },
  { name: 'chunked body', text: `${CHUNKED}5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n` },
  { name: 'chunked with trailers', text: `${CHUNKED}2\r\nok\r\n0\r\nX-Sum: 1\r\nSet-Cookie: a=1\r\nX-Sum: 2\r\n\r\n` },
  { name: 'chunked, upper-case hex and leading zeros', text: `${CHUNKED}00A\r\n0123456789\r\n000\r\n\r\n` },
  { name: 'transfer-encoding: gzip, chunked', text: ok('Transfer-Encoding: gzip, chunked\r\n', '2\r\nok\r\n0\r\n\r\n') },
  { name: 'transfer-encoding: gzip,chunked', text: ok('Transfer-Encoding: gzip,chunked\r\n', '2\r\nok\r\n0\r\n\r\n') },
  { name: 'transfer-encoding: Chunked', text: ok('Transfer-Encoding: Chunked\r\n', '2\r\nok\r\n0\r\n\r\n') },
  { name: 'transfer-encoding: chunked followed by spaces', text: ok('Transfer-Encoding: chunked  \r\n', '2\r\nok\r\n0\r\n\r\n') },
  { name: 'transfer-encoding: chunked followed by a tab (not chunked: read until close)', text: ok('Transfer-Encoding: chunked\t\r\n', '2\r\nok\r\n0\r\n\r\n'), run: close },
  { name: 'transfer-encoding: chunked, gzip (read until close)', text: ok('Transfer-Encoding: chunked, gzip\r\n', 'raw bytes'), run: close },
  { name: 'transfer-encoding: identity (read until close)', text: ok('Transfer-Encoding: identity\r\n', 'raw'), run: close },
  { name: 'two transfer-encoding fields, chunked last', text: ok('Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n', '2\r\nok\r\n0\r\n\r\n') },
  { name: 'two transfer-encoding fields, chunked first (read until close)', text: ok('Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n', 'raw'), run: close },
  { name: 'transfer-encoding: xchunked (read until close)', text: ok('Transfer-Encoding: xchunked\r\n', 'raw'), run: close },
  { name: 'close-delimited body', text: ok('Content-Type: text/plain\r\n', 'until the end\r\n\r\nwith CRLFs'), run: close },
  { name: 'empty close-delimited body', text: ok(''), run: close },
  { name: 'HTTP/1.0 close-delimited body', text: 'HTTP/1.0 200 OK\r\nServer: old\r\n\r\nold school', run: close },
  { name: 'HTTP/1.0 keep-alive with content-length', text: 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok' },
  { name: 'HTTP/1.0 chunked without keep-alive', text: 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n' },
  { name: 'HTTP/1.0 chunked with keep-alive', text: 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n', differs: 'closes' },
  { name: 'connection: close', text: ok('Connection: close\r\nContent-Length: 2\r\n', 'ok') },
  { name: 'connection: keep-alive, Close', text: ok('Connection: keep-alive, Close\r\nContent-Length: 2\r\n', 'ok') },
  { name: 'connection: closed (not close)', text: ok('Connection: closed\r\nContent-Length: 2\r\n', 'ok') },
  { name: 'connection: close followed by a tab', text: ok('Connection: close\t\r\nContent-Length: 2\r\n', 'ok'), differs: 'closes' },
  { name: 'connection: close, followed by more bytes in the same read', text: ok('Connection: close\r\nContent-Length: 2\r\n', 'okHTTP/1.1 200 OK\r\n\r\n') },
  // --- no body, whatever the fields say (RFC 9112 §6.3) ---
  { name: '204 with a content-length and a body', text: 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nhello' },
  { name: '204 with a content-length', text: 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n' },
  { name: '304 with transfer-encoding chunked', text: 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n' },
  { name: '304 with a chunked body', text: 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' },
  { name: 'HEAD with a content-length', text: ok('Content-Length: 1000\r\n'), run: { methods: ['HEAD'] } },
  { name: 'HEAD with a content-length and a body', text: ok('Content-Length: 5\r\n', 'hello'), run: { methods: ['HEAD'] } },
  { name: '204 with an invalid content-length', text: 'HTTP/1.1 204 No Content\r\nContent-Length: five\r\n\r\n' },
  { name: 'HEAD with content-length and transfer-encoding', text: ok('Content-Length: 5\r\nTransfer-Encoding: chunked\r\n'), run: { methods: ['HEAD'] } },
  // --- 1xx (RFC 9110 §15.2) ---
  { name: '100 then 200', text: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', run: { methods: ['POST'] } },
  { name: '100, 103 and 102 then 200', text: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nLink: </b.js>\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' },
  { name: '100 then an empty line then 200 (aiohttp)', text: 'HTTP/1.1 100 Continue\r\n\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', run: { methods: ['POST'] } },
  { name: '199 with a content-length (no body)', text: 'HTTP/1.1 199 Odd\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' },
  { name: '100 with a body', text: 'HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n' },
  { name: '100 with connection: close, then 200', text: 'HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok' },
  { name: 'HTTP/1.0 100, then 200', text: 'HTTP/1.0 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok' },
  { name: '100 then the connection closes', text: 'HTTP/1.1 100 Continue\r\n\r\n', run: close },
  { name: '103 with content-length and transfer-encoding', text: 'HTTP/1.1 103 Early Hints\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n' },
  { name: '101 with the next protocol\'s bytes', text: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello' },
  // --- empty lines before the status line (llhttp skips CR and LF there) ---
  { name: 'CRLF before the status line', text: `\r\n${ok('Content-Length: 2\r\n', 'ok')}` },
  { name: 'LF LF before the status line', text: `\n\n${ok('Content-Length: 2\r\n', 'ok')}` },
  { name: 'a lone CR before the status line', text: `\r${ok('Content-Length: 2\r\n', 'ok')}` },
  { name: 'a space before the status line', text: ` ${ok('Content-Length: 2\r\n', 'ok')}` },
  // --- the status line ---
  { name: 'no reason phrase', text: 'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n' },
  { name: 'an empty reason phrase', text: 'HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n' },
  { name: 'obs-text in the reason phrase', text: 'HTTP/1.1 200 \xc9t\xe9 ok\r\nContent-Length: 0\r\n\r\n' },
  { name: 'a tab in the reason phrase', text: 'HTTP/1.1 200 O\tK\r\nContent-Length: 0\r\n\r\n' },
  { name: 'a control character in the reason phrase', text: 'HTTP/1.1 200 O\x01K\r\nContent-Length: 0\r\n\r\n', differs: 'stricter' },
  { name: 'NUL in the reason phrase', text: 'HTTP/1.1 200 O\x00K\r\nContent-Length: 0\r\n\r\n', differs: 'stricter' },
  { name: 'a bare LF after the status line', text: 'HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n' },
  { name: 'CR CR after the status line', text: 'HTTP/1.1 200 OK\r\rContent-Length: 0\r\n\r\n', differs: 'stricter' },
  { name: 'a two-digit status', text: 'HTTP/1.1 20 OK\r\n\r\n' },
  { name: 'a four-digit status', text: 'HTTP/1.1 2000 OK\r\n\r\n' },
  { name: 'no space before the reason', text: 'HTTP/1.1 200OK\r\n\r\n' },
  { name: 'two spaces before the status', text: 'HTTP/1.1  200 OK\r\n\r\n' },
  { name: 'a status below 100', text: 'HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n', differs: 'stricter' },
  { name: 'a status above 599', text: 'HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n' },
  { name: 'HTTP/2.0', text: 'HTTP/2.0 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', differs: 'stricter' },
  { name: 'HTTP/0.9', text: 'HTTP/0.9 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', differs: 'stricter' },
  { name: 'HTTP/1.2', text: 'HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n' },
  { name: 'HTTP/2', text: 'HTTP/2 200 OK\r\n\r\n' },
  { name: 'RTSP/1.0', text: 'RTSP/1.0 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n', differs: 'stricter' },
  { name: 'ICY (SHOUTcast)', text: 'ICY 200 OK\r\n\r\n' },
  { name: 'lower-case http', text: 'http/1.1 200 OK\r\n\r\n' },
  { name: 'garbage', text: 'hello\r\n\r\n' },
  { name: 'a TLS record', text: '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03' },
  // --- field lines (RFC 9112 §5, RFC 9110 §5.5) ---
  { name: 'repeated fields and set-cookie', text: ok('Set-Cookie: a=1\r\nX-Dup: 1\r\nx-dup: 2\r\nX-Dup:3\r\nX-Empty:\r\nContent-Length: 0\r\n') },
  { name: 'OWS around values', text: ok('X-A:   padded \t \r\nX-B:\tx\r\nContent-Length: 0\r\n') },
  { name: 'obs-text in values', text: ok('X-Name: caf\xe9 \xa0\xff\r\nContent-Length: 0\r\n') },
  { name: 'a bare LF inside a value', text: ok('Foo: a\nBar: b\r\nContent-Length: 0\r\n') },
  { name: 'a bare CR inside a value', text: ok('Foo: 1\rBar: 2\r\nContent-Length: 0\r\n') },
  { name: 'NUL in a value', text: ok('Foo: a\x00b\r\nContent-Length: 0\r\n') },
  { name: 'a control character in a value', text: ok('Foo: a\x01b\r\nContent-Length: 0\r\n') },
  { name: 'ESC in a value', text: ok('Foo: \x1b[31mred\r\nContent-Length: 0\r\n') },
  { name: 'vertical tab in a value', text: ok('Foo: a\x0bb\r\nContent-Length: 0\r\n') },
  { name: 'DEL in a value', text: ok('Foo: a\x7fb\r\nContent-Length: 0\r\n') },
  { name: 'a control character in a name', text: ok('Fo\x01o: a\r\nContent-Length: 0\r\n') },
  { name: 'bare LF line ends throughout', text: 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok' },
  { name: 'a bare LF ending the head', text: ok('Content-Length: 2\n', 'ok') },
  { name: 'CR CR ending the head', text: 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\rok' },
  { name: 'obs-fold', text: ok('X-A: a\r\n folded\r\nContent-Length: 0\r\n') },
  { name: 'obs-fold with a tab', text: ok('X-A: a\r\n\tfolded\r\nContent-Length: 0\r\n') },
  { name: 'a space at the start of the first field line', text: 'HTTP/1.1 200 OK\r\n X-A: a\r\nContent-Length: 0\r\n\r\n' },
  { name: 'a line without a colon', text: ok('NoColon\r\nContent-Length: 0\r\n') },
  { name: 'an empty name', text: ok(': value\r\nContent-Length: 0\r\n') },
  { name: 'a space in a name', text: ok('Bad Name: x\r\nContent-Length: 0\r\n') },
  { name: 'a space before the colon', text: ok('Content-Length : 0\r\n') },
  { name: 'obs-text in a name', text: ok('X-Caf\xe9: x\r\nContent-Length: 0\r\n') },
  { name: 'a name with every token character', text: ok("!#$%&'*+-.^_`|~09azAZ: x\r\nContent-Length: 0\r\n") },
  // --- chunk-size lines and extensions (RFC 9112 §7.1) ---
  { name: 'chunk extensions', text: chunkLine('2;a=b;c;d="q;x\\"y"') },
  { name: 'an empty chunk extension value', text: chunkLine('2;a=') },
  { name: 'a chunk extension with an empty name', text: chunkLine('2;=x') },
  { name: 'two semicolons in a chunk-size line', text: chunkLine('2;;x') },
  { name: 'a quote inside a chunk extension token value', text: chunkLine('2;a=b"c"') },
  { name: 'a chunk-size line ending in ;', text: chunkLine('2;') },
  { name: 'an unbalanced quote in a chunk extension', text: chunkLine('2;a="b') },
  { name: 'a space after the ; of a chunk extension', text: chunkLine('2; a=b') },
  { name: 'a space before the ; of a chunk extension', text: chunkLine('2 ;a=b') },
  { name: 'a space in a chunk extension value', text: chunkLine('2;a=b c') },
  { name: 'a space after a quoted chunk extension value', text: chunkLine('2;a="b" ') },
  { name: 'a control character in a quoted chunk extension value', text: chunkLine('2;a="b\x01"') },
  { name: 'a leading space in a chunk size', text: chunkLine(' 2') },
  { name: 'a trailing space in a chunk size', text: chunkLine('2 ') },
  { name: 'a trailing tab in a chunk size', text: chunkLine('2\t') },
  { name: 'a trailing NBSP in a chunk size', text: chunkLine('2\xa0') },
  { name: 'a trailing vertical tab in a chunk size', text: chunkLine('2\x0b') },
  { name: 'a 0x chunk size', text: chunkLine('0x2') },
  { name: 'a negative chunk size', text: chunkLine('-2') },
  { name: 'an empty chunk size', text: chunkLine('') },
  { name: 'a chunk size of 2^53', text: `${CHUNKED}20000000000000\r\nhi`, run: close, differs: 'stricter' },
  { name: 'a chunk size of 2^53 - 1, cut short', text: `${CHUNKED}1FFFFFFFFFFFFF\r\nhi`, run: close },
  { name: 'a chunk-size line with a bare LF', text: `${CHUNKED}2\nhi\r\n0\r\n\r\n` },
  { name: 'chunk data followed by a bare LF', text: `${CHUNKED}2\r\nhi\n0\r\n\r\n` },
  { name: 'chunk data longer than its size', text: `${CHUNKED}2\r\nhey\r\n0\r\n\r\n` },
  { name: 'chunk data without its CRLF', text: `${CHUNKED}2\r\nhi0\r\n\r\n` },
  { name: 'a chunked body cut short', text: `${CHUNKED}5\r\nhel`, run: close },
  { name: 'a chunked body cut before the last CRLF', text: `${CHUNKED}0\r\n`, run: close },
  // --- trailers ---
  { name: 'a bare LF in the trailers', text: `${CHUNKED}0\r\nX-T: a\nX-U: b\r\n\r\n` },
  { name: 'a control character in a trailer', text: `${CHUNKED}0\r\nX-T: a\x01\r\n\r\n` },
  { name: 'a malformed trailer line', text: `${CHUNKED}0\r\nnot a trailer\r\n\r\n` },
  { name: 'obs-fold in the trailers', text: `${CHUNKED}0\r\nX-T: a\r\n b\r\n\r\n` },
  { name: 'a content-length trailer', text: `${CHUNKED}0\r\nContent-Length: 5\r\n\r\n` },
  { name: 'a connection: close trailer', text: `${CHUNKED}0\r\nConnection: close\r\n\r\n` },
  { name: 'trailers ending with a bare LF', text: `${CHUNKED}0\r\nX-T: a\r\n\n` },
  { name: 'a trailer with an empty value', text: `${CHUNKED}0\r\nX-T:\r\n\r\n` },
  { name: 'a transfer-encoding trailer', text: `${CHUNKED}0\r\nTransfer-Encoding: gzip\r\n\r\n` },
  { name: 'the last chunk with an extension', text: `${CHUNKED}2\r\nok\r\n0;done=1\r\n\r\n` },
  // --- more heads ---
  { name: 'a keep-alive hint', text: ok('Keep-Alive: timeout=5, max=100\r\nContent-Length: 2\r\n', 'ok') },
  { name: 'connection: upgrade on a 200', text: ok('Connection: upgrade\r\nUpgrade: websocket\r\nContent-Length: 2\r\n', 'ok') },
  { name: 'HEAD answered without a length (the server closes after it)', text: ok('Content-Type: text/html\r\n'), run: { methods: ['HEAD'] } },
  { name: 'HEAD answered with transfer-encoding gzip', text: ok('Transfer-Encoding: gzip\r\n'), run: { methods: ['HEAD'] } },
  { name: '304 with transfer-encoding gzip', text: 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: gzip\r\n\r\n' },
  { name: '204 without a length', text: 'HTTP/1.1 204 No Content\r\nServer: x\r\n\r\n' },
  { name: 'HTTP/1.0 204 with keep-alive', text: 'HTTP/1.0 204 No Content\r\nConnection: keep-alive\r\n\r\n' },
  { name: 'a 103 and a HEAD response', text: 'HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n', run: { methods: ['HEAD'] } },
  { name: 'a head split by CR CR LF between fields', text: ok('X-A: 1\r\r\nContent-Length: 0\r\n') },
  { name: 'a value that is only whitespace', text: ok('X-A: \t \r\nContent-Length: 0\r\n') },
];
