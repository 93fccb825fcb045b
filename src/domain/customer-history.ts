/**
 * What a write changed, field by field, in API terms: the history clients read (newest first, a
 * page at a time), and the test of whether an update changes anything at all.
 */
import type { Customer, CustomerChange } from '../generated/prisma/client.ts';
import type { Database } from '../infra/database/prisma.ts';
import type { Transaction } from '../infra/database/transaction.ts';
import { pageSize } from './customer-search.ts';
import { CUSTOMER_FIELDS, type CustomerField, type CustomerValues } from './customer-input.ts';
import { formatDecimal } from './money.ts';

export type FieldValue = string | number | boolean | null;

/** One changed field. A password change has `from` and `to` null: no secret enters history. */
export interface FieldChange {
  field: CustomerField | 'password';
  from: FieldValue;
  to: FieldValue;
}

export const PASSWORD_CHANGE: FieldChange = { field: 'password', from: null, to: null };

/** A stored customer's field as the API shows it (money as 4-place text). */
export function apiValue(customer: Customer, field: CustomerField): FieldValue {
  return field === 'storeCredit' ? formatDecimal(customer.storeCredit) : customer[field];
}

/** The fields whose new value differs from the stored one; empty for a no-op. */
export function changedFields(current: Customer, values: CustomerValues): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const field of CUSTOMER_FIELDS) {
    const to = values[field];
    if (to === undefined) continue;
    const from = apiValue(current, field);
    if (from !== to) changes.push({ field, from, to });
  }
  return changes;
}

/** A creation sets every field it names, from nothing. */
export function createdFields(values: CustomerValues): FieldChange[] {
  return CUSTOMER_FIELDS.flatMap((field) => {
    const to = values[field];
    return to === undefined || to === null ? [] : [{ field, from: null, to }];
  });
}

export async function recordChange(
  tx: Transaction,
  entry: { customerId: number; version: number; actor: string; at: Date; changes: FieldChange[] },
): Promise<void> {
  await tx.customerChange.create({
    data: {
      customerId: entry.customerId,
      version: entry.version,
      actor: entry.actor,
      at: entry.at,
      changes: entry.changes.map(({ field, from, to }) => ({ field, from, to })),
    },
  });
}

export interface HistoryPage {
  /** Newest first, each with the cursor to page on from it. */
  entries: Array<{ cursor: string; change: CustomerChange }>;
  hasNextPage: boolean;
}

export class HistoryCursorError extends Error {
  override name = 'HistoryCursorError';
}

/**
 * One page of a customer's history, newest first. `first` is capped like every page of this API
 * (20 when left out, at most 100); `after` is a cursor from an earlier page.
 */
export async function customerHistory(
  db: Database,
  customerId: number,
  { first, after }: { first?: number | null; after?: string | null },
): Promise<HistoryPage> {
  const size = pageSize(first);
  if (size === null) throw new HistoryCursorError('first cannot be negative');
  const afterVersion = after === null || after === undefined ? null : decodeHistoryCursor(after);
  if (after !== null && after !== undefined && afterVersion === null) throw new HistoryCursorError('after is not a history cursor this API gave out');
  const rows = await db.customerChange.findMany({
    where: { customerId, ...(afterVersion !== null && { version: { lt: afterVersion } }) },
    orderBy: { version: 'desc' },
    // One more than asked tells whether there is a next page.
    take: size + 1,
  });
  return {
    entries: rows.slice(0, size).map((change) => ({ cursor: encodeHistoryCursor(change.version), change })),
    hasNextPage: rows.length > size,
  };
}

const CURSOR_PREFIX = 'change:';

/** Opaque to clients; inside, the version of the entry, since a page goes down by version. */
export function encodeHistoryCursor(version: number): string {
  return Buffer.from(`${CURSOR_PREFIX}${version}`).toString('base64url');
}

export function decodeHistoryCursor(cursor: string): number | null {
  const text = Buffer.from(cursor, 'base64url').toString();
  if (!text.startsWith(CURSOR_PREFIX)) return null;
  const version = text.slice(CURSOR_PREFIX.length);
  return /^\d{1,10}$/.test(version) && encodeHistoryCursor(Number(version)) === cursor ? Number(version) : null;
}
