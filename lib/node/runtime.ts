/**
 * The Node runtime: TCP/TLS sockets, HTTP/1.1 and HTTP/2 sessions, WebSocket over an upgraded
 * socket (see `lib/core/runtime.ts`).
 */
import type { Runtime } from '../core/runtime.js';
import { nodeDiagnostics } from './diagnostics.js';
import { sessionLifetime } from './protocols.js';
import { resolveRoute } from './proxy/options.js';
import { resolveTls } from './tls-options.js';
import { Link } from './websocket/link.js';

export const nodeRuntime: Runtime = {
  name: 'node',
  resolveTls,
  resolveRoute: (proxy, socketPath, origin) => resolveRoute(proxy, socketPath, origin),
  sessions: sessionLifetime,
  createLink: (connection, options, sink, hooks) => new Link(connection, options, sink, hooks),
  diagnostics: nodeDiagnostics,
};
