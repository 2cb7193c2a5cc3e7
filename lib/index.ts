/**
 * rxconn: one permanent, monitored, self-healing connection to an origin, as RxJS (the Node build).
 */
export * from './core/public.js';
export { open } from './node/open.js';
export { webSocket } from './node/web-socket.js';
export type { ConnectionOptions } from './node/open.js';
export type { ConnectionOptions as BaseConnectionOptions } from './core/options.js';
export type { TlsOptions } from './node/tls-options.js';
export type { ProxyOption } from './node/proxy/options.js';
export type { ProxyConfig, ProxyEntry } from './node/proxy/url.js';
