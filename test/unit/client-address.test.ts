/** Which address a request is counted against when it has no valid token (TRUST_PROXY). */
import { describe, expect, it } from 'vitest';
import { addressBucket, clientAddress } from '../../src/http/client-address.ts';

describe('the client address', () => {
  it('is the socket\'s without TRUST_PROXY, whatever X-Forwarded-For says', () => {
    expect(clientAddress('203.0.113.9', '198.51.100.1', false)).toBe('203.0.113.9');
    expect(clientAddress('::ffff:203.0.113.9', null, false)).toBe('203.0.113.9');
    expect(clientAddress(undefined, '198.51.100.1', false)).toBe('unknown');
  });

  it('with TRUST_PROXY=true is the left-most X-Forwarded-For address', () => {
    expect(clientAddress('10.0.0.2', '198.51.100.1, 10.0.0.1', true)).toBe('198.51.100.1');
    expect(clientAddress('10.0.0.2', ' 2001:db8::1 ', true)).toBe('2001:db8::1');
    expect(clientAddress('10.0.0.2', null, true)).toBe('10.0.0.2');
    // what is not an address ends the walk: the address after it, as the proxy next to it saw it
    expect(clientAddress('10.0.0.2', 'garbage, 198.51.100.1', true)).toBe('198.51.100.1');
    expect(clientAddress('10.0.0.2', 'garbage', true)).toBe('10.0.0.2');
  });

  it('with TRUST_PROXY=N trusts N proxies, each appending the address it saw', () => {
    const forwarded = '192.0.2.1, 198.51.100.1, 203.0.113.1';
    expect(clientAddress('10.0.0.2', forwarded, 1)).toBe('203.0.113.1');
    expect(clientAddress('10.0.0.2', forwarded, 2)).toBe('198.51.100.1');
    expect(clientAddress('10.0.0.2', forwarded, 3)).toBe('192.0.2.1');
    expect(clientAddress('10.0.0.2', forwarded, 9)).toBe('192.0.2.1');
    expect(clientAddress('10.0.0.2', null, 1)).toBe('10.0.0.2');
  });
});

describe('the bucket of an address', () => {
  it('is an IPv4 address as it is, and an IPv6 address\'s /64 (what one subscriber usually holds)', () => {
    expect(addressBucket('203.0.113.9')).toBe('203.0.113.9');
    const same = ['2001:db8:1:2::1', '2001:0db8:0001:0002:ffff:0:0:9', '2001:DB8:1:2::abcd'].map(addressBucket);
    expect(new Set(same).size).toBe(1);
    expect(addressBucket('2001:db8:1:3::1')).not.toBe(same[0]);
    expect(addressBucket('::1')).toBe(addressBucket('0:0:0:0::2'));
    expect(addressBucket('unknown')).toBe('unknown');
  });
});
