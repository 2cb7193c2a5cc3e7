/**
 * The command line of `rxconn`, parsed without I/O and without a dependency.
 */

/** The HTTP commands, by the method they send. */
export const HTTP_COMMANDS = { get: 'GET', head: 'HEAD', delete: 'DELETE', post: 'POST', put: 'PUT', patch: 'PATCH' } as const;

/** A command name. */
export type CommandName = keyof typeof HTTP_COMMANDS | 'ws';

/** What the command line asks for. */
export interface CliCommand {
  readonly kind: 'run';
  readonly command: CommandName;
  /** The URL as given (`http(s)://` for requests; `ws(s)://` or `http(s)://` for `ws`). */
  readonly url: URL;
  /** `--data`: the body, `@file` to read a file, `@-` to read stdin. */
  readonly data: string | undefined;
  /**
   * `--json`: a JSON body (`@file`, `@-` as for `--data`), sent with `content-type` and `accept`
   * `application/json`; a JSON response is printed indented.
   */
  readonly json: string | undefined;
  /** `-o, --output FILE`: write the body to FILE instead of stdout. */
  readonly output: string | undefined;
  /** `-H 'name: value'`, in order. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** `--http2` / `--http1`: the one protocol to speak; default: rxconn's (ALPN on TLS, HTTP/1.1 on cleartext). */
  readonly protocol: 'http1' | 'http2' | undefined;
  /** `-k, --insecure`: do not verify the server certificate. */
  readonly insecure: boolean;
  /** `--cacert FILE`: PEM certificate(s) of the CA(s) to trust instead of Node's store. */
  readonly cacert: string | undefined;
  /** `--cert FILE`: PEM client certificate (it may hold the key too). */
  readonly cert: string | undefined;
  /** `--key FILE`: PEM private key of `--cert`. */
  readonly key: string | undefined;
  /** `--retry N`: reconnect attempts after a failure; default 0. */
  readonly retry: number;
  /** `--timeout MS`: bound on connecting and on the whole request. */
  readonly timeout: number | undefined;
  /** `-v, --verbose`: print request and response headers on stderr. */
  readonly verbose: boolean;
  /** `-q, --quiet`: no lifecycle events or progress on stderr (errors still). */
  readonly quiet: boolean;
  /** `--proxy URL|env`: a proxy (`http://`, `https://`, `socks5://`), or `env` for HTTPS_PROXY/HTTP_PROXY/ALL_PROXY/NO_PROXY as curl reads them. */
  readonly proxy: string | undefined;
  /** `--unix-socket PATH`: connect to this Unix domain socket instead of the URL's host and port. */
  readonly unixSocket: string | undefined;
}

/** The parse result: a command, a request for help or version, or a usage error. */
export type ParsedArgs = CliCommand | { readonly kind: 'help' } | { readonly kind: 'version' } | { readonly kind: 'usage-error'; readonly message: string };

/** The text of `rxconn --help`. */
export const USAGE = `Usage: rxconn <command> <url> [options]

Commands:
  get <url>                 GET the URL, print the body on stdout
  head | delete <url>       HEAD / DELETE the URL
  post | put | patch <url>  send --data or --json to the URL, print the response body
  ws <url>                  a WebSocket (ws:// or wss://): each line of stdin is sent as a text
                            message, each message received is printed on a line; the end of
                            stdin or Ctrl-C closes it cleanly. With --retry it reconnects.

Options:
  -d, --data <body>         request body; @file reads a file, @- reads stdin
      --json <body>         JSON request body (@file, @-), sent with content-type and accept
                            application/json; a JSON response is printed indented
  -H, --header <name: value>  add a request header (repeatable)
  -o, --output <file>       write the body to <file> instead of stdout (-o - is stdout)
      --http2               speak HTTP/2 only (h2c prior knowledge on http://)
      --http1               speak HTTP/1.1 only
  -k, --insecure            do not verify the server certificate
  -x, --proxy <url|env>     go through a proxy: http://[user:pass@]host:port (CONNECT), https://...,
                            socks5://[user:pass@]host:port; env reads HTTPS_PROXY, HTTP_PROXY,
                            ALL_PROXY and NO_PROXY (lower case first), like curl
      --unix-socket <path>  connect to a Unix domain socket (the URL still gives host and TLS name)
      --cacert <file>       trust the CA certificate(s) in this PEM file instead of Node's store
      --cert <file>         client certificate (PEM; the file may hold the key too)
      --key <file>          private key of --cert (PEM)
      --retry <n>           reconnect up to n times after a connection failure (default 0)
      --timeout <ms>        bound on connecting, and on the whole request
  -v, --verbose             print request and response headers on stderr
  -q, --quiet               no lifecycle events or progress on stderr
  -h, --help                this help
      --version             the version

Credentials in the URL (http://user:pass@host/) are sent as 'authorization: Basic ...'
(an -H authorization header wins).

Lifecycle events (with the time since start), response status and download progress go to stderr;
the body or the messages go to stdout.

Exit codes:
  0  success (a response with status < 400; a WebSocket closed normally: 1000, 1001)
  1  the server answered with a status >= 400 (the body is still printed; a refused WebSocket)
  2  usage error (bad arguments, URL, header)
  3  connection failure (refused, DNS, TLS, retries exhausted, connection lost)
  4  timeout (--timeout elapsed)
  5  protocol error, stream reset, or a WebSocket closed abnormally (the server's close code
     is another one, however stdin ended)
  6  cannot write the output file (-o)
  130 interrupted (Ctrl-C) during a request
`;

const WITH_VALUE = new Set(['-d', '--data', '--json', '-H', '--header', '-o', '--output', '--cacert', '--cert', '--key', '--retry', '--timeout', '-x', '--proxy', '--unix-socket']);

/** The line after a usage error, pointing to the help (as curl does). */
export const USAGE_HINT = "try 'rxconn --help' for more information";

function usage(message: string): ParsedArgs {
  return { kind: 'usage-error', message };
}

function nonNegativeInteger(name: string, text: string): number | string {
  if (!/^\d+$/.test(text)) return `${name} must be an integer ≥ 0 (got ${JSON.stringify(text)})`;
  return Number(text);
}

/** Parses `argv` (without `node` and the script). Never throws. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positional: string[] = [];
  const headers: Array<readonly [string, string]> = [];
  let data: string | undefined;
  let json: string | undefined;
  let output: string | undefined;
  let cacert: string | undefined;
  let cert: string | undefined;
  let key: string | undefined;
  let protocol: CliCommand['protocol'];
  let insecure = false;
  let retry = 0;
  let timeout: number | undefined;
  let verbose = false;
  let quiet = false;
  let proxy: string | undefined;
  let unixSocket: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value: string | undefined;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    if (eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (WITH_VALUE.has(arg) && value === undefined) {
      if (i + 1 >= argv.length) return usage(`${arg} needs a value`);
      value = argv[++i];
    } else if (!WITH_VALUE.has(arg) && value !== undefined) {
      return usage(`${arg} takes no value`);
    }
    switch (arg) {
      case '-h':
      case '--help':
        return { kind: 'help' };
      case '--version':
        return { kind: 'version' };
      case '-d':
      case '--data':
        data = value;
        break;
      case '--json':
        json = value;
        break;
      case '-o':
      case '--output':
        if (!value) return usage(`${arg} needs a file name`);
        output = value === '-' ? undefined : value; // `-o -`: stdout, as in curl
        break;
      case '--cacert':
        cacert = value;
        break;
      case '--cert':
        cert = value;
        break;
      case '--key':
        key = value;
        break;
      case '-H':
      case '--header': {
        const text = value ?? '';
        const colon = text.indexOf(':');
        if (colon <= 0) return usage(`a header must be 'name: value' (got ${JSON.stringify(text)})`);
        headers.push([text.slice(0, colon).trim(), text.slice(colon + 1).trim()]);
        break;
      }
      case '--http2':
      case '--http1': {
        const wanted = arg === '--http2' ? 'http2' : 'http1';
        if (protocol && protocol !== wanted) return usage('--http1 and --http2 exclude each other');
        protocol = wanted;
        break;
      }
      case '-k':
      case '--insecure':
        insecure = true;
        break;
      case '--retry': {
        const n = nonNegativeInteger('--retry', value ?? '');
        if (typeof n === 'string') return usage(n);
        retry = n;
        break;
      }
      case '--timeout': {
        const n = nonNegativeInteger('--timeout', value ?? '');
        if (typeof n === 'string') return usage(n);
        if (n === 0) return usage('--timeout must be at least 1 ms');
        timeout = n;
        break;
      }
      case '-v':
      case '--verbose':
        verbose = true;
        break;
      case '-q':
      case '--quiet':
        quiet = true;
        break;
      case '-x':
      case '--proxy':
        proxy = value;
        break;
      case '--unix-socket':
        unixSocket = value;
        break;
      default:
        if (arg.startsWith('-') && arg !== '-') return usage(`unknown option ${arg}`);
        positional.push(arg);
    }
  }
  if (positional.length === 0) return usage('a command is needed');
  const [name, target, ...extra] = positional;
  if (name !== 'ws' && !Object.hasOwn(HTTP_COMMANDS, name)) return usage(`unknown command ${JSON.stringify(name)}`);
  const command = name as CommandName;
  if (target === undefined) return usage(`${command} needs a URL`);
  if (extra.length > 0) return usage(`unexpected argument ${JSON.stringify(extra[0])}`);
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return usage(`not a URL: ${JSON.stringify(target)}`);
  }
  const schemes = command === 'ws' ? ['ws:', 'wss:', 'http:', 'https:'] : ['http:', 'https:'];
  if (!schemes.includes(url.protocol)) return usage(`${command} needs a ${schemes.map(s => `${s}//`).join(' or ')} URL (got ${url.protocol}//)`);
  const withoutBody = command === 'get' || command === 'head' || command === 'ws';
  if (data !== undefined && withoutBody) return usage(`--data does not go with ${command}`);
  if (json !== undefined && withoutBody) return usage(`--json does not go with ${command}`);
  if (data !== undefined && json !== undefined) return usage('--data and --json exclude each other');
  if (output !== undefined && command === 'ws') return usage('-o does not go with ws: the messages go to stdout');
  if (key !== undefined && cert === undefined) return usage('--key needs --cert');
  if ((cacert !== undefined || cert !== undefined) && (url.protocol === 'http:' || url.protocol === 'ws:')) {
    return usage(`${cacert !== undefined ? '--cacert' : '--cert'} needs a https:// or wss:// URL`);
  }
  if (proxy !== undefined && unixSocket !== undefined) return usage('--proxy and --unix-socket exclude each other');
  return { kind: 'run', command, url, data, json, output, headers, protocol, insecure, cacert, cert, key, retry, timeout, verbose, quiet, proxy, unixSocket };
}
