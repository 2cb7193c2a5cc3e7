/**
 * Every sample runs by itself, offline (it starts its own server on 127.0.0.1), and exits 0.
 * (They are type-checked by `npm run typecheck`: tsconfig includes samples/.)
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const samples = readdirSync(new URL('../samples/', import.meta.url)).filter(name => name.endsWith('.ts')).sort();

function run(file: string, args: string[] = []): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    const child = execFile(process.execPath, ['--import', 'tsx', `samples/${file}`, ...args], { timeout: 30_000, killSignal: 'SIGKILL' }, (_error, stdout, stderr) =>
      resolve({ code: child.exitCode, signal: child.signalCode, stdout, stderr }),
    );
  });
}

describe('samples', () => {
  it('are all here', () => {
    expect(samples).toEqual(expect.arrayContaining([
      'angular-service.ts', 'demo.ts', 'graceful-shutdown.ts', 'http1-basics.ts', 'http2-multiplexing.ts', 'reconnect.ts', 'sse-feed.ts', 'through-a-proxy.ts', 'tracing.ts', 'websocket-chat.ts',
    ]));
  });

  it.each(samples)('%s runs and exits 0', { timeout: 40_000 }, async file => {
    const result = await run(file);
    expect(result.stderr).toBe('');
    expect(result.signal).toBeNull();
    expect(result.code).toBe(0);
    expect(result.stdout).not.toBe('');
  });

  it('tracing.ts builds spans from the diagnostics channels: parent from the caller’s context, traceparent sent, cancel not an error', { timeout: 40_000 }, async () => {
    const result = await run('tracing.ts');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/span "GET \/cart" \(child of "checkout"\): ok, .*"http\.response\.status_code":200/);
    expect(result.stdout).toContain('GET /cart answered: traced');
    expect(result.stdout).toMatch(/span "GET \/stream": cancelled \(not an error\)/);
    expect(result.stdout.indexOf('connection event: connecting')).toBeLessThan(result.stdout.indexOf('connection event: closed'));
  });

  it('demo.ts --http2 tells the same story over HTTP/2 and exits 0', { timeout: 40_000 }, async () => {
    const result = await run('demo.ts', ['--http2']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('connected over http2');
    expect(result.stdout).toContain('GET /slow -> the slow answer made it');
  });
});
