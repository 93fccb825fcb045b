/**
 * A customer as a response showed it, in plain JSON: what an idempotency record keeps so that a
 * retry gets the very response the first request got, though the customer may have changed since.
 * The password hash is never part of it: the write statements do not return it.
 */
import { Prisma } from '../generated/prisma/client.ts';
import type { StoredCustomer } from '../infra/database/customer-statements.ts';
import { FIELD_NAMES, fieldSpec } from './customer-fields.ts';
import { formatDecimal } from './money.ts';

/** A customer as the API shows it. */
export type CustomerView = StoredCustomer;

/** The customer's fields, JSON-safe: money as 4-place text, times as ISO 8601 text. */
export type CustomerSnapshot = Record<string, string | number | boolean | null>;

const DECIMALS = FIELD_NAMES.filter((field) => fieldSpec(field).kind === 'decimal');
const TIMES = ['dateCreated', 'dateModified'] as const;

export function snapshotOf(customer: CustomerView): CustomerSnapshot {
  const snapshot: CustomerSnapshot = {};
  for (const [name, value] of Object.entries(customer)) {
    snapshot[name] = value instanceof Date ? value.toISOString() : value instanceof Prisma.Decimal ? formatDecimal(value) : (value as CustomerSnapshot[string]);
  }
  return snapshot;
}

export function restoreSnapshot(snapshot: CustomerSnapshot): CustomerView {
  const customer: Record<string, unknown> = { ...snapshot };
  for (const field of DECIMALS) customer[field] = new Prisma.Decimal(String(snapshot[field]));
  for (const field of TIMES) customer[field] = new Date(String(snapshot[field]));
  return customer as CustomerView;
}
