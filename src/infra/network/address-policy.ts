/**
 * Which addresses webhooks may reach: public unicast only. Loopback, private, link-local,
 * unspecified, carrier-grade NAT, multicast, broadcast, reserved and IPv4-translating ranges are
 * refused (ipaddr.js's `range()` table: everything it does not call 'unicast'), and an IPv4-mapped
 * IPv6 address is judged as the IPv4 address it carries. A receiver's URL is checked when it is
 * registered (checkPublicHost), and again at every delivery (publicOnlyLookup), since a name can
 * be pointed somewhere else in between.
 */
import { lookup as lookupAddresses, type LookupAddress, type LookupOptions } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

type Family = 'ipv4' | 'ipv6';

const RANGES: ReadonlyArray<{ name: string; family: Family; subnets: readonly string[] }> = [
  { name: 'unspecified', family: 'ipv4', subnets: ['0.0.0.0/8'] },
  { name: 'broadcast', family: 'ipv4', subnets: ['255.255.255.255/32'] },
  { name: 'multicast', family: 'ipv4', subnets: ['224.0.0.0/4'] },
  { name: 'link-local', family: 'ipv4', subnets: ['169.254.0.0/16'] },
  { name: 'loopback', family: 'ipv4', subnets: ['127.0.0.0/8'] },
  { name: 'carrier-grade NAT', family: 'ipv4', subnets: ['100.64.0.0/10'] },
  { name: 'private', family: 'ipv4', subnets: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'] },
  {
    name: 'reserved',
    family: 'ipv4',
    subnets: [
      '192.0.0.0/24', '192.0.2.0/24', '192.88.99.0/24', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '240.0.0.0/4',
      '192.175.48.0/24', '192.31.196.0/24', '192.52.193.0/24',
    ],
  },
  { name: 'unspecified', family: 'ipv6', subnets: ['::/128'] },
  { name: 'loopback', family: 'ipv6', subnets: ['::1/128'] },
  { name: 'link-local', family: 'ipv6', subnets: ['fe80::/10'] },
  { name: 'multicast', family: 'ipv6', subnets: ['ff00::/8'] },
  { name: 'private', family: 'ipv6', subnets: ['fc00::/7'] },
  // These carry an IPv4 address, which may be any of the above.
  { name: 'IPv4-translated', family: 'ipv6', subnets: ['::ffff:0:0:0/96', '64:ff9b::/96', '64:ff9b:1::/48', '2002::/16', '2001::/32'] },
  {
    name: 'reserved',
    family: 'ipv6',
    subnets: [
      // IPv4-compatible (deprecated), discard, benchmarking, AMT, AS112, ORCHID, drone ids, documentation, site-local
      '::/96', '100::/64', '2001:2::/48', '2001:3::/32', '2001:4:112::/48', '2001:10::/28', '2001:20::/28', '2001:30::/28',
      '2001:db8::/32', '3fff::/20', 'fec0::/10',
    ],
  },
];

const CLASSIFIERS = RANGES.map(({ name, family, subnets }) => {
  const list = new BlockList();
  for (const subnet of subnets) {
    const [network, prefix] = subnet.split('/');
    list.addSubnet(network!, Number(prefix), family);
  }
  return { name, family, list };
});

/** The name of the range an IP address is in, 'unicast' for a public one; null when it is no IP address. */
function rangeOf(address: string): string | null {
  const unzoned = address.replace(/%.*$/, '');
  const version = isIP(unzoned);
  if (version === 0) return null;
  let family: Family = version === 4 ? 'ipv4' : 'ipv6';
  let canonical = unzoned;
  if (family === 'ipv6') {
    // The URL parser writes every spelling of an IPv6 address one way (::ffff:127.0.0.1 is ::ffff:7f00:1).
    canonical = new URL(`http://[${unzoned}]`).hostname.slice(1, -1);
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
    if (mapped) {
      const [high, low] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
      canonical = [high >> 8, high & 255, low >> 8, low & 255].join('.');
      family = 'ipv4';
    }
  }
  return CLASSIFIERS.find((range) => range.family === family && range.list.check(canonical, family))?.name ?? 'unicast';
}

/** True unless `address` is an IP address in public unicast space (anything else, a name too, is forbidden). */
export function isForbiddenAddress(address: string): boolean {
  return rangeOf(address) !== 'unicast';
}

function anAddress(range: string): string {
  return `${/^[aeiouI]/.test(range) ? 'an' : 'a'} ${range} address`;
}

/** `localhost` and its subdomains (RFC 6761) never leave the machine, whatever a resolver says. */
function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/**
 * Whether a URL's host (as `URL.hostname` gives it; IPv6 in brackets) and every address it
 * resolves to are public. The reason names the host as given and the kind of address, never
 * the addresses a name resolved to.
 */
export async function checkPublicHost(hostname: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  const host = hostname.replace(/^\[(.*)\]$/, '$1');
  if (isLocalhostName(host)) return { ok: false, reason: `${hostname} is a loopback name` };
  const literal = rangeOf(host);
  if (literal !== null) return literal === 'unicast' ? { ok: true } : { ok: false, reason: `${hostname} is ${anAddress(literal)}` };
  let addresses: LookupAddress[];
  try {
    addresses = await lookup(host, { all: true });
  } catch {
    return { ok: false, reason: `${hostname} does not resolve to an address` };
  }
  if (addresses.length === 0) return { ok: false, reason: `${hostname} does not resolve to an address` };
  const forbidden = addresses.map(({ address }) => rangeOf(address) ?? 'reserved').find((range) => range !== 'unicast');
  return forbidden === undefined ? { ok: true } : { ok: false, reason: `${hostname} resolves to ${anAddress(forbidden)}` };
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * `dns.lookup` for http.request's and https.request's `lookup` option: resolves as dns.lookup
 * does, and fails with code EFORBIDDENADDRESS when any address the name resolves to is not
 * public, so the connection is never opened. `options.all` (which Node asks for when it tries
 * several addresses) gets the list. Node does not call `lookup` for a host that is an IP
 * literal: check those with isForbiddenAddress.
 */
export function publicOnlyLookup(hostname: string, options: LookupOptions | number | LookupCallback, callback?: LookupCallback): void {
  const done = typeof options === 'function' ? options : callback!;
  const given: LookupOptions = typeof options === 'function' ? {} : typeof options === 'number' ? { family: options } : options;
  lookupAddresses(hostname, { ...given, all: true }, (error, addresses) => {
    if (error) return (done as (error: NodeJS.ErrnoException) => void)(error);
    const forbidden = isLocalhostName(hostname)
      ? 'loopback'
      : addresses.map(({ address }) => rangeOf(address) ?? 'reserved').find((range) => range !== 'unicast');
    if (forbidden !== undefined) {
      const refusal: NodeJS.ErrnoException = new Error(`${hostname} resolves to ${anAddress(forbidden)}, which webhooks may not reach`);
      refusal.code = 'EFORBIDDENADDRESS';
      return (done as (error: NodeJS.ErrnoException) => void)(Object.assign(refusal, { hostname }));
    }
    if (given.all) return done(null, addresses);
    const [first] = addresses;
    done(null, first!.address, first!.family);
  });
}
