/**
 * rxconn in a browser: one permanent, monitored link to an origin, as RxJS (fetch and the native WebSocket underneath).
 */
export * from '../core/public.js';
export { open } from './open.js';
export { webSocket } from './web-socket.js';
export type { BrowserConnectionOptions, ProbeOptions } from './options.js';
export type { BrowserConnectionOptions as ConnectionOptions } from './options.js';
export type { ConnectionOptions as BaseConnectionOptions } from '../core/options.js';
