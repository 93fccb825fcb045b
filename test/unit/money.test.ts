/** Exact amounts with 4 places: parseDecimal and formatDecimal, checked against decimal.js. */
import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDecimal, parseDecimal } from '../../src/domain/money.ts';
import { canonical, decimalText } from '../support/decimals.ts';

describe('parseDecimal (properties)', () => {
  it('a numeric string parses to its exact value with 4 places', () => {
    fc.assert(
      fc.property(decimalText, (text) => {
        expect(parseDecimal(text)).toBe(canonical(text));
      }),
      { numRuns: 500 },
    );
  });

  it('a Float with at most 4 places and 15 significant digits is exactly the decimal the client wrote', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(10 ** 11), max: 10 ** 11 }), (tenThousandths) => {
        const written = new Decimal(tenThousandths).dividedBy(10_000).toString();
        expect(parseDecimal(JSON.parse(written) as number)).toBe(canonical(written));
      }),
      { numRuns: 500 },
    );
  });

  it('more than 4 places is refused, whatever the other digits', () => {
    fc.assert(
      fc.property(decimalText, fc.integer({ min: 1, max: 9 }), (text, digit) => {
        const longer = `${text}${text.includes('.') ? '' : '.'}${'0'.repeat(4 - (text.split('.')[1]?.length ?? 0))}${digit}`;
        expect(() => parseDecimal(longer)).toThrow(/more than 4 decimal places/);
      }),
      { numRuns: 300 },
    );
  });
});

describe('parseDecimal (examples)', () => {
  const accepted: Array<[unknown, string]> = [
    [0, '0.0000'],
    [12, '12.0000'],
    [12.5, '12.5000'],
    [0.1, '0.1000'],
    ['0.1', '0.1000'],
    ['-0', '0.0000'],
    ['-0.0000', '0.0000'],
    ['-12.5', '-12.5000'],
    ['025.5000', '25.5000'],
    ['9999999999999999.9999', '9999999999999999.9999'],
    [123456789012.345, '123456789012.3450'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991.0000'],
  ];
  for (const [input, output] of accepted) {
    it(`accepts ${JSON.stringify(input)} as ${output}`, () => expect(parseDecimal(input)).toBe(output));
  }

  const refused: Array<[unknown, RegExp]> = [
    ['12.34567', /more than 4 decimal places/],
    ['1e3', /not a decimal number/],
    ['1E3', /not a decimal number/],
    ['abc', /not a decimal number/],
    ['NaN', /not a decimal number/],
    ['Infinity', /not a decimal number/],
    ['-Infinity', /not a decimal number/],
    ['0x10', /not a decimal number/],
    ['.5', /not a decimal number/],
    ['5.', /not a decimal number/],
    ['+5', /not a decimal number/],
    ['1 000', /not a decimal number/],
    ['  7.25 ', /not a decimal number/],
    ['', /not a decimal number/],
    ['10000000000000000', /more than 16 digits before the decimal point/],
    [0.30000000000000004, /more than 15 significant digits/],
    [1234567890123456.7, /more than 15 significant digits/],
    [1e21, /out of range/],
    [1e-7, /out of range/],
    [Number.NaN, /NaN or Infinity/],
    [Number.POSITIVE_INFINITY, /NaN or Infinity/],
    [true, /must be a number or a numeric string/],
    [null, /must be a number or a numeric string/],
    [{}, /must be a number or a numeric string/],
    [[], /must be a number or a numeric string/],
  ];
  for (const [input, reason] of refused) {
    it(`refuses ${typeof input === 'number' ? String(input) : JSON.stringify(input)}`, () => {
      expect(() => parseDecimal(input)).toThrow(reason);
    });
  }

  it('never quotes more than 40 characters of what it refuses', () => {
    expect(() => parseDecimal(`x${'9'.repeat(100)}`)).toThrow(/^"x9{39}" is not a decimal number/);
  });
});

describe('formatDecimal', () => {
  it('writes a stored amount (a Decimal or its text) with exactly 4 places', () => {
    fc.assert(
      fc.property(decimalText, (text) => {
        expect(formatDecimal(new Decimal(text))).toBe(new Decimal(text).toFixed(4));
        expect(formatDecimal(text)).toBe(canonical(text));
      }),
      { numRuns: 300 },
    );
    expect(formatDecimal(new Decimal('25.5'))).toBe('25.5000');
    expect(formatDecimal('7')).toBe('7.0000');
  });
});
