/**
 * The types of the rig's commands, as the browser tests see them (`commands` of `vitest/browser`).
 */
import type { OriginHandle, OriginKind } from './origins.js';

declare module 'vitest/browser' {
  interface BrowserCommands {
    startOrigin(kind: OriginKind): Promise<OriginHandle>;
    stopOrigin(id: number): Promise<void>;
    restartOrigin(id: number): Promise<void>;
    killWebSockets(id: number): Promise<number>;
    destroySessions(id: number): Promise<number>;
    originState(id: number): Promise<{ log: string[]; open: number; clients: number; sockets: number; sessions: number }>;
    closeOrigin(id: number): Promise<void>;
    offlineFor(ms: number): Promise<void>;
  }
}
