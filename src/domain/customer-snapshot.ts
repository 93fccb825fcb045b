/**
 * A customer as a response showed it, at one version. An idempotency record keeps only each
 * customer's id, version and dateModified; a replay rebuilds the rest from the row as it is now
 * and the customer's history, walking back from the current version and putting each change's
 * `from` back. The password hash is never part of it: history holds no password, and the row's
 * hash is not read.
 */
import { Prisma } from '../generated/prisma/client.ts';
import type { StoredCustomer } from '../infra/database/customer-statements.ts';
import type { Database } from '../infra/database/prisma.ts';
import type { Transaction } from '../infra/database/transaction.ts';
import { CUSTOMER_FIELDS, fieldSpec, type CustomerField } from './customer-fields.ts';
import type { FieldChange, FieldValue } from './customer-history.ts';
import { formatDecimal } from './money.ts';

/** A customer as the API shows it. */
export type CustomerView = StoredCustomer;

/** What a record keeps of a customer it answered with. */
export interface CustomerVersion {
  id: number;
  version: number;
  /** ISO 8601: a version with no history entry of its own (a seeded customer) still has it. */
  dateModified: string;
}

/** A history entry as the rebuild reads it. */
export interface HistoryEntry {
  version: number;
  changes: readonly FieldChange[];
}

export function versionOf(customer: CustomerView): CustomerVersion {
  return { id: customer.id, version: customer.version, dateModified: customer.dateModified.toISOString() };
}

/**
 * The customer as it was at `at.version`, from the customer as it is now and its history entries
 * after that version (in any order; others are ignored). Null when that cannot be known for sure:
 * another customer, a version not reached yet, a version in between without its entry, or an
 * entry whose `to` is not what the customer had then (the row was changed outside the API).
 */
export function customerAtVersion(current: CustomerView, later: readonly HistoryEntry[], at: CustomerVersion): CustomerView | null {
  if (current.id !== at.id || current.version < at.version) return null;
  const byVersion = new Map(later.map((entry) => [entry.version, entry]));
  const customer: Record<string, unknown> = { ...current };
  for (let version = current.version; version > at.version; version--) {
    const entry = byVersion.get(version);
    if (!entry) return null;
    for (const change of entry.changes) {
      // "password" (never shown), or a field no longer in the API.
      if (!Object.hasOwn(CUSTOMER_FIELDS, change.field)) continue;
      const field = change.field as CustomerField;
      if (shown(field, customer[field]) !== change.to) return null;
      customer[field] = stored(field, change.from);
    }
  }
  return { ...customer, version: at.version, dateModified: new Date(at.dateModified) } as CustomerView;
}

/** A view's value as history writes it (money as 4-place text). */
function shown(field: CustomerField, value: unknown): FieldValue {
  if (value === null || value === undefined) return null;
  return fieldSpec(field).kind === 'decimal' ? formatDecimal(value as Prisma.Decimal) : (value as FieldValue);
}

/** A history value as a view holds it (money as a Decimal). */
function stored(field: CustomerField, value: FieldValue): unknown {
  return value !== null && fieldSpec(field).kind === 'decimal' ? new Prisma.Decimal(String(value)) : value;
}

/**
 * The customers as they were at the given versions, in that order; null for one that cannot be
 * rebuilt (deleted, or its history incomplete). Two reads, three when a customer changed since.
 */
export async function readCustomersAt(client: Database | Transaction, versions: readonly CustomerVersion[]): Promise<Array<CustomerView | null>> {
  // The rows first: each history entry commits with its row's version, so the entries read
  // afterwards include every one up to the versions read here.
  const rows = await client.customer.findMany({ where: { id: { in: versions.map((v) => v.id) } }, omit: { passwordHash: true } });
  const current = new Map(rows.map((row) => [row.id, row]));
  const moved = versions.filter((v) => (current.get(v.id)?.version ?? v.version) > v.version);
  const later =
    moved.length === 0
      ? []
      : await client.customerChange.findMany({
          where: { OR: moved.map((v) => ({ customerId: v.id, version: { gt: v.version } })) },
          select: { customerId: true, version: true, changes: true },
        });
  return versions.map((v) => {
    const row = current.get(v.id);
    if (!row) return null;
    // Written only by the write statements, always as [{ field, from, to }].
    const entries = later.filter((entry) => entry.customerId === v.id).map((entry) => ({ version: entry.version, changes: entry.changes as unknown as FieldChange[] }));
    return customerAtVersion(row, entries, v);
  });
}
