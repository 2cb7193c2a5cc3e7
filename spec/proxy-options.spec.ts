/**
 * The route options without a socket: proxy URL parsing and its errors (never echoing a
 * credential), `proxy: 'env'` (which variable wins), and the NO_PROXY rules as a table.
 */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, open } from '../lib/index.js';
import { bypassesProxy, proxyFromEnv } from '../lib/node/proxy/env.js';
import { resolveRoute } from '../lib/node/proxy/options.js';

const HTTPS = new URL('https://api.example.com');
const HTTP = new URL('http://api.example.com');

const K8S = '10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fd00::/8,.svc,.cluster.local';

describe('NO_PROXY', () => {
  // [NO_PROXY value, host, port, bypass?]
  const TABLE: Array<[string, string, number, boolean]> = [
    ['', 'example.com', 443, false],
    ['*', 'anything.test', 443, true],
    ['foo.test, *', 'anything.test', 80, true],
    ['example.com', 'example.com', 443, true],
    ['example.com', 'api.example.com', 443, true],
    ['example.com', 'a.b.example.com', 443, true],
    ['example.com', 'badexample.com', 443, false],
    ['example.com', 'example.com.evil.test', 443, false],
    ['.example.com', 'example.com', 443, true],
    ['.example.com', 'api.example.com', 443, true],
    ['.example.com', 'badexample.com', 443, false],
    ['*.example.com', 'api.example.com', 443, true],
    ['*.example.com', 'example.com', 443, true],
    ['EXAMPLE.COM', 'Api.Example.com', 443, true],
    ['example.com:8443', 'example.com', 8443, true],
    ['example.com:8443', 'example.com', 443, false],
    ['example.com:443', 'api.example.com', 443, true],
    ['127.0.0.1', '127.0.0.1', 80, true],
    ['127.0.0.1', '127.0.0.10', 80, false],
    ['0.0.1', '127.0.0.1', 80, false],
    ['127.0.0.1:8080', '127.0.0.1', 8080, true],
    ['127.0.0.1:8080', '127.0.0.1', 80, false],
    ['::1', '[::1]', 443, true],
    ['::1', '::1', 443, true],
    ['[::1]', '[::1]', 443, true],
    ['[::1]:8443', '[::1]', 8443, true],
    ['[::1]:8443', '[::1]', 443, false],
    ['fe80::1', '[::1]', 443, false],
    ['a.test b.test,,c.test', 'b.test', 443, true],
    [' a.test ,\tc.test\n', 'c.test', 443, true],
    ['localhost', '127.0.0.1', 80, false],
    // An address compares as an address, whatever its spelling.
    ['0:0:0:0:0:0:0:1', '[::1]', 443, true],
    // CIDR, IPv4: first and last address of the range, one either side, any port.
    ['10.0.0.0/8', '10.1.2.3', 80, true],
    ['10.0.0.0/8', '10.0.0.0', 80, true],
    ['10.0.0.0/8', '10.255.255.255', 80, true],
    ['10.0.0.0/8', '9.255.255.255', 80, false],
    ['10.0.0.0/8', '11.0.0.0', 80, false],
    ['172.16.0.0/12', '172.16.0.0', 443, true],
    ['172.16.0.0/12', '172.31.255.255', 443, true],
    ['172.16.0.0/12', '172.15.255.255', 443, false],
    ['172.16.0.0/12', '172.32.0.0', 443, false],
    ['192.168.0.0/16', '192.168.7.9', 8080, true],
    ['10.1.2.2/31', '10.1.2.3', 80, true],
    ['10.1.2.2/31', '10.1.2.4', 80, false],
    ['10.1.2.3/8', '10.9.9.9', 80, true],
    ['10.1.2.3/32', '10.1.2.3', 80, true],
    ['10.1.2.3/32', '10.1.2.4', 80, false],
    ['0.0.0.0/0', '0.0.0.0', 80, true],
    ['0.0.0.0/0', '255.255.255.255', 80, true],
    ['0.0.0.0/0', '[::1]', 80, false],
    // Names are never resolved to be compared with a range.
    ['127.0.0.0/8', 'localhost', 80, false],
    ['10.0.0.0/8', '10.1.2.3.nip.io', 80, false],
    // CIDR, IPv6 (the origin's host comes bracketed from the URL).
    ['fd00::/8', '[fd00::]', 443, true],
    ['fd00::/8', '[fd12:3456::1]', 443, true],
    ['fd00::/8', '[fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]', 443, true],
    ['fd00::/8', '[fcff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]', 443, false],
    ['fd00::/8', '[fe00::]', 443, false],
    ['FD00::/8', '[fd00::1]', 443, true],
    ['fe80::/10', '[febf:ffff::1]', 443, true],
    ['fe80::/10', '[fec0::]', 443, false],
    ['2001:db8::/32', '[2001:db8:ffff::1]', 443, true],
    ['2001:db8::/32', '[2001:db9::]', 443, false],
    ['::1/128', '[::1]', 443, true],
    ['::1/128', '[::2]', 443, false],
    ['::/0', '[2001:db8::1]', 443, true],
    ['::/0', '10.1.2.3', 80, false],
    // IPv4-mapped IPv6 origins are their IPv4 address for IPv4 entries; not the other way round.
    ['10.0.0.0/8', '[::ffff:a01:203]', 80, true],
    ['10.0.0.0/8', '[::ffff:10.1.2.3]', 80, true],
    ['10.0.0.0/8', '[::ffff:b00:1]', 80, false],
    ['10.0.0.0/8', '[::a01:203]', 80, false],
    ['10.1.2.3', '[::ffff:a01:203]', 80, true],
    ['::ffff:0:0/96', '[::ffff:a01:203]', 80, true],
    ['::ffff:0:0/96', '10.1.2.3', 80, false],
    // Entries we cannot read are skipped, and the rest of the list still applies.
    ['10.0.0.0/33', '10.1.2.3', 80, false],
    ['10.0.0/8', '10.0.0.1', 80, false],
    ['::1/200', '[::1]', 443, false],
    ['::1/129', '[::1]', 443, false],
    ['10.0.0.0/', '10.0.0.1', 80, false],
    ['10.0.0.0/-1', '10.0.0.1', 80, false],
    ['10.0.0.0/8.0', '10.0.0.1', 80, false],
    ['/8', '10.0.0.1', 80, false],
    ['10.0.0.0/8:8080', '10.1.2.3', 8080, false],
    ['[fd00::]/8', '[fd00::1]', 443, false],
    ['*.10.0.0.0/8', '10.1.2.3', 80, false],
    ['10.0.0.0/33, 10.0.0.0/8', '10.1.2.3', 80, true],
    ['::1/200 example.com', 'api.example.com', 443, true],
    // The usual Kubernetes list.
    [K8S, '10.96.0.1', 443, true],
    [K8S, '[fd00:10:96::1]', 443, true],
    [K8S, 'api.default.svc', 443, true],
    [K8S, 'kubernetes.default.svc.cluster.local', 443, true],
    [K8S, '8.8.8.8', 443, false],
    [K8S, 'example.com', 443, false],
  ];
  it.each(TABLE)('NO_PROXY=%j, %s:%i → bypass %s', (noProxy, host, port, bypass) => {
    expect(bypassesProxy(noProxy, host, port)).toBe(bypass);
  });
});

describe("proxy: 'env'", () => {
  it.each([
    [{ https_proxy: 'http://lower:1', HTTPS_PROXY: 'http://upper:2' }, HTTPS, 'https_proxy', 'http://lower:1'],
    [{ HTTPS_PROXY: 'http://upper:2', http_proxy: 'http://plain:3' }, HTTPS, 'HTTPS_PROXY', 'http://upper:2'],
    [{ http_proxy: 'http://plain:3' }, HTTPS, 'http_proxy', 'http://plain:3'],
    [{ https_proxy: 'http://s:1' }, HTTP, undefined, undefined],
    [{ http_proxy: 'http://lower:1', HTTP_PROXY: 'http://upper:2' }, HTTP, 'http_proxy', 'http://lower:1'],
    [{ https_proxy: '', HTTPS_PROXY: 'http://upper:2' }, HTTPS, 'HTTPS_PROXY', 'http://upper:2'],
    [{ ALL_PROXY: 'socks5://s:1080' }, HTTP, 'ALL_PROXY', 'socks5://s:1080'],
    [{ http_proxy: '127.0.0.1:8888' }, HTTP, 'http_proxy', 'http://127.0.0.1:8888'],
    [{ http_proxy: 'http://p:1', no_proxy: 'example.com' }, HTTP, undefined, undefined],
    [{ http_proxy: 'http://p:1', no_proxy: '', NO_PROXY: '*' }, HTTP, undefined, undefined],
    [{ http_proxy: 'http://p:1', no_proxy: 'other.test', NO_PROXY: '*' }, HTTP, 'http_proxy', 'http://p:1'],
    [{}, HTTPS, undefined, undefined],
    // CIDR ranges against the host as the URL parser leaves it (brackets, hex groups, IPv4 in any notation).
    [{ http_proxy: 'http://p:1', no_proxy: '10.0.0.0/8' }, new URL('http://10.1.2.3:8080'), undefined, undefined],
    [{ http_proxy: 'http://p:1', no_proxy: '10.0.0.0/8' }, new URL('http://0x0a000001/'), undefined, undefined],
    [{ http_proxy: 'http://p:1', no_proxy: '10.0.0.0/8' }, new URL('http://[::ffff:10.1.2.3]:8080'), undefined, undefined],
    [{ http_proxy: 'http://p:1', no_proxy: '10.0.0.0/8' }, new URL('http://11.0.0.1'), 'http_proxy', 'http://p:1'],
    [{ http_proxy: 'http://p:1', NO_PROXY: 'fd00::/8' }, new URL('http://[FD00::1]:8080'), undefined, undefined],
    [{ http_proxy: 'http://p:1', no_proxy: '10.0.0.0/33' }, new URL('http://10.1.2.3'), 'http_proxy', 'http://p:1'],
  ] as const)('%j for %s → %s', (env, origin, name, url) => {
    const found = proxyFromEnv(env, origin);
    expect(found).toEqual(name === undefined ? undefined : { name, url });
  });

  it('resolves to the hop, or to a direct route', () => {
    expect(resolveRoute('env', undefined, HTTPS, { HTTPS_PROXY: 'http://u:pw@proxy.test:3128' }).proxies).toEqual([
      { type: 'connect', host: 'proxy.test', port: 3128, secure: false, protocols: ['http1'], tls: {}, username: 'u', password: 'pw', label: 'http://proxy.test:3128' },
    ]);
    expect(resolveRoute('env', undefined, HTTPS, { NO_PROXY: '*', HTTPS_PROXY: 'http://proxy.test:3128' })).toEqual({ proxies: [], socketPath: undefined });
  });

  it('a bad variable names the variable, and not its credentials', () => {
    expect(() => resolveRoute('env', undefined, HTTPS, { https_proxy: 'ftp://me:hunter2@proxy.test' })).toThrow(
      new InvalidArgumentError(`options.proxy 'env' (https_proxy) must use http:, https: or socks5: (got "ftp:"); a URL without a scheme is not accepted here`),
    );
  });
});

describe('proxy option validation', () => {
  const invalid = (proxy: unknown, message: string): void => {
    let error: unknown;
    try {
      open('http://127.0.0.1:9', { proxy: proxy as never });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toEqual(message);
    expect((error as Error).message).not.toContain('hunter2');
  };

  it.each([
    ['ftp://proxy.test', 'options.proxy must use http:, https: or socks5: (got "ftp:"); a URL without a scheme is not accepted here'],
    ['proxy.test:3128', 'options.proxy must use http:, https: or socks5: (got "proxy.test:"); a URL without a scheme is not accepted here'],
    ['http://me:hunter2@', 'options.proxy is not a valid proxy URL: "http://***@"'],
    ['http://proxy.test/path', 'options.proxy must be scheme://[user:pass@]host[:port] only'],
    ['http://:hunter2@proxy.test', 'options.proxy has a password but no username'],
    ['http://me:%ZZhunter2@proxy.test', 'options.proxy: the password in the proxy URL is not valid percent-encoding'],
    [`socks5://${'u'.repeat(256)}:hunter2@proxy.test`, 'options.proxy: a SOCKS5 username is at most 255 bytes'],
    [[], 'options.proxy must not be an empty array (leave it out to go direct)'],
    [['http://a.test', 42], 'options.proxy[1] must be a proxy URL string, a URL or { url, protocols?, tls? }'],
    [{ url: 'socks5://a.test', protocols: ['http2'] }, 'options.proxy.protocols is only for http:// and https:// proxies'],
    [{ url: 'http://a.test', protocols: ['h3'] }, "options.proxy.protocols must be a non-empty array of distinct 'http1' | 'http2'"],
    [{ url: 'http://a.test', tls: { ca: 'x' } }, 'options.proxy.tls is only for https:// proxies'],
    [{ url: 'https://a.test', tls: { host: 'x' } }, 'options.proxy.tls.host cannot be set: it comes from the proxy URL and options.proxy.protocols'],
    [{ url: 'http://a.test', timeout: 1 }, 'options.proxy.timeout is not a known option (known: url, protocols, tls)'],
    [{ url: 'https://a.test', tls: { ca: 'not a certificate', cert: 'nor this', key: 'nor a key' } }, expect.stringMatching(/^options\.proxy\.tls is invalid: /) as unknown as string],
  ])('%j → %s', (proxy, message) => invalid(proxy, message));

  it('default ports: 80 for http, 443 for https, 1080 for socks5', () => {
    const route = resolveRoute(['http://a.test', 'https://b.test', 'socks5://c.test', 'socks5h://[::1]'], undefined, HTTP);
    expect(route.proxies.map(p => [p.type, p.host, p.port, p.secure, p.label])).toEqual([
      ['connect', 'a.test', 80, false, 'http://a.test:80'],
      ['connect', 'b.test', 443, true, 'https://b.test:443'],
      ['socks5', 'c.test', 1080, false, 'socks5://c.test:1080'],
      ['socks5', '::1', 1080, false, 'socks5://[::1]:1080'],
    ]);
  });
});

describe('socketPath validation', () => {
  it.each([
    [{ socketPath: '' }, 'options.socketPath must be a non-empty string'],
    [{ socketPath: 42 }, 'options.socketPath must be a non-empty string'],
    [{ socketPath: `/tmp/${'x'.repeat(103)}` }, 'options.socketPath is 108 bytes long; a Unix socket path holds at most 107 (use a shorter path, e.g. a symlinked directory)'],
    [{ socketPath: '/tmp/a.sock', proxy: 'http://a.test' }, 'options.proxy and options.socketPath exclude each other: a Unix socket is dialled directly'],
  ])('%j → %s', (options, message) => {
    expect(() => open('http://localhost', options as never)).toThrow(new InvalidArgumentError(message));
  });

  it('accepts 107 bytes, and an abstract name of 108', () => {
    open('http://localhost', { socketPath: `/tmp/${'x'.repeat(102)}`, retry: false }).close();
    open('http://localhost', { socketPath: `\0${'x'.repeat(107)}`, retry: false }).close();
  });
});
