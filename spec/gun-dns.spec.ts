/**
 * Gun scenario A9 (`event_SUITE:domain_lookup_end_error`): a name that does not resolve. rxconn
 * says what failed (RXCONN_DNS, the host, the resolver's code); ENOTFOUND is not retried, any
 * other lookup failure (EAI_AGAIN) is. The lookups are scripted through `tls.lookup` (node's
 * own `lookup` hook, handed errors shaped as getaddrinfo's), so no resolver is asked.
 */
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { DnsError, open, text } from '../lib/index.js';
import { toConnectionError } from '../lib/core/errors.js';
import { leakCheck, record } from './helpers/lifecycle.js';
import { listenLocal } from './helpers/servers.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));

/** An error as node's getaddrinfo gives it. */
function lookupError(code: string, hostname: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), { code, syscall: 'getaddrinfo', hostname, errno: code === 'ENOTFOUND' ? -3008 : -3001 });
}

/** A `lookup` that fails with `codes` in turn, then answers 127.0.0.1. */
function scriptedLookup(codes: string[]): { lookup: LookupFunction; calls: () => number } {
  let calls = 0;
  const lookup = ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    const code = codes[calls++];
    if (code) process.nextTick(callback, lookupError(code, hostname));
    else if (options.all) process.nextTick(callback, null, [{ address: '127.0.0.1', family: 4 }]);
    else process.nextTick(callback, null, '127.0.0.1', 4);
  }) as LookupFunction;
  return { lookup, calls: () => calls };
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('DNS failures', () => {
  it('maps a getaddrinfo error to RXCONN_DNS naming the host and the code', () => {
    const missing = toConnectionError(lookupError('ENOTFOUND', 'nonexistent.invalid'));
    expect(missing).toBeInstanceOf(DnsError);
    expect(missing).toMatchObject({ code: 'RXCONN_DNS', host: 'nonexistent.invalid', lookupCode: 'ENOTFOUND', retryable: false, message: 'DNS lookup of "nonexistent.invalid" failed: no such name (ENOTFOUND)' });
    expect(toConnectionError(lookupError('EAI_AGAIN', 'slow.example'))).toMatchObject({ code: 'RXCONN_DNS', lookupCode: 'EAI_AGAIN', retryable: true, message: 'DNS lookup of "slow.example" failed: the resolver did not answer in time (EAI_AGAIN)' });
    expect(toConnectionError(lookupError('EAI_FAIL', 'broken.example'))).toMatchObject({ code: 'RXCONN_DNS', retryable: true, message: 'DNS lookup of "broken.example" failed: EAI_FAIL' });
  });

  // gun: event_SUITE domain_lookup_end_error
  it('an unknown host (ENOTFOUND) ends the connection at once with RXCONN_DNS, not retried', async () => {
    const leaks = leakCheck();
    const script = scriptedLookup(['ENOTFOUND', 'ENOTFOUND', 'ENOTFOUND']);
    const conn = open('https://nonexistent.invalid', { tls: { lookup: script.lookup }, retry: { maxRetries: 2, initialDelay: 1 } });
    const log = record(conn);
    const queued = firstValueFrom(conn.get('/')).catch((e: unknown) => e);
    await log.done;
    expect(log.types()).toEqual(['connecting']);
    expect(log.error()).toMatchObject({ code: 'RXCONN_DNS', host: 'nonexistent.invalid', lookupCode: 'ENOTFOUND', retryable: false });
    expect(await queued).toBe(log.error());
    expect(script.calls()).toBe(1);
    await leaks.check();
  });

  it('a resolver that does not answer (EAI_AGAIN) is retried, and the connection comes up once it does', async () => {
    const server = https.createServer({ cert: fixture('server.pem'), key: fixture('server.key') }, (req, res) => res.end(`dns ${req.url}`));
    const { port, close } = await listenLocal(server);
    closers.push(close);
    const script = scriptedLookup(['EAI_AGAIN']);
    const conn = open(`https://flaky.invalid:${port}`, { tls: { lookup: script.lookup, rejectUnauthorized: false }, retry: { maxRetries: 2, initialDelay: 1 } });
    const log = record(conn);
    expect(await firstValueFrom(conn.get('/up').pipe(text()))).toMatchObject({ status: 200, body: 'dns /up' });
    await conn.shutdown();
    expect(log.types().slice(0, 4)).toEqual(['connecting', 'retrying', 'connecting', 'connected']);
    expect(log.events[1]).toMatchObject({ type: 'retrying', error: { code: 'RXCONN_DNS', lookupCode: 'EAI_AGAIN' } });
    expect(script.calls()).toBe(2);
  });
});
