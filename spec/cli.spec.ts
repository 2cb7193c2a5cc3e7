/**
 * The `rxconn` command: argument parsing without I/O, `main(argv, io)` in-process against real
 * loopback servers (HTTP/1.1, h2c, TLS), and one run of the real process.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import http from 'node:http';
import { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USAGE, USAGE_HINT, parseArgs } from '../lib/cli/args.js';
import type { CliCommand } from '../lib/cli/args.js';
import { EXIT, main } from '../lib/cli/main.js';
import { basicAuthorization, headerRecord, requestHeaders } from '../lib/cli/headers.js';
import { BIG, handler, terminal } from './helpers/cli.js';
import { leakCheck } from './helpers/lifecycle.js';
import { deadPort, startServer } from './helpers/servers.js';
import type { TestServer } from './helpers/servers.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));


describe('parseArgs', () => {
  const run = (argv: string[]): CliCommand => {
    const parsed = parseArgs(argv);
    if (parsed.kind !== 'run') throw new Error(`expected a command, got ${JSON.stringify(parsed)}`);
    return parsed;
  };

  it('reads a command, its URL and every flag', () => {
    const c = run(['post', 'https://h.example:8443/a?b=1', '-d', 'x=1', '-H', 'X-Token: abc', '--header=accept: text/plain', '--http2', '-k', '--retry', '3', '--timeout=250', '-v', '-q']);
    expect(c).toMatchObject({
      command: 'post',
      data: 'x=1',
      headers: [['X-Token', 'abc'], ['accept', 'text/plain']],
      protocol: 'http2',
      insecure: true,
      retry: 3,
      timeout: 250,
      verbose: true,
      quiet: true,
    });
    expect(c.url.href).toBe('https://h.example:8443/a?b=1');
  });

  it('reads --json, -o, --cacert, --cert and --key', () => {
    expect(run(['put', 'https://h/', '--json', '{"a":1}', '-o', 'out.json', '--cacert', 'ca.pem', '--cert=c.pem', '--key', 'c.key'])).toMatchObject({
      json: '{"a":1}', output: 'out.json', cacert: 'ca.pem', cert: 'c.pem', key: 'c.key',
    });
    expect(run(['get', 'https://h/', '--output=x']).output).toBe('x');
    expect(run(['get', 'https://h/', '-o', '-']).output).toBeUndefined();
  });

  it('has defaults', () => {
    expect(run(['get', 'http://127.0.0.1:1/'])).toMatchObject({
      data: undefined, json: undefined, output: undefined, headers: [], protocol: undefined, insecure: false,
      cacert: undefined, cert: undefined, key: undefined, retry: 0, timeout: undefined, verbose: false, quiet: false,
    });
    expect(run(['ws', 'ws://127.0.0.1:1/chat']).command).toBe('ws');
  });

  it.each([
    [[], 'a command is needed'],
    [['fetch', 'http://x/'], 'unknown command "fetch"'],
    [['get'], 'get needs a URL'],
    [['get', 'nope'], 'not a URL: "nope"'],
    [['get', 'ftp://x/'], 'get needs a http:// or https:// URL (got ftp://)'],
    [['ws', 'ftp://x/'], 'ws needs a ws:// or wss:// or http:// or https:// URL (got ftp://)'],
    [['get', 'http://x/', 'extra'], 'unexpected argument "extra"'],
    [['get', 'http://x/', '--data', 'a'], '--data does not go with get'],
    [['get', 'http://x/', '-H', 'novalue'], `a header must be 'name: value' (got "novalue")`],
    [['get', 'http://x/', '--retry', '-1'], '--retry must be an integer ≥ 0 (got "-1")'],
    [['get', 'http://x/', '--retry'], '--retry needs a value'],
    [['get', 'http://x/', '--timeout', '0'], '--timeout must be at least 1 ms'],
    [['get', 'http://x/', '--http1', '--http2'], '--http1 and --http2 exclude each other'],
    [['get', 'http://x/', '--frob'], 'unknown option --frob'],
    [['get', 'http://x/', '--insecure=yes'], '--insecure takes no value'],
    [['get', 'http://x/', '--json', '{}'], '--json does not go with get'],
    [['post', 'http://x/', '--json', '{}', '-d', 'a'], '--data and --json exclude each other'],
    [['ws', 'ws://x/', '-o', 'f'], '-o does not go with ws: the messages go to stdout'],
    [['get', 'http://x/', '-o', ''], '-o needs a file name'],
    [['get', 'https://x/', '--key', 'k.pem'], '--key needs --cert'],
    [['get', 'http://x/', '--cacert', 'ca.pem'], '--cacert needs a https:// or wss:// URL'],
    [['ws', 'ws://x/', '--cert', 'c.pem'], '--cert needs a https:// or wss:// URL'],
  ])('refuses %j: %s', (argv, message) => {
    expect(parseArgs(argv)).toEqual({ kind: 'usage-error', message });
  });

  it('knows help and version', () => {
    expect(parseArgs(['get', '--help'])).toEqual({ kind: 'help' });
    expect(parseArgs(['--version'])).toEqual({ kind: 'version' });
  });

  it('joins repeated headers', () => {
    expect(headerRecord([['A', '1'], ['a', '2'], ['B', '3']])).toEqual({ a: '1, 2', b: '3' });
  });

  it('turns the credentials of the URL into Basic authorization (percent-decoded); an -H header wins', () => {
    expect(basicAuthorization(new URL('http://alice:s%40cret%3A1@h/'))).toBe(`Basic ${Buffer.from('alice:s@cret:1').toString('base64')}`);
    expect(basicAuthorization(new URL('http://bob@h/'))).toBe(`Basic ${Buffer.from('bob:').toString('base64')}`);
    expect(basicAuthorization(new URL('http://h/'))).toBeUndefined();
    expect(requestHeaders(run(['get', 'http://u:p@h/', '-H', 'Authorization: Bearer t']))).toEqual({ authorization: 'Bearer t' });
    expect(requestHeaders(run(['post', 'http://h/', '--json', '{}', '-H', 'accept: */*']))).toEqual({ accept: '*/*', 'content-type': 'application/json' });
  });
});

describe('rxconn (in-process)', () => {
  let h1: TestServer;
  let h2: TestServer;
  let dir: string;
  beforeAll(async () => {
    h1 = await startServer('http1', handler);
    h2 = await startServer('http2', handler);
    dir = mkdtempSync(join(tmpdir(), 'rxconn-cli-'));
  });
  afterAll(async () => {
    await h1.close();
    await h2.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('get: body on stdout, timestamped lifecycle events and the status on stderr, exit 0', async () => {
    const leaks = leakCheck();
    const t = terminal();
    expect(await main(['get', `${h1.origin}/hello?x=1`, '-H', 'x-token: t1'], t.io)).toBe(EXIT.ok);
    expect(t.out()).toBe('GET /hello?x=1 x-token=t1 body=');
    const lines = t.err().trimEnd().split('\n');
    expect(lines.map(l => l.replace(/^\* \+\d+\.\d{3}s /, ''))).toEqual([
      'connecting (attempt 0)',
      'connected over HTTP/1.1',
      'response 200',
      'closing (by us, 0 active stream(s))',
      'closed',
    ]);
    expect(lines.every(l => /^\* \+\d+\.\d{3}s /.test(l))).toBe(true);
    await leaks.check();
  });

  it('post --data, and --data @file; -v prints both heads', async () => {
    const t = terminal();
    expect(await main(['post', `${h1.origin}/items`, '--data', '{"a":1}', '-v'], t.io)).toBe(EXIT.ok);
    expect(t.out()).toBe('POST /items x-token=undefined body={"a":1}');
    expect(t.err()).toContain('> POST /items\n');
    expect(t.err()).toContain('< x-answer: yes\n');
    const file = join(dir, 'body.txt');
    writeFileSync(file, 'from a file');
    const f = terminal();
    expect(await main(['put', `${h1.origin}/f`, '-d', `@${file}`, '-q'], f.io)).toBe(EXIT.ok);
    expect(f.out()).toBe('PUT /f x-token=undefined body=from a file');
    expect(f.err()).toBe('');
  });

  it('--data @- reads stdin', async () => {
    const t = terminal(['line one\n', 'line two\n']);
    expect(await main(['patch', `${h1.origin}/p`, '-d', '@-', '-q'], t.io)).toBe(EXIT.ok);
    expect(t.out()).toBe('PATCH /p x-token=undefined body=line one\nline two\n');
  });

  it('--http2 speaks h2c', async () => {
    const t = terminal();
    expect(await main(['get', `${h2.origin}/two`, '--http2'], t.io)).toBe(EXIT.ok);
    expect(t.out()).toBe('GET /two x-token=undefined body=');
    expect(t.err()).toContain('connected over HTTP/2');
  });

  it('a status ≥ 400 prints the body and exits 1', async () => {
    const t = terminal();
    expect(await main(['delete', `${h1.origin}/status/404`], t.io)).toBe(EXIT.httpError);
    expect(t.out()).toBe('DELETE /status/404 x-token=undefined body=');
    expect(t.err()).toContain('response 404');
  });

  it('a refused connection exits 3; --retry N retries N times with the delays shown', async () => {
    const port = await deadPort();
    const t = terminal();
    expect(await main(['get', `http://127.0.0.1:${port}/`], t.io)).toBe(EXIT.connection);
    expect(t.err()).toMatch(/rxconn: RXCONN_RETRIES_EXHAUSTED: connection gave up after 1 attempt: .*ECONNREFUSED/);
    const r = terminal();
    expect(await main(['get', `http://127.0.0.1:${port}/`, '--retry', '2'], r.io)).toBe(EXIT.connection);
    expect(r.err().match(/retrying in \d+ ms \(attempt \d\) after: .*ECONNREFUSED/g)).toHaveLength(2);
    expect(r.err()).toContain('gave up after 3 attempts');
  });

  it('--timeout bounds the request: exit 4', async () => {
    const t = terminal();
    expect(await main(['get', `${h1.origin}/hang`, '--timeout', '50'], t.io)).toBe(EXIT.timeout);
    expect(t.err()).toContain('rxconn: RXCONN_TIMEOUT');
  });

  it('usage errors exit 2 with the message and one line pointing to --help; help and version exit 0', async () => {
    const t = terminal();
    expect(await main(['get'], t.io)).toBe(EXIT.usage);
    expect(t.err()).toBe(`rxconn: get needs a URL\nrxconn: ${USAGE_HINT}\n`);
    expect(USAGE_HINT).toBe("try 'rxconn --help' for more information");
    const bad = terminal();
    expect(await main(['get', `${h1.origin}/`, '-H', 'bad\nname: v'], bad.io)).toBe(EXIT.usage);
    expect(bad.err()).toContain('RXCONN_INVALID_ARGUMENT');
    const help = terminal();
    expect(await main(['--help'], help.io)).toBe(EXIT.ok);
    expect(help.out()).toBe(USAGE);
    const version = terminal();
    expect(await main(['--version'], version.io)).toBe(EXIT.ok);
    expect(version.out()).toBe(`rxconn ${(JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version}\n`);
  });

  it('a missing --data file is a usage error', async () => {
    const t = terminal();
    expect(await main(['post', `${h1.origin}/`, '-d', `@${join(dir, 'missing')}`], t.io)).toBe(EXIT.usage);
    expect(t.err()).toMatch(/cannot read --data @.*missing: ENOENT/);
  });

  it('shows progress for a download over 1 MiB, and not for a small one', async () => {
    const t = terminal();
    expect(await main(['get', `${h1.origin}/big`], t.io)).toBe(EXIT.ok);
    expect(t.bytes()).toBe(BIG);
    expect(t.err()).toMatch(/\n {2}3\.0 MiB \/ 3\.0 MiB \(100%\) {2}[\d.]+ MiB\/s done\n/);
    const small = terminal();
    await main(['get', `${h1.origin}/small`], small.io);
    expect(small.err()).not.toContain('MiB');
  });

  it('Ctrl-C (the abort signal) cancels the request: exit 130', async () => {
    const t = terminal();
    const interrupt = new AbortController();
    const run = main(['get', `${h1.origin}/hang`], { ...t.io, stderr: { write: (chunk: string) => {
      t.io.stderr.write(chunk);
      if (chunk.includes('connected')) interrupt.abort();
    } }, signal: interrupt.signal });
    expect(await run).toBe(EXIT.interrupted);
    expect(t.err()).toContain('rxconn: interrupted');
  });
});

describe('rxconn over TLS', () => {
  let server: http2.Http2SecureServer;
  let origin: string;
  beforeAll(async () => {
    server = http2.createSecureServer({ cert: fixture('self-signed.pem'), key: fixture('self-signed.key'), allowHTTP1: true }, (req, res) => {
      res.end(`tls ${req.httpVersion}`);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.close();
    await once(server, 'close');
  });

  it('refuses a self-signed certificate (exit 3), accepts it with --insecure, negotiates HTTP/2', async () => {
    const t = terminal();
    expect(await main(['get', `${origin}/`], t.io)).toBe(EXIT.connection);
    expect(t.err()).toContain('rxconn: RXCONN_TLS');
    const k = terminal();
    expect(await main(['get', `${origin}/`, '-k'], k.io)).toBe(EXIT.ok);
    expect(k.out()).toBe('tls 2.0');
    const one = terminal();
    expect(await main(['get', `${origin}/`, '-k', '--http1'], one.io)).toBe(EXIT.ok);
    expect(one.out()).toBe('tls 1.1');
  });
});

describe('rxconn (the real process)', () => {
  it('runs lib/cli/bin.ts with tsx: body on stdout, events on stderr, exit code 1 for a 500', async () => {
    const server = await startServer('http1', handler);
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>(resolve => {
      const child = execFile(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', 'get', `${server.origin}/status/500`], { timeout: 15_000 }, (_error, stdout, stderr) =>
        resolve({ code: child.exitCode, stdout, stderr }),
      );
    });
    await server.close();
    expect(result.stdout).toBe('GET /status/500 x-token=undefined body=');
    expect(result.stderr).toMatch(/^\* \+\d\.\d{3}s connecting \(attempt 0\)\n/);
    expect(result.stderr).toContain('response 500');
    expect(result.code).toBe(EXIT.httpError);
  });
});

describe('rxconn ws', () => {
  let server: http.Server;
  let wss: WebSocketServer;
  let origin: string;
  let dropped = 0;
  beforeAll(async () => {
    server = http.createServer((_req, res) => res.end('plain'));
    wss = new WebSocketServer({ server, path: '/chat' });
    wss.on('connection', (ws, req) => {
      ws.on('message', (data, binary) => {
        const message = data.toString();
        if (message === 'bye') ws.close(4000, 'asked to leave');
        else if (message === 'hi') ws.close(4001, 'not welcome');
        else if (message === 'whoami') ws.send(`authorization=${String(req.headers.authorization)}`);
        else if (message === 'drop' && dropped++ === 0) ws.terminate();
        else ws.send(binary ? data : `echo ${message} ${req.url}`);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    origin = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    wss.close();
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
  });

  /** A terminal whose stdin stays open until the test ends it; `waitErr` resolves when stderr shows `text` (n times). */
  function interactive(): { t: ReturnType<typeof terminal>; stdin: PassThrough; waitErr: (text: string, times?: number) => Promise<void> } {
    const t = terminal();
    const stdin = new PassThrough();
    const waiters: Array<() => void> = [];
    const stderr = { write: (chunk: string) => {
      t.io.stderr.write(chunk);
      for (const check of [...waiters]) check();
    } };
    const waitErr = (text: string, times = 1): Promise<void> =>
      new Promise(resolve => {
        const check = (): void => {
          if (t.err().split(text).length - 1 >= times) {
            waiters.splice(waiters.indexOf(check), 1);
            resolve();
          }
        };
        waiters.push(check);
        check();
      });
    return { t: { ...t, io: { ...t.io, stdin, stderr } }, stdin, waitErr };
  }

  it('sends each line of stdin, prints each message, closes with 1000 at the end of stdin: exit 0', async () => {
    const leaks = leakCheck();
    const t = terminal(['hello\n', 'world\n']);
    expect(await main(['ws', `${origin}/chat?room=1`], t.io)).toBe(EXIT.ok);
    expect(t.out()).toBe('echo hello /chat?room=1\necho world /chat?room=1\n');
    const events = t.err().trimEnd().split('\n').map(l => l.replace(/^\* \+\d+\.\d{3}s /, ''));
    expect(events.slice(0, 4)).toEqual(['connecting (attempt 0)', 'connected over HTTP/1.1', 'upgraded to websocket', 'websocket open']);
    expect(events.at(-1)).toBe('websocket closed 1000');
    await leaks.check();
  });

  it('a server close with another code exits 5 with RXCONN_WEBSOCKET_CLOSED', async () => {
    const { t, stdin, waitErr } = interactive();
    const run = main(['ws', `${origin}/chat`], t.io);
    stdin.write('one\nbye\n');
    await waitErr('websocket closed');
    expect(await run).toBe(EXIT.protocol);
    stdin.end();
    expect(t.out()).toBe('echo one /chat\n');
    expect(t.err()).toContain('websocket closed 4000 "asked to leave"');
    expect(t.err()).toMatch(/rxconn: RXCONN_WEBSOCKET_CLOSED: .*4000/);
  });

  it('the exit code follows the close code however stdin ends: stdin already ended, the server closes with 4001 → exit 5', async () => {
    const t = terminal(['hi\n']);
    expect(await main(['ws', `${origin}/chat`], t.io)).toBe(EXIT.protocol);
    expect(t.err()).toContain('websocket closed 4001 "not welcome"');
    expect(t.err()).toContain('rxconn: the server closed the WebSocket with 4001 "not welcome"');
    // The same with --retry (the reconnecting WebSocket): its last close decides.
    const r = terminal(['hi\n']);
    expect(await main(['ws', `${origin}/chat`, '--retry', '1'], r.io)).toBe(EXIT.protocol);
    expect(r.err()).toContain('websocket closed 4001');
  });

  it('echo hi | rxconn ws URL (the real process) exits 5 when the server closes with 4001', async () => {
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>(resolve => {
      const child = execFile(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', 'ws', `${origin}/chat`], { timeout: 15_000 }, (_error, stdout, stderr) =>
        resolve({ code: child.exitCode, stdout, stderr }),
      );
      child.stdin?.end('hi\n');
    });
    expect(result.stderr).toContain('websocket closed 4001');
    expect(result.code).toBe(EXIT.protocol);
  });

  it('credentials in a ws:// URL are sent as Basic authorization with the upgrade', async () => {
    const { t, stdin, waitErr } = interactive();
    const run = main(['ws', `${origin.replace('ws://', 'ws://carol:pw@')}/chat`], t.io);
    stdin.write('whoami\n');
    await new Promise<void>(resolve => {
      const poll = (): void => (t.out().includes('authorization=') ? resolve() : void setImmediate(poll));
      poll();
    });
    stdin.end();
    expect(await run).toBe(EXIT.ok);
    await waitErr('websocket closed 1000');
    expect(t.out()).toBe(`authorization=Basic ${Buffer.from('carol:pw').toString('base64')}\n`);
  });

  it('a refused upgrade exits 1; --http2 is a usage error', async () => {
    const t = terminal([]);
    expect(await main(['ws', `${origin}/elsewhere`], t.io)).toBe(EXIT.httpError);
    expect(t.err()).toMatch(/rxconn: RXCONN_PROTOCOL: .*400/);
    const h2 = terminal([]);
    expect(await main(['ws', `${origin}/chat`, '--http2'], h2.io)).toBe(EXIT.usage);
    expect(h2.err()).toContain('ws speaks HTTP/1.1');
  });

  it('--retry reconnects and upgrades again after a loss; lines queued while offline are sent', async () => {
    const { t, stdin, waitErr } = interactive();
    const run = main(['ws', `${origin}/chat`, '--retry', '3'], t.io);
    await waitErr('websocket open');
    stdin.write('drop\n'); // the server kills the first connection
    await waitErr('websocket open', 2);
    stdin.write('after\n');
    stdin.end();
    expect(await run).toBe(EXIT.ok);
    expect(t.out()).toBe('echo after /chat\n');
    expect(t.err()).toMatch(/retrying in \d+ ms \(attempt 1\)/);
    expect(t.err()).toContain('websocket closed 1006');
  });

  it('Ctrl-C closes the WebSocket cleanly: exit 0', async () => {
    const { t, stdin, waitErr } = interactive();
    const interrupt = new AbortController();
    const run = main(['ws', `${origin}/chat`], { ...t.io, signal: interrupt.signal });
    stdin.write('ping\n');
    await waitErr('websocket open');
    await new Promise<void>(resolve => {
      const poll = (): void => (t.out().includes('echo ping') ? resolve() : void setImmediate(poll));
      poll();
    });
    interrupt.abort();
    expect(await run).toBe(EXIT.ok);
    stdin.end();
    expect(t.err()).toContain('websocket closed 1000');
  });
});
