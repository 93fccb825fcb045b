/**
 * The address a request comes from, for counting the requests that carry no valid token. Behind
 * proxies the socket's address is the nearest proxy's; X-Forwarded-For is read only as far as
 * TRUST_PROXY says, since any client can write it. Hand-written: the package that does this for
 * Express (proxy-addr) reads Node's request object and brings two more dependencies, for a dozen
 * lines here.
 */
import { isIP } from 'node:net';

/**
 * false: the socket's address. true: the left-most X-Forwarded-For address (for a proxy that
 * replaces the header). N: N proxies in front, each appending the address it saw, so the client
 * is the N-th address from the right.
 */
export type TrustProxy = boolean | number;

export function clientAddress(socketAddress: string | undefined, forwardedFor: string | null, trust: TrustProxy): string {
  let address = socketAddress ? withoutIpv4Mapping(socketAddress) : 'unknown';
  if (trust === false || !forwardedFor) return address;
  const hops = forwardedFor.split(',').map((hop) => hop.trim());
  // From the nearest proxy outwards, over the trusted hops; what is not an address ends the walk.
  for (let index = hops.length - 1, walked = 0; index >= 0 && (trust === true || walked < trust); index--, walked++) {
    const hop = hops[index]!;
    if (!isIP(hop)) break;
    address = withoutIpv4Mapping(hop);
  }
  return address;
}

/** What an address is counted as: IPv4 as it is, IPv6 by its /64 (what one subscriber usually holds). */
export function addressBucket(address: string): string {
  if (isIP(address) !== 6) return address;
  return `${ipv6Groups(address).slice(0, 4).join(':')}::/64`;
}

/** `::ffff:203.0.113.9`, as Node shows an IPv4 client on a dual-stack socket, is 203.0.113.9. */
function withoutIpv4Mapping(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

/** The eight groups of an IPv6 address, `::` expanded, without leading zeros. */
function ipv6Groups(address: string): string[] {
  const [head = '', tail] = address.split('%')[0]!.toLowerCase().split('::');
  // A trailing dotted IPv4 part holds the last two groups.
  const groups = (text: string) => (text ? text.split(':').flatMap((group) => (group.includes('.') ? ['0', '0'] : [group])) : []);
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  const gap = tail === undefined ? [] : Array<string>(8 - front.length - back.length).fill('0');
  return [...front, ...gap, ...back].map((group) => parseInt(group, 16).toString(16));
}
