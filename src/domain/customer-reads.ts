/** Reading one customer, as `customer(id)` does. */
import type { Database } from '../infra/database/prisma.ts';
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
