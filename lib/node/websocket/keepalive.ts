/**
 * WebSocket keepalive: a ping every `interval`; no pong within `timeout` means the peer is dead.
 * (A socket-level timer inside a protocol module: the exception STYLE.md allows.)
 */
import type WebSocket from 'ws';
import { KeepaliveTimeoutError } from '../../core/errors.js';
import type { KeepaliveOptions } from '../../core/options.js';

/**
 * Pings `ws` every `interval` ms once the previous pong arrived; calls `onDead` once if a pong
 * takes longer than `timeout` ms. Returns the stop function (idempotent).
 */
export function startKeepalive(ws: WebSocket, { interval, timeout }: Required<KeepaliveOptions>, onDead: (error: KeepaliveTimeoutError) => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedulePing = (): void => {
    timer = setTimeout(ping, interval);
  };
  const ping = (): void => {
    if (stopped || ws.readyState !== ws.OPEN) return;
    ws.ping();
    timer = setTimeout(dead, timeout);
  };
  const dead = (): void => {
    if (stopped) return;
    stop();
    onDead(new KeepaliveTimeoutError(timeout));
  };
  const onPong = (): void => {
    if (stopped) return;
    clearTimeout(timer);
    schedulePing();
  };
  const stop = (): void => {
    stopped = true;
    clearTimeout(timer);
    ws.off('pong', onPong);
  };
  ws.on('pong', onPong);
  schedulePing();
  return stop;
}
