/**
 * `pullBody` in Chromium: the fetch body is read through the pull view (a paused Flow stops
 * reading the body reader), and breaking out of the loop aborts the fetch on the wire.
 */
import { describe, expect, test, vi } from 'vitest';
import { commands } from 'vitest/browser';
import { open, pullBody } from '../../lib/browser/index.js';
import { origin, track } from './helpers.js';

const FAST = { retry: { initialDelay: 20, maxDelay: 100, maxRetries: 1_000 }, connectTimeout: 2_000 } as const;

describe.each([
  ['HTTP/1.1', 'http1'],
  ['HTTP/2 over TLS', 'h2'],
] as const)('pullBody over %s', (_name, kind) => {
  test('yields the chunks in order; breaking out aborts the request', async () => {
    const o = await origin(kind);
    const conn = track(open(o.url, FAST));
    const decoder = new TextDecoder();
    let text = '';
    for await (const chunk of pullBody(flow => conn.get('/stream', { flow }))) {
      text += decoder.decode(chunk, { stream: true });
      if (text.includes('chunk 2\n')) break;
    }
    expect(text.startsWith('chunk 0\nchunk 1\nchunk 2\n')).toBe(true);
    await vi.waitFor(async () => expect((await commands.originState(o.id)).log).toContain('aborted /stream'));
    expect(conn.info().activeStreams).toBe(0);
    await conn.shutdown();
  });
});
