/** Decimal amounts for property tests, with the expected canonical form computed by decimal.js. */
import { Decimal } from 'decimal.js';
import fc from 'fast-check';

/** A decimal's text: up to 16 digits before the point and up to 4 after, maybe negative. */
export const decimalText = fc
  .tuple(
    fc.boolean(),
    fc.bigInt({ min: 0n, max: 10n ** 16n - 1n }),
    fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 4 }),
    fc.nat({ max: 2 }),
  )
  .map(([negative, integer, fraction, leadingZeros]) => {
    const body = `${'0'.repeat(leadingZeros)}${integer}${fraction ? `.${fraction}` : ''}`;
    return negative ? `-${body}` : body;
  });

/** The canonical form, computed by decimal.js (arbitrary precision), not by the code under test. */
export function canonical(text: string): string {
  const value = new Decimal(text).toFixed(4);
  return value === '-0.0000' ? '0.0000' : value;
}
