/**
 * Writing one HTTP/1.1 request onto the socket: the head (request line, host, the request's
 * headers, the body framing) and the body, framed by content-length when its length is known and
 * chunked otherwise, under the `sendTimeout` bound on a body the peer stops taking. The head and
 * whatever of the body is ready at once leave in one corked write.
 */
import type { Socket } from 'node:net';
import { announcesLength, fixedLength, sendBody } from '../core/body-source.js';
import type { PreparedRequest } from '../core/request-init.js';
import type { Exchange } from './http1-exchange.js';
import { watchSendStall } from './send-stall.js';

const CHUNK_END = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

/** The request head: request line, host, the request's headers and the body framing. */
function serializeHead(request: PreparedRequest, host: string, length: number | undefined, connection: string | undefined): string {
  let head = `${request.method} ${request.path} HTTP/1.1\r\nhost: ${host}\r\n`;
  for (const [name, value] of request.headers) head += `${name}: ${value}\r\n`;
  if (length === undefined) head += 'transfer-encoding: chunked\r\n';
  else if (announcesLength(request.method, length)) head += `content-length: ${length}\r\n`;
  if (connection) head += connection;
  return head + '\r\n';
}

/**
 * Writes `request` for `exchange` onto `socket`; `connection` holds extra head lines (e.g.
 * `connection: close\r\n`). The body's progress goes to `exchange` (`body`, `stall`, `bodyDone`),
 * a stall or a failure of it to `exchange.session`.
 */
export function writeRequest(socket: Socket, exchange: Exchange, request: PreparedRequest, host: string, connection: string | undefined, sendTimeout: number): void {
  const length = fixedLength(request.body);
  socket.cork();
  // latin1: header values may carry obs-text (\x80-\xff), one byte each, as node:http sends them.
  socket.write(serializeHead(request, host, length, connection), 'latin1');
  const stall = watchSendStall(socket, sendTimeout, () => exchange.session.bodyStalled(exchange));
  exchange.stall = stall;
  exchange.body = sendBody(request.body, {
    write: chunk => {
      if (length !== undefined) {
        stall.wrote(socket.write(chunk));
        return;
      }
      socket.write(`${chunk.length.toString(16)}\r\n`);
      socket.write(chunk);
      stall.wrote(socket.write(CHUNK_END));
    },
    end: () => {
      stall.stop();
      exchange.bodyDone = true;
      if (length === undefined) socket.write(LAST_CHUNK);
    },
    fail: error => {
      stall.stop();
      exchange.session.bodyFailed(exchange, error);
    },
  });
  process.nextTick(uncork, socket);
}

function uncork(socket: Socket): void {
  socket.uncork();
}
