/**
 * The bound on a stalled request body: when a write leaves the writer above its high-water mark,
 * the peer has `timeout` ms to take bytes (a `drain`) before `stalled` is called.
 */
import type { Writable } from 'node:stream';

/** Watches the writes of one request body. */
export interface SendStallWatch {
  /** After each write, with what `write()` returned. */
  wrote(accepted: boolean): void;
  /** The body is done (or failed): no more watching. Idempotent. */
  stop(): void;
}

/** Watches `writer` (a socket or an HTTP/2 stream) for a drain that never comes. */
export function watchSendStall(writer: Writable, timeout: number, stalled: () => void): SendStallWatch {
  let timer: NodeJS.Timeout | undefined;
  const onDrain = (): void => {
    clearTimeout(timer);
    timer = undefined;
  };
  writer.on('drain', onDrain);
  return {
    wrote(accepted) {
      if (accepted || timer !== undefined || !Number.isFinite(timeout)) return;
      timer = setTimeout(() => {
        timer = undefined;
        stalled();
      }, timeout);
    },
    stop() {
      clearTimeout(timer);
      timer = undefined;
      writer.off('drain', onDrain);
    },
  };
}
