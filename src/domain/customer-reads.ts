/** Reading customers: one as `customer(id)` does, several as the router's `_entities` does. */
import DataLoader from 'dataloader';
import type { FormField } from '../generated/prisma/client.ts';
import type { Database } from '../infra/database/prisma.ts';
import type { ReadRoute } from '../infra/database/read-replicas.ts';
import { customerStatements } from '../infra/database/customer-statements.ts';
import { CUSTOMER_COLUMNS } from './customer-fields.ts';
import { parseCustomerId } from './customer-id.ts';
import type { CustomerView } from './customer-snapshot.ts';

const statements = customerStatements(CUSTOMER_COLUMNS);

/**
 * The customer with this id, or null when there is none (an id that is no customer id names
 * none). One prepared statement rather than Prisma's query: a profile read is the hottest read.
 */
export async function findCustomer(db: Database, id: string): Promise<CustomerView | null> {
  const numeric = parseCustomerId(id);
  return numeric === null ? null : statements.read(db, numeric);
}

/**
 * Customers by id, null for an id that names none. The ids asked for together (a router's
 * `_entities` with one reference per order) are read in one statement, not one each, and never
 * the password hash. One loader per request: it also caches.
 */
export function customerLoader(reads: ReadRoute): DataLoader<string, CustomerView | null> {
  return new DataLoader(async (ids) => {
    const numeric = [...new Set(ids.map(parseCustomerId).filter((id) => id !== null))];
    const rows = numeric.length === 0 ? [] : await reads.run((db) => db.customer.findMany({ where: { id: { in: numeric } }, omit: { passwordHash: true } }));
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => {
      const numericId = parseCustomerId(id);
      return numericId === null ? null : (byId.get(numericId) ?? null);
    });
  });
}

/**
 * The form fields of customers that were read without them (by `customer(id)`'s statement, or
 * by `_entities`), by name: one statement for all the customers of a request that select them.
 */
export function formFieldsLoader(reads: ReadRoute): DataLoader<number, FormField[]> {
  return new DataLoader(async (customerIds) => {
    const rows = await reads.run((db) =>
      db.formField.findMany({ where: { customerId: { in: [...customerIds] } }, orderBy: [{ customerId: 'asc' }, { name: 'asc' }] }),
    );
    const byCustomer = new Map<number, FormField[]>();
    for (const row of rows) {
      const fields = byCustomer.get(row.customerId);
      if (fields) fields.push(row);
      else byCustomer.set(row.customerId, [row]);
    }
    return customerIds.map((id) => byCustomer.get(id) ?? []);
  });
}
