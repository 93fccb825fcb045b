/**
 * A few demo customers for a new development database, created through the one write path, so
 * each has its creation in its history (and as an event) like any other customer.
 */
import type { Database } from '../infra/database/prisma.ts';
import { createCustomer } from './customer-writes.ts';
import type { CustomerInput } from './customer-input.ts';

export const DEMO_ACTOR = 'demo-seed';

const DEMO_CUSTOMERS: ReadonlyArray<CustomerInput> = [
  { firstName: 'Jane', lastName: 'Doe', email: 'jane.doe@example.com', company: 'Acme Inc.', phone: '+1 512 555 0100', storeCredit: '25.5', customerGroupId: 1 },
  { firstName: 'John', lastName: 'Smith', email: 'john.smith@example.com', phone: '+44 20 7946 0958' },
  { firstName: 'Amélie', lastName: 'Laurent', email: 'amelie@example.fr', company: 'Atelier Laurent', storeCredit: '100', customerGroupId: 2 },
];

/** Read-only form fields have no write path in the API; the demo customers get one each. */
const DEMO_FORM_FIELD = { name: 'newsletter_topics', value: ['offers', 'news'] };

/**
 * Seeds only an empty customers table, so restarts and real data are left alone. Demo customers
 * get a random password nobody knows.
 */
export async function seedDemoCustomers(db: Database): Promise<number> {
  if ((await db.customer.count()) > 0) return 0;
  for (const input of DEMO_CUSTOMERS) {
    const { customer, errors } = await createCustomer(db, { input, actor: DEMO_ACTOR });
    if (!customer) throw new Error(`demo customer refused: ${errors.map((error) => error.message).join('; ')}`);
    await db.formField.create({ data: { customerId: customer.id, ...DEMO_FORM_FIELD } });
  }
  return DEMO_CUSTOMERS.length;
}
