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
import ipaddr from 'ipaddr.js';

/** ipaddr.js's range names, as a message says them; any other non-unicast range is 'reserved'. */
const RANGE_NAMES: Record<string, string> = {
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  linkLocal: 'link-local',
  loopback: 'loopback',
  carrierGradeNat: 'carrier-grade NAT',
  private: 'private',
  uniqueLocal: 'private',
  ipv4Mapped: 'IPv4-translated',
  rfc6145: 'IPv4-translated',
  rfc6052: 'IPv4-translated',
  '6to4': 'IPv4-translated',
  teredo: 'IPv4-translated',
  unicast: 'unicast',
};

/** The name of the range an IP address is in, 'unicast' for a public one; null when it is no IP address. */
function rangeOf(address: string): string | null {
  const range = ipaddrRange(address);
  return range === null ? null : (RANGE_NAMES[range] ?? 'reserved');
}

function ipaddrRange(address: string): string | null {
  const unzoned = address.replace(/%.*$/, '');
  if (!ipaddr.isValid(unzoned)) return null;
  let parsed = ipaddr.parse(unzoned);
  // ::ffff:127.0.0.1 is 127.0.0.1 to the network: judge the IPv4 address it carries.
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range();
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
