/**
 * `rxconn/angular`: an rxconn connection as an Angular service, with its status as a Signal,
 * closed with its injector, and its timers outside the Angular zone.
 *
 * @packageDocumentation
 */
export { ConnectionService } from './connection-service.js';
export type { OriginSource } from './connection-service.js';
export { injectConnection, provideConnection } from './provide-connection.js';
export { ZonedWebSocket } from './zoned-websocket.js';
