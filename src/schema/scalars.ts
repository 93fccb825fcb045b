import { GraphQLError, Kind } from 'graphql';
import { DateTimeResolver, EmailAddressResolver, IPResolver, JSONResolver } from 'graphql-scalars';
import { builder } from './builder.ts';
import { DecimalFormatError, formatDecimal, parseDecimal } from '../domain/money.ts';

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('EmailAddress', EmailAddressResolver);
builder.addScalarType('IP', IPResolver);
builder.addScalarType('JSON', JSONResolver);

function parseOrReject(value: unknown): string {
  try {
    return parseDecimal(value);
  } catch (error) {
    if (error instanceof DecimalFormatError) throw new GraphQLError(error.message);
    throw error;
  }
}

builder.scalarType('Decimal', {
  description:
    'An exact decimal number with 4 places. Input: an Int, a Float or a String such as "12.5" ' +
    '(more than 4 places, NaN, Infinity, exponents or non-numbers are refused). ' +
    'Output: a String with exactly 4 places, e.g. "12.5000".',
  serialize: (value) => formatDecimal(value),
  parseValue: (value) => parseOrReject(value),
  parseLiteral: (ast) => {
    // A literal's own digits are exact; only an exponent literal (1e3) goes through a number.
    if (ast.kind === Kind.INT) return parseOrReject(ast.value);
    if (ast.kind === Kind.FLOAT) return parseOrReject(/e/i.test(ast.value) ? Number(ast.value) : ast.value);
    if (ast.kind === Kind.STRING) return parseOrReject(ast.value);
    throw new GraphQLError('Decimal must be an Int, a Float or a String such as "12.5"');
  },
});
