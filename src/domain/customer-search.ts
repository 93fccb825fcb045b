/** Which customers a `customers` query lists. */
import type { Prisma } from '../generated/prisma/client.ts';

export interface CustomerFilter {
  /** The whole address, without regard to case. */
  email?: string | null;
  /** Part of the first or the last name, without regard to case. */
  name?: string | null;
  customerGroupId?: number | null;
  /** Both ends included. */
  dateModified?: { from?: Date | null; to?: Date | null } | null;
}

/** LIKE would read % and _ in a name as wildcards; a search for "50%" means the characters. */
function literalPattern(text: string): string {
  return text.replace(/[\\%_]/g, (character) => `\\${character}`);
}

export function customerWhere(filter: CustomerFilter | null | undefined): Prisma.CustomerWhereInput {
  if (!filter) return {};
  const where: Prisma.CustomerWhereInput[] = [];
  const email = filter.email?.trim();
  // citext: equality in the database ignores case.
  if (email) where.push({ email });
  const name = filter.name?.trim();
  if (name) {
    const contains = literalPattern(name);
    where.push({
      OR: [{ firstName: { contains, mode: 'insensitive' } }, { lastName: { contains, mode: 'insensitive' } }],
    });
  }
  if (filter.customerGroupId !== undefined && filter.customerGroupId !== null) where.push({ customerGroupId: filter.customerGroupId });
  const { from, to } = filter.dateModified ?? {};
  if (from) where.push({ dateModified: { gte: from } });
  if (to) where.push({ dateModified: { lte: to } });
  return where.length === 0 ? {} : { AND: where };
}
