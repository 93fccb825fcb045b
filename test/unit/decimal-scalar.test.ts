/**
 * The Decimal scalar of the schema: parseDecimal's rules (test/unit/money.test.ts) for variables
 * and literals alike, trimming, blank as "no amount", and 4-place text out.
 */
import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import { GraphQLScalarType, Kind, parseValue as parseGraphQLValue } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.ts';
import { canonical, decimalText } from '../support/decimals.ts';

const scalar = schema.getType('Decimal') as GraphQLScalarType;

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
