/**
 * A customer as a response showed it, in plain JSON: what an idempotency record keeps so that a
 * retry gets the very response the first request got, though the customer may have changed since.
 * The password hash is deliberately not part of it.
 */
import type { Customer } from '../generated/prisma/client.ts';
import { formatDecimal } from './money.ts';

/** The columns a client can read, JSON-safe: money as 4-place text, times as ISO 8601 text. */
export interface CustomerSnapshot {
  id: number;
  firstName: string;
  lastName: string;
  email: string;
  company: string | null;
  phone: string | null;
  notes: string | null;
  storeCredit: string;
  registrationIpAddress: string | null;
  customerGroupId: number | null;
  taxExemptCategory: string | null;
  resetPassOnLogin: boolean;
  acceptsProductReviewAbandonedCartEmails: boolean;
  dateCreated: string;
  dateModified: string;
  version: number;
}

/**
 * A customer as the API shows it: a stored row, or one restored from a snapshot. Neither carries
 * the password hash to the GraphQL layer by type, and a restored one not at all.
 */
export type CustomerView = Omit<Customer, 'passwordHash' | 'storeCredit'> & { storeCredit: Customer['storeCredit'] | string };

export function snapshotOf(customer: CustomerView): CustomerSnapshot {
  // Field by field, not a spread: a column added later stays out until someone decides it belongs.
  return {
    id: customer.id,
    firstName: customer.firstName,
    lastName: customer.lastName,
    email: customer.email,
    company: customer.company,
    phone: customer.phone,
    notes: customer.notes,
    storeCredit: formatDecimal(customer.storeCredit),
    registrationIpAddress: customer.registrationIpAddress,
    customerGroupId: customer.customerGroupId,
    taxExemptCategory: customer.taxExemptCategory,
    resetPassOnLogin: customer.resetPassOnLogin,
    acceptsProductReviewAbandonedCartEmails: customer.acceptsProductReviewAbandonedCartEmails,
    dateCreated: customer.dateCreated.toISOString(),
    dateModified: customer.dateModified.toISOString(),
    version: customer.version,
  };
}

export function restoreSnapshot(snapshot: CustomerSnapshot): CustomerView {
  return { ...snapshot, dateCreated: new Date(snapshot.dateCreated), dateModified: new Date(snapshot.dateModified) };
}
