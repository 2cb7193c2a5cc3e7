/**
 * The Node runtime: sessions over `node:net`/`node:tls` sockets (HTTP/1.1, HTTP/2) and
 * WebSockets over an upgraded HTTP/1.1 socket (`ws`).
 */
import type { Runtime } from '../core/runtime.js';
import { release, sessionLifetime } from './protocols.js';
import { Link } from './websocket/link.js';

/** What a Node connection runs on. */
export const nodeRuntime: Runtime = {
  sessions: sessionLifetime,
  release,
  createLink: (connection, options, sink, hooks) => new Link(connection, options, sink, hooks),
};
