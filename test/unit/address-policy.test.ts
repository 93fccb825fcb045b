/** Which addresses webhooks may reach (src/infra/network/address-policy.ts), with IP literals and `localhost` only. */
import { request } from 'node:http';
import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { describe, expect, it } from 'vitest';
import { checkPublicHost, isForbiddenAddress, publicOnlyLookup } from '../../src/infra/network/address-policy.ts';

const FORBIDDEN = {
  loopback: ['127.0.0.1', '127.255.255.254', '::1', '0:0:0:0:0:0:0:1'],
  private: ['10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', 'fc00::1', 'fd12:3456::1'],
  'link-local': ['169.254.169.254', 'fe80::1', 'fe80::1%eth0', 'febf::1'],
  unspecified: ['0.0.0.0', '0.1.2.3', '::', '0:0:0:0:0:0:0:0'],
  'carrier-grade NAT': ['100.64.0.1', '100.127.255.255'],
  multicast: ['224.0.0.1', '239.255.255.250', 'ff02::1'],
  broadcast: ['255.255.255.255'],
  reserved: ['192.0.2.1', '198.51.100.7', '203.0.113.9', '198.18.0.1', '240.0.0.1', '2001:db8::1', '100::1', 'fec0::1', '::127.0.0.1'],
  'IPv4-mapped': ['::ffff:127.0.0.1', '::ffff:7f00:1', '0:0:0:0:0:ffff:a00:1', '::ffff:192.168.1.1', '::ffff:169.254.169.254', '::ffff:0.0.0.0'],
  'IPv4-translated': ['64:ff9b::7f00:1', '2002:7f00:1::1', '2001::1', '::ffff:0:7f00:1'],
  'not an IP address': ['localhost', 'example.com', '', '127.1', '[::1]'],
};
const PUBLIC = ['8.8.8.8', '1.1.1.1', '93.184.215.14', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8'];

describe('isForbiddenAddress', () => {
  for (const [kind, addresses] of Object.entries(FORBIDDEN)) {
    it(`forbids ${kind} addresses`, () => {
      for (const address of addresses) expect(isForbiddenAddress(address), address).toBe(true);
    });
  }

  it('allows public unicast addresses, IPv4 and IPv6', () => {
    for (const address of PUBLIC) expect(isForbiddenAddress(address), address).toBe(false);
  });
});

describe('checkPublicHost', () => {
  it('refuses localhost names and forbidden literals, naming the host and the kind of address', async () => {
    expect(await checkPublicHost('localhost')).toEqual({ ok: false, reason: 'localhost is a loopback name' });
    expect(await checkPublicHost('api.LOCALHOST.')).toMatchObject({ ok: false });
    expect(await checkPublicHost('127.0.0.1')).toEqual({ ok: false, reason: '127.0.0.1 is a loopback address' });
    expect(await checkPublicHost('[::1]')).toEqual({ ok: false, reason: '[::1] is a loopback address' });
    expect(await checkPublicHost('[::ffff:7f00:1]')).toEqual({ ok: false, reason: '[::ffff:7f00:1] is a loopback address' });
    expect(await checkPublicHost('10.0.0.1')).toEqual({ ok: false, reason: '10.0.0.1 is a private address' });
    expect(await checkPublicHost('169.254.169.254')).toEqual({ ok: false, reason: '169.254.169.254 is a link-local address' });
    expect(await checkPublicHost('0.0.0.0')).toEqual({ ok: false, reason: '0.0.0.0 is an unspecified address' });
  });

  it('accepts public literals without asking a resolver', async () => {
    expect(await checkPublicHost('8.8.8.8')).toEqual({ ok: true });
    expect(await checkPublicHost('[2606:4700:4700::1111]')).toEqual({ ok: true });
  });

  it('refuses a name that does not resolve', async () => {
    expect(await checkPublicHost('no-such-host.invalid')).toEqual({ ok: false, reason: 'no-such-host.invalid does not resolve to an address' });
  });
});

/** publicOnlyLookup called as Node calls a `lookup` option. */
function resolve(hostname: string, options: Parameters<LookupFunction>[1]) {
  return new Promise<{ error: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number | undefined }>((done) =>
    publicOnlyLookup(hostname, options, (error, address, family) => done({ error, address, family })),
  );
}

describe('publicOnlyLookup', () => {
  it('fits the lookup option of http.request', () => {
    const lookup: LookupFunction = publicOnlyLookup;
    expect(typeof lookup).toBe('function');
  });

  it('answers a public address as dns.lookup does: one address and its family, or all of them', async () => {
    expect(await resolve('8.8.8.8', {})).toEqual({ error: null, address: '8.8.8.8', family: 4 });
    expect(await resolve('2606:4700:4700::1111', { family: 6 })).toEqual({ error: null, address: '2606:4700:4700::1111', family: 6 });
    expect(await resolve('8.8.8.8', { all: true })).toEqual({ error: null, address: [{ address: '8.8.8.8', family: 4 }] });
  });

  it('takes the other forms of dns.lookup: a family number, or no options', async () => {
    const withFamily = await new Promise<unknown[]>((done) => publicOnlyLookup('1.1.1.1', 4, (...args) => done(args)));
    expect(withFamily).toEqual([null, '1.1.1.1', 4]);
    const bare = await new Promise<unknown[]>((done) => publicOnlyLookup('127.0.0.1', (...args) => done(args)));
    expect((bare[0] as NodeJS.ErrnoException).code).toBe('EFORBIDDENADDRESS');
  });

  it('fails with EFORBIDDENADDRESS for forbidden addresses, with or without all', async () => {
    for (const hostname of ['127.0.0.1', '::1', '10.0.0.1', '169.254.169.254', '0.0.0.0', '::ffff:127.0.0.1', 'localhost']) {
      for (const options of [{}, { all: true }]) {
        const { error } = await resolve(hostname, options);
        expect(error?.code, `${hostname} ${JSON.stringify(options)}`).toBe('EFORBIDDENADDRESS');
        expect(error?.message).toMatch(/which webhooks may not reach/);
      }
    }
  });

  it('passes a resolver failure on as it is', async () => {
    const { error } = await resolve('no-such-host.invalid', { all: true });
    expect(error?.code).toMatch(/^(ENOTFOUND|EAI_AGAIN)$/);
  });

  it('stops http.request before it connects', async () => {
    const error = await new Promise<NodeJS.ErrnoException>((done) => {
      const outgoing = request({ host: 'localhost', port: 9, path: '/', lookup: publicOnlyLookup });
      outgoing.on('error', done);
      outgoing.end();
    });
    expect(error.code).toBe('EFORBIDDENADDRESS');
  });
});
