/**
 * Vitest browser commands: run in Node, called from the browser tests through
 * `commands.<name>(...)` of `vitest/browser`. They start, break and inspect the test origins, and
 * switch the page offline.
 */
import type { BrowserCommand } from 'vitest/node';
import { closeOrigin, destroySessions, killWebSockets, originState, restartOrigin, startOrigin, stopOrigin } from './origins.js';
import type { OriginKind } from './origins.js';

/** The slice of Playwright's BrowserContext the offline command needs. */
interface OfflineContext {
  setOffline(offline: boolean): Promise<void>;
}

/**
 * Switches the page offline now and back online after `ms`, from Node. Chromium's offline mode
 * freezes open WebSockets, Vitest's own among them, so a test cannot ask to go back online: the
 * way back is scheduled here. Resolves once offline; the test should await the `offline` event.
 */
const offlineFor: BrowserCommand<[ms: number]> = async (ctx, ms) => {
  const context = (ctx as unknown as { context: OfflineContext }).context;
  await context.setOffline(true);
  setTimeout(() => void context.setOffline(false), ms);
};

export const commands = {
  startOrigin: ((_ctx, kind: OriginKind) => startOrigin(kind)) as BrowserCommand<[kind: OriginKind]>,
  stopOrigin: ((_ctx, id: number) => stopOrigin(id)) as BrowserCommand<[id: number]>,
  restartOrigin: ((_ctx, id: number) => restartOrigin(id)) as BrowserCommand<[id: number]>,
  killWebSockets: ((_ctx, id: number) => killWebSockets(id)) as BrowserCommand<[id: number]>,
  destroySessions: ((_ctx, id: number) => destroySessions(id)) as BrowserCommand<[id: number]>,
  originState: ((_ctx, id: number) => originState(id)) as BrowserCommand<[id: number]>,
  closeOrigin: ((_ctx, id: number) => closeOrigin(id)) as BrowserCommand<[id: number]>,
  offlineFor,
};
