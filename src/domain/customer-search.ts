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

export const PAGE_SIZE = { default: 20, max: 100 } as const;

/** How many customers a page holds: the default when not asked, never more than the maximum. */
export function pageSize(first: number | null | undefined): number | null {
  if (first === null || first === undefined) return PAGE_SIZE.default;
  return first < 0 ? null : Math.min(first, PAGE_SIZE.max);
}

const CURSOR_PREFIX = 'customer:';

/** Cursors are opaque to clients; inside they name the last id seen, since pages go by id. */
export function encodeCursor(id: number): string {
  return Buffer.from(`${CURSOR_PREFIX}${id}`).toString('base64url');
}

export function decodeCursor(cursor: string): number | null {
  const text = Buffer.from(cursor, 'base64url').toString();
  if (!text.startsWith(CURSOR_PREFIX)) return null;
  const id = text.slice(CURSOR_PREFIX.length);
  return /^\d{1,10}$/.test(id) && encodeCursor(Number(id)) === cursor ? Number(id) : null;
}
