/** Which customers a `customers` query lists. */
import type { Prisma } from '../generated/prisma/client.ts';
import { CUSTOMER_FIELDS } from './customer-fields.ts';
import { UNSTORABLE_TEXT } from './customer-input.ts';

export interface CustomerFilter {
  /** The whole address, without regard to case. */
  email?: string | null;
  /** Part of the first or the last name, without regard to case: see `nameMatch`. */
  name?: string | null;
  customerGroupId?: number | null;
  /** Both ends included. */
  dateModified?: { from?: Date | null; to?: Date | null } | null;
}

/** A filter no customer could match as sent; clients see it as a bad argument. */
export class CustomerFilterError extends Error {
  override name = 'CustomerFilterError';
}

/**
 * The longest text each filter compares, in characters after trimming: what the fields it is
 * compared with may hold. Longer could match nothing, and would cost a scan under ILIKE.
 */
export const FILTER_MAX_LENGTH = {
  email: CUSTOMER_FIELDS.email.maxLength,
  name: Math.max(CUSTOMER_FIELDS.firstName.maxLength, CUSTOMER_FIELDS.lastName.maxLength),
} as const;

/** A letter or a digit: what PostgreSQL's trigrams (pg_trgm) are made of; anything else parts words. */
const WORD_CHARACTER = /[\p{Alphabetic}\p{Nd}]/u;
/** The fewest letters or digits in a row that a name must contain to be searched anywhere in a name. */
export const NAME_CONTAINS_MIN_RUN = 3;
const CONTAINS_RUN = new RegExp(`${WORD_CHARACTER.source}{${NAME_CONTAINS_MIN_RUN}}`, 'u');

/**
 * Where in a first or last name the searched text may be. The trigram indexes find text anywhere
 * only through a word of three letters or digits; shorter text gives them no trigram, or only
 * one most names share, and would read every customer. It is found at the start of a name
 * instead, which they narrow well. Text without a letter or digit no index can find: null.
 */
export function nameMatch(name: string): 'contains' | 'startsWith' | null {
  if (CONTAINS_RUN.test(name)) return 'contains';
  return WORD_CHARACTER.test(name) ? 'startsWith' : null;
}

/** LIKE would read % and _ in a name as wildcards; a search for "50%" means the characters. */
function literalPattern(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

/** Throws CustomerFilterError naming every field that cannot be compared. */
export function customerWhere(filter: CustomerFilter | null | undefined): Prisma.CustomerWhereInput {
  if (!filter) return {};
  const problems: string[] = [];
  const text = (field: keyof typeof FILTER_MAX_LENGTH): string | undefined => {
    const value = filter[field]?.trim();
    if (!value) return undefined;
    // PostgreSQL cannot hold these characters, and refuses the query that sends them.
    if (UNSTORABLE_TEXT.test(value)) problems.push(`filter.${field} contains characters that cannot be stored`);
    else if ([...value].length > FILTER_MAX_LENGTH[field]) problems.push(`filter.${field} must be at most ${FILTER_MAX_LENGTH[field]} characters`);
    else if (field === 'name' && nameMatch(value) === null) problems.push('filter.name needs a letter or a digit');
    return value;
  };
  const email = text('email');
  const name = text('name');
  if (problems.length > 0) throw new CustomerFilterError(problems.join('; '));

  const where: Prisma.CustomerWhereInput[] = [];
  // citext: equality in the database ignores case.
  if (email) where.push({ email });
  const match = name && nameMatch(name);
  if (match) {
    // ILIKE '%text%' or 'text%': the trigram indexes on both names serve either (a BitmapOr).
    const condition = { [match]: literalPattern(name), mode: 'insensitive' } as const;
    where.push({ OR: [{ firstName: condition }, { lastName: condition }] });
  }
  if (filter.customerGroupId !== undefined && filter.customerGroupId !== null) where.push({ customerGroupId: filter.customerGroupId });
  const { from, to } = filter.dateModified ?? {};
  if (from) where.push({ dateModified: { gte: from } });
  if (to) where.push({ dateModified: { lte: to } });
  return where.length === 0 ? {} : { AND: where };
}
