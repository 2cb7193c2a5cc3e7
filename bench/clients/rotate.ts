/**
 * Session rotation for clients that reset every finished stream (http2-wrapper, and got on top
 * of it): Node's HTTP/2 server (nghttp2's rapid-reset guard) ends such a session with
 * GOAWAY(INTERNAL_ERROR) after ~1000 streams. To measure them at all, the bench gives them a new
 * connection every {@link BUDGET} requests, opened in advance, the old one closing once its
 * streams are done: the best case for them. The handshakes are inside the measurement.
 */
import type { Done, HttpClient } from '../common.js';

/** Requests per connection, under the server's 1000-reset burst. */
export const BUDGET = 900;

interface Slot {
  readonly client: HttpClient;
  used: number;
  inFlight: number;
  retired: boolean;
}

export async function rotating(connect: () => Promise<HttpClient>, budget = BUDGET): Promise<HttpClient> {
  const slot = (client: HttpClient): Slot => ({ client, used: 0, inFlight: 0, retired: false });
  let current = slot(await connect());
  /** The next connection: being opened, or open and unused. */
  let next: Promise<void> | undefined;
  let ready: Slot | undefined;
  let waiting: [string, Done][] = [];
  let failure: Error | undefined;
  const closing = new Set<Promise<void>>();

  const retire = (old: Slot): void => {
    old.retired = true;
    if (old.inFlight > 0) return;
    const done = old.client.close().catch(() => undefined);
    closing.add(done);
    void done.then(() => closing.delete(done));
  };

  const swap = (): void => {
    if (!ready) return;
    retire(current);
    current = ready;
    ready = undefined;
    next = undefined;
    const queued = waiting;
    waiting = [];
    for (const [path, done] of queued) request(path, done);
  };

  const prepare = (): void => {
    next ??= connect().then(
      (client) => {
        ready = slot(client);
        if (current.used >= budget) swap();
      },
      (error: unknown) => {
        failure = error instanceof Error ? error : new Error(String(error));
        const stuck = waiting;
        waiting = [];
        for (const [, done] of stuck) done(failure, 0);
      },
    );
  };

  function request(path: string, done: Done): void {
    if (failure) return done(failure, 0);
    if (current.used >= budget) {
      if (ready) swap();
      else {
        prepare();
        waiting.push([path, done]);
        return;
      }
    }
    if (current.used >= budget * 0.75) prepare();
    const s = current;
    s.used++;
    s.inFlight++;
    s.client.request(path, (error, bytes) => {
      s.inFlight--;
      if (s.retired && s.inFlight === 0) retire(s);
      done(error, bytes);
    });
  }

  return {
    request,
    note: `new connection every ${budget} requests`,
    close: async () => {
      retire(current);
      await next?.catch(() => undefined);
      if (ready) retire(ready);
      await Promise.all([...closing]);
    },
  };
}
