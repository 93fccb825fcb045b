/**
 * Exact decimal amounts with 4 places, as strings: no float ever touches money. Storage is
 * numeric(20,4), so at most 16 digits before the point.
 */

export const DECIMAL_PLACES = 4;
const MAX_INTEGER_DIGITS = 16;
const MAX_FLOAT_DIGITS = 15;
const DECIMAL_TEXT = /^(-?)(\d+)(?:\.(\d+))?$/;

export class DecimalFormatError extends Error {
  override name = 'DecimalFormatError';
}

/**
 * Parses an Int, a Float or a numeric String (BigCommerce's "Float, Float as String, Integer")
 * into canonical text with exactly 4 places, e.g. "12.5" -> "12.5000".
 */
export function parseDecimal(value: unknown): string {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new DecimalFormatError('Decimal cannot be NaN or Infinity');
    // The shortest text that round-trips the double: 0.1 is "0.1", exactly what the client wrote.
    text = String(value);
    if (/e/i.test(text)) throw new DecimalFormatError(`Decimal ${text} is out of range or has more than ${DECIMAL_PLACES} decimal places`);
    // A double holds 15 significant digits for sure; beyond that the text above may not be what
    // the client wrote (1234567890123456.7 arrives as ...6.8), and guessing is not exact.
    if (!Number.isSafeInteger(value) && significantDigits(text) > MAX_FLOAT_DIGITS) {
      throw new DecimalFormatError(`Decimal ${text} has more than ${MAX_FLOAT_DIGITS} significant digits, more than a Float carries exactly: send it as a String`);
    }
  } else if (typeof value === 'string') {
    text = value;
  } else {
    throw new DecimalFormatError('Decimal must be a number or a numeric string such as "12.5"');
  }
  const match = DECIMAL_TEXT.exec(text);
  if (!match) {
    throw new DecimalFormatError(`"${text.slice(0, 40)}" is not a decimal number (digits, an optional "-" and "." only, no exponent)`);
  }
  const [, sign = '', integerPart = '', fraction = ''] = match;
  if (fraction.length > DECIMAL_PLACES) {
    throw new DecimalFormatError(`Decimal ${text} has more than ${DECIMAL_PLACES} decimal places`);
  }
  const integer = integerPart.replace(/^0+(?=\d)/, '');
  if (integer.length > MAX_INTEGER_DIGITS) {
    throw new DecimalFormatError(`Decimal ${text} has more than ${MAX_INTEGER_DIGITS} digits before the decimal point`);
  }
  const digits = `${integer}.${fraction.padEnd(DECIMAL_PLACES, '0')}`;
  return sign && /[1-9]/.test(digits) ? `-${digits}` : digits;
}

function significantDigits(text: string): number {
  return text.replace(/[-.]/g, '').replace(/^0+/, '').length;
}

/** Canonical 4-place text of a stored amount (Prisma's Decimal or anything with toFixed). */
export function formatDecimal(value: { toFixed(places: number): string } | string): string {
  return typeof value === 'string' ? parseDecimal(value) : value.toFixed(DECIMAL_PLACES);
}

export function isNegative(canonical: string): boolean {
  return canonical.startsWith('-');
}
