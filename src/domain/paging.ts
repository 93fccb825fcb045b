/**
 * Pages of a list (customers, a customer's history, an endpoint's webhook deliveries) and positions
 * in the live feed: the one
 * page-size rule and the one cursor format. Cursors are opaque to clients; inside, the kind of
 * list and the key of the last item seen, since every list here pages by one integer key.
 */

export const PAGE_SIZE = { default: 20, max: 100 } as const;

export type CursorKind = 'customer' | 'change' | 'delivery' | 'event';

/**
 * The largest key of each kind: customer ids and versions are PostgreSQL integers; delivery and
 * event ids (the change log's) are bigints, beyond JavaScript's safe integers, so keys are read as bigint.
 */
const MAX_KEY: Record<CursorKind, bigint> = {
  customer: 2_147_483_647n,
  change: 2_147_483_647n,
  delivery: 9_223_372_036_854_775_807n,
  event: 9_223_372_036_854_775_807n,
};

/** A page argument no page can be made from; clients see it as a bad argument. */
export class PagingError extends Error {
  override name = 'PagingError';
}

export interface PageRequest {
  /** Items per page: the default when not asked, never more than the maximum. */
  size: number;
  /** The key after which the page starts; null for the first page. */
  after: number | null;
}

/** The items a `first` asks for: the default when not asked, never more than the maximum. */
export function pageSize(first: number | null | undefined): number {
  return first === null || first === undefined ? PAGE_SIZE.default : Math.min(first, PAGE_SIZE.max);
}

export function pageRequest(kind: CursorKind, { first, after }: { first?: number | null; after?: string | null }): PageRequest {
  if (first !== null && first !== undefined && first < 0) throw new PagingError('first cannot be negative');
  const size = pageSize(first);
  if (after === null || after === undefined) return { size, after: null };
  return { size, after: Number(afterKey(kind, after)) };
}

/** The key `after` names; a PagingError when it is not a cursor of this kind that this API gave out. */
export function afterKey(kind: CursorKind, after: string): bigint {
  const key = decodeCursor(kind, after);
  if (key === null) throw new PagingError('after is not a cursor this API gave out');
  return key;
}

export function encodeCursor(kind: CursorKind, key: number | bigint): string {
  return Buffer.from(`${kind}:${key}`).toString('base64url');
}

export function decodeCursor(kind: CursorKind, cursor: string): bigint | null {
  const text = Buffer.from(cursor, 'base64url').toString();
  const key = text.startsWith(`${kind}:`) ? text.slice(kind.length + 1) : '';
  if (!/^\d{1,19}$/.test(key) || encodeCursor(kind, BigInt(key)) !== cursor) return null;
  const value = BigInt(key);
  return value <= MAX_KEY[kind] ? value : null;
}

export interface Page<T> {
  edges: Array<{ cursor: string; node: T }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

/** A Relay page from rows fetched with one more than the page size (which tells whether more follow). */
export function pageOf<T>(kind: CursorKind, request: PageRequest, rows: readonly T[], keyOf: (row: T) => number): Page<T> {
  const edges = rows.slice(0, request.size).map((node) => ({ cursor: encodeCursor(kind, keyOf(node)), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > request.size,
      hasPreviousPage: request.after !== null,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
