import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { DateTimeResolver, EmailAddressResolver, IPResolver, JSONResolver, URLResolver } from 'graphql-scalars';
import { builder } from './builder.ts';
import { DecimalFormatError, formatDecimal, parseDecimal } from '../domain/money.ts';

builder.addScalarType('DateTime', DateTimeResolver);
builder.addScalarType('IP', IPResolver);
builder.addScalarType('JSON', JSONResolver);
builder.addScalarType('URL', URLResolver);

/**
 * graphql-scalars' EmailAddress, with two allowances the update rules need: surrounding white
 * space is trimmed (it is never stored), and a blank string reaches the domain, which reports it
 * as REQUIRED on the field's path instead of a bare "not an email address".
 */
const emailAddress = EmailAddressResolver.toConfig();
function parseEmail(value: unknown): string {
  if (typeof value === 'string' && value.trim() === '') return '';
  return emailAddress.parseValue!(typeof value === 'string' ? value.trim() : value) as string;
}
builder.addScalarType(
  'EmailAddress',
  new GraphQLScalarType({
    ...emailAddress,
    description: `${emailAddress.description} Surrounding white space is ignored.`,
    parseValue: parseEmail,
    parseLiteral: (ast: ValueNode) => {
      if (ast.kind !== Kind.STRING) throw new GraphQLError(`EmailAddress must be a String, not ${ast.kind}`, { nodes: ast });
      return parseEmail(ast.value);
    },
  }),
);

function parseOrReject(value: unknown): string {
  // Blank is "no amount": the field it was sent for says whether that is allowed (REQUIRED).
  if (typeof value === 'string' && value.trim() === '') return '';
  try {
    return parseDecimal(typeof value === 'string' ? value.trim() : value);
  } catch (error) {
    if (error instanceof DecimalFormatError) throw new GraphQLError(error.message);
    throw error;
  }
}

builder.scalarType('Decimal', {
  description:
    'An exact decimal number with 4 places. Input: an Int, a Float or a String such as "12.5" ' +
    '(more than 4 places, NaN, Infinity, exponent strings or non-numbers are refused; a Float with ' +
    'more than 15 significant digits too, since a Float cannot carry them exactly: send a String). ' +
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
