/**
 * The IP entries of `NO_PROXY`: one address (`10.1.2.3`, `::1`) or a CIDR range (`10.0.0.0/8`,
 * `fd00::/8`), and whether an origin's host falls inside. Only an origin written as an IP literal
 * can match: a host name is never resolved to be compared (curl and Go do not either, and the
 * address a name resolves to when we dial may differ from the one a lookup here would see).
 *
 * Families: an IPv4 entry also matches the IPv4-mapped form of its addresses (`::ffff:10.1.2.3`),
 * because a socket dialled to that form reaches the IPv4 host itself (Go matches it too; curl
 * does not). The other way round is not done: an IPv6 entry matches IPv6 origins only, so that
 * `::/0` means "every IPv6 address" and not also every IPv4 one.
 */
import { BlockList, isIP } from 'node:net';

/** One parsed IP entry: the addresses it covers, and their family. */
export interface IpEntry {
  readonly family: 4 | 6;
  readonly addresses: BlockList;
}

const FAMILY = { 4: 'ipv4', 6: 'ipv6' } as const;

/** `text` as an IP family (4 or 6), or `undefined` for anything else (a name, a bad address). */
export function ipFamily(text: string): 4 | 6 | undefined {
  const family = isIP(text);
  return family === 4 || family === 6 ? family : undefined;
}

/** A single address, as an entry. `address` must be an IP literal (without brackets). */
export function addressEntry(address: string): IpEntry | undefined {
  const family = ipFamily(address);
  if (family === undefined) return undefined;
  return block(family, list => list.addAddress(address, FAMILY[family]));
}

/**
 * `a.b.c.d/n` (0 ≤ n ≤ 32) or an unbracketed IPv6 address with `/n` (0 ≤ n ≤ 128), as an entry;
 * `undefined` for anything else (a bad address, a bad or missing length, a port after it). Host
 * bits after the prefix are ignored (`10.1.2.3/8` is `10.0.0.0/8`), as curl and Go do.
 */
export function rangeEntry(text: string): IpEntry | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const network = text.slice(0, slash);
  const length = text.slice(slash + 1);
  const family = ipFamily(network);
  if (family === undefined || !/^\d{1,3}$/.test(length)) return undefined;
  const prefix = Number(length);
  if (prefix > (family === 4 ? 32 : 128)) return undefined;
  return block(family, list => list.addSubnet(network, prefix, FAMILY[family]));
}

/** An entry of `family` filled by `add` (given only what `isIP` accepted, which BlockList takes too). */
function block(family: 4 | 6, add: (list: BlockList) => void): IpEntry {
  const addresses = new BlockList();
  add(addresses);
  return { family, addresses };
}

/** Whether `host` (an IP literal without brackets, or a name) is one of `entry`'s addresses. */
export function inEntry(entry: IpEntry, host: string): boolean {
  const family = ipFamily(host);
  if (family === undefined) return false;
  // An IPv4 host against an IPv6 entry: BlockList would compare its mapped form; we keep families apart.
  if (family === 4 && entry.family === 6) return false;
  return entry.addresses.check(host, FAMILY[family]);
}
