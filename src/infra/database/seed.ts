/** A few demo customers for a new development database. */
import type { Database } from './prisma.ts';

const DEMO_CUSTOMERS = [
  { firstName: 'Jane', lastName: 'Doe', email: 'jane.doe@example.com', company: 'Acme Inc.', phone: '+1 512 555 0100', storeCredit: '25.5000', customerGroupId: 1 },
  { firstName: 'John', lastName: 'Smith', email: 'john.smith@example.com', company: null, phone: '+44 20 7946 0958', storeCredit: '0.0000', customerGroupId: null },
  { firstName: 'Amélie', lastName: 'Laurent', email: 'amelie@example.fr', company: 'Atelier Laurent', phone: null, storeCredit: '100.0000', customerGroupId: 2 },
];

/**
 * Seeds only an empty customers table, so restarts and real data are left alone. Demo
 * customers get the hash of a random password nobody knows.
 */
export async function seedDemoCustomers(db: Database, passwordHash: () => Promise<string>): Promise<number> {
  if ((await db.customer.count()) > 0) return 0;
  const hashes = await Promise.all(DEMO_CUSTOMERS.map(() => passwordHash()));
  await db.$transaction(
    DEMO_CUSTOMERS.map((customer, index) =>
      db.customer.create({
        data: {
          ...customer,
          passwordHash: hashes[index]!,
          formFields: { create: [{ name: 'newsletter_topics', value: ['offers', 'news'] }] },
        },
      }),
    ),
  );
  return DEMO_CUSTOMERS.length;
}
