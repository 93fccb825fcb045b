/**
 * The schema's input scalars, before any rule runs: Decimal (parseDecimal's rules, see
 * money.test.ts, for variables and literals alike, trimming, blank as "no amount", 4-place text
 * out), IP and EmailAddress.
 */
import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import { GraphQLScalarType, Kind, parseValue as parseGraphQLValue } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.ts';
import { canonical, decimalText } from '../support/decimals.ts';

const scalar = schema.getType('Decimal') as GraphQLScalarType;
const ip = schema.getType('IP') as GraphQLScalarType;
const email = schema.getType('EmailAddress') as GraphQLScalarType;

function parseLiteral(source: string): unknown {
  return scalar.parseLiteral(parseGraphQLValue(source));
}

describe('the Decimal scalar', () => {
  it('a numeric string parses to its exact value with 4 places, as a variable or a literal, and serializes to the same text', () => {
    fc.assert(
      fc.property(decimalText, (text) => {
        const parsed = scalar.parseValue(text);
        expect(parsed).toBe(canonical(text));
        expect(scalar.serialize(parsed)).toBe(parsed);
        expect(scalar.serialize(new Decimal(text))).toBe(canonical(text).replace(/^-0\.0000$/, '0.0000'));
        expect(parseLiteral(JSON.stringify(text))).toBe(parsed);
      }),
      { numRuns: 300 },
    );
  });

  it('a Float literal with at most 4 places is read from its own digits', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(10 ** 11), max: 10 ** 11 }), (tenThousandths) => {
        const written = new Decimal(tenThousandths).dividedBy(10_000).toString();
        expect(scalar.parseValue(JSON.parse(written) as number)).toBe(canonical(written));
        expect(parseLiteral(written)).toBe(canonical(written));
      }),
      { numRuns: 300 },
    );
  });

  it('trims a string, and refuses what parseDecimal refuses with a GraphQL error', () => {
    expect(scalar.parseValue('  7.25 ')).toBe('7.2500');
    for (const input of ['12.34567', '1e3', 'abc', 'NaN', 0.30000000000000004, true, {}, []]) {
      expect(() => scalar.parseValue(input), JSON.stringify(input)).toThrow();
    }
  });

  it('reads an exponent Float literal (1e3) as the number it is, and an exponent string not at all', () => {
    expect(parseLiteral('1e3')).toBe('1000.0000');
    expect(parseLiteral('2.5E2')).toBe('250.0000');
    expect(parseLiteral('42')).toBe('42.0000');
    expect(() => parseLiteral('"1e3"')).toThrow();
    expect(() => parseLiteral('1.23456')).toThrow();
    expect(() => scalar.parseLiteral({ kind: Kind.BOOLEAN, value: true })).toThrow();
  });

  it('a blank string reaches the field as "no amount", which storeCredit reports as REQUIRED', () => {
    expect(scalar.parseValue('')).toBe('');
    expect(scalar.parseValue('   ')).toBe('');
  });
});

describe('the IP scalar', () => {
  it('takes IPv4 and IPv6 as sent', () => {
    for (const address of ['192.0.2.1', '2001:db8::1', '::1', 'fe80::abcd:1234', '::ffff:192.0.2.128', '2001:0db8:0000:0000:0000:ff00:0042:8329', '0000:0000:0000:0000:0000:ffff:255.255.255.255']) {
      expect(ip.parseValue(address)).toBe(address);
    }
  });

  it('refuses what is not an address, a zone index and the empty string', () => {
    for (const address of ['256.1.1.1', '2001:db8:::1', 'localhost', '1.2.3', 'fe80::1%eth0', '999.1.1.1', '']) {
      expect(() => ip.parseValue(address), address).toThrow();
    }
  });
});

describe('the EmailAddress scalar', () => {
  it('ignores surrounding white space', () => {
    expect(email.parseValue('  ann@example.com ')).toBe('ann@example.com');
    expect(email.parseLiteral(parseGraphQLValue('" Ann@Example.com "'))).toBe('Ann@Example.com');
  });

  it('lets a blank string through, for the rules to report as REQUIRED on its field', () => {
    expect(email.parseValue('')).toBe('');
    expect(email.parseValue('   ')).toBe('');
  });

  it('refuses what is not an address', () => {
    for (const value of ['not-an-email', 'a@', '@b.c', 'two@@example.com', 42]) expect(() => email.parseValue(value), String(value)).toThrow();
    expect(() => email.parseLiteral(parseGraphQLValue('42'))).toThrow();
  });
});
