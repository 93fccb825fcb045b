/** A customer's history: every write, newest first, a page at a time. */
import type { CustomerChange } from '../generated/prisma/client.ts';
import type { Database } from '../infra/database/prisma.ts';
import type { CustomerField } from './customer-fields.ts';
import type { PageRequest } from './paging.ts';

export type FieldValue = string | number | boolean | null;

/** One changed field. A password change has `from` and `to` null: no secret enters history. */
export interface FieldChange {
  field: CustomerField | 'password';
  from: FieldValue;
  to: FieldValue;
}

/** One page of entries, newest first, with one more than asked when more follow. */
export function customerHistory(db: Database, customerId: number, page: PageRequest): Promise<CustomerChange[]> {
  return db.customerChange.findMany({
    where: { customerId, ...(page.after !== null && { version: { lt: page.after } }) },
    orderBy: { version: 'desc' },
    take: page.size + 1,
  });
}
