/**
 * Validation of the route options of `open()`: `proxy` (one proxy, a chain, or `'env'`) and
 * `socketPath` (a Unix domain socket), as the Node runtime's `resolveRoute` (the core calls it
 * through `Runtime`). Synchronous and without I/O; dialing is `chain.ts`'s.
 */
import { InvalidArgumentError } from '../../core/errors.js';
import { proxyFromEnv } from './env.js';
import type { Environment } from './env.js';
import { parseProxy, redact } from './url.js';
import type { ProxyEntry, ProxyHop } from './url.js';

/** The `proxy` option: one proxy, a chain (the first entry is dialled first), or `'env'`. */
export type ProxyOption = ProxyEntry | readonly ProxyEntry[] | 'env';

/** The route of a connection: through proxies, to a Unix socket, or direct (both empty). */
export interface Route {
  readonly proxies: readonly ProxyHop[];
  readonly socketPath: string | undefined;
}

/** Linux's `sun_path` holds 108 bytes, the terminating NUL included (an abstract name has no NUL). */
const SUN_PATH = 108;

function fail(message: string): never {
  throw new InvalidArgumentError(message);
}

function resolveSocketPath(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) fail('options.socketPath must be a non-empty string');
  const bytes = new TextEncoder().encode(value).length;
  const limit = value.startsWith('\0') ? SUN_PATH : SUN_PATH - 1;
  if (bytes > limit) {
    fail(`options.socketPath is ${bytes} bytes long; a Unix socket path holds at most ${limit} (use a shorter path, e.g. a symlinked directory)`);
  }
  return value;
}

/**
 * Validates `proxy` and `socketPath` for `origin`; `env` is read for `proxy: 'env'` (default:
 * `process.env`). Throws {@link InvalidArgumentError} naming the option, never echoing credentials.
 */
export function resolveRoute(proxy: unknown, socketPath: unknown, origin: URL, env: Environment = defaultEnv()): Route {
  const path = resolveSocketPath(socketPath);
  if (proxy === undefined) return { proxies: [], socketPath: path };
  if (path !== undefined) fail('options.proxy and options.socketPath exclude each other: a Unix socket is dialled directly');
  if (proxy === 'env') {
    const found = proxyFromEnv(env, origin);
    if (!found) return { proxies: [], socketPath: undefined };
    try {
      return { proxies: [parseProxy(found.url, `options.proxy 'env' (${found.name})`)], socketPath: undefined };
    } catch (error) {
      // parseProxy names the variable; make sure its value's credentials do not leak through it.
      throw new InvalidArgumentError(redact((error as Error).message));
    }
  }
  if (Array.isArray(proxy)) {
    if (proxy.length === 0) fail('options.proxy must not be an empty array (leave it out to go direct)');
    return { proxies: proxy.map((entry, i) => parseProxy(entry, `options.proxy[${i}]`)), socketPath: undefined };
  }
  return { proxies: [parseProxy(proxy, 'options.proxy')], socketPath: undefined };
}

const DIRECT: Route = { proxies: [], socketPath: undefined };

/** The route the Node runtime resolved into `options.route` (direct when absent). */
export function routeOf(options: { readonly route?: object | undefined }): Route {
  return (options.route as Route | undefined) ?? DIRECT;
}

function defaultEnv(): Environment {
  const holder = globalThis as { process?: { env?: Environment } };
  return holder.process?.env ?? {};
}
