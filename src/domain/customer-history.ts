/**
 * What a write changed, field by field, in API terms: the history clients will read, and the
 * test of whether an update changes anything at all.
 */
import type { Customer } from '../generated/prisma/client.ts';
import type { Transaction } from '../infra/database/transaction.ts';
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
