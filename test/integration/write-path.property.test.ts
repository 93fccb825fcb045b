/**
 * One update path: for any input, updateCustomer and a batch of one give the same errors (their
 * paths aside), the same stored customer, the same version and the same history entry. Two
 * databases start alike; each run sends the same update to one as a single update and to the
 * other as a batch of one, then compares them column by column.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateCustomer, updateCustomers } from '../../src/domain/customer-writes.ts';
import type { CustomerInput } from '../../src/domain/customer-input.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let single: TestDatabase;
let batch: TestDatabase;
const HOLDER_EMAIL = 'holder@example.com';

async function seed(database: TestDatabase) {
  await database.sql.query(
    `INSERT INTO customers (first_name, last_name, email, company, store_credit, password_hash, date_created, date_modified)
     VALUES ('Jane', 'Doe', 'jane@example.com', 'Acme', 25.5, 'x', now() - interval '1 day', now() - interval '1 day'),
            ('Hold', 'Er', $1, NULL, 0, 'x', now() - interval '1 day', now() - interval '1 day')`,
    [HOLDER_EMAIL],
  );
}

beforeAll(async () => {
  [single, batch] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  await Promise.all([seed(single), seed(batch)]);
});
afterAll(async () => {
  await Promise.all([single.close(), batch.close()]);
});

/** Everything a write could change, without what differs by nature (salted hashes, clock readings). */
async function state(database: TestDatabase) {
  const customers = await database.sql.query(
    `SELECT *, store_credit::text AS store_credit, password_hash <> 'x' AS password_changed,
            date_modified > date_created AS modified
     FROM customers ORDER BY id`,
  );
  const history = await database.sql.query('SELECT customer_id, version, actor, changes FROM customer_changes ORDER BY customer_id, version');
  return {
    customers: customers.rows.map(({ password_hash: _hash, date_modified: _modified, date_created: _created, ...row }) => row),
    history: history.rows,
  };
}

const text = (max: number) => fc.string({ unit: fc.constantFrom(...'abcXYZé -'), minLength: 1, maxLength: 12 }).map((value) => `n${value}`.slice(0, max));
const oneOf = <T>(valid: fc.Arbitrary<T>, ...invalid: unknown[]) =>
  fc.oneof({ weight: 4, arbitrary: valid as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: fc.constantFrom(...invalid) });

const input: fc.Arbitrary<CustomerInput> = fc.record(
  {
    firstName: oneOf(text(100), null, '  ', 'y'.repeat(101)),
    lastName: oneOf(text(100), null),
    email: oneOf(
      fc.constantFrom('jane@example.com', 'JANE@example.com', 'new.one@example.com', 'new.two@example.com'),
      HOLDER_EMAIL.toUpperCase(),
      'not-an-email',
      null,
    ),
    company: oneOf(fc.option(text(255)), 'c'.repeat(256)),
    notes: fc.option(text(500)),
    storeCredit: oneOf(fc.constantFrom('0', '25.5', '25.5000', '99.9999', '1000'), '-1', '1.23456', null),
    customerGroupId: oneOf(fc.option(fc.integer({ min: 0, max: 5 })), -1),
    registrationIpAddress: oneOf(fc.option(fc.constantFrom('192.0.2.1', '2001:db8::1')), '999.1.1.1'),
    resetPassOnLogin: oneOf(fc.boolean(), null),
    authentication: fc.oneof(
      { weight: 6, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constant({ password: 'Valid-pass-77', passwordConfirmation: 'Valid-pass-77' }) },
      { weight: 1, arbitrary: fc.constant({ password: 'short' }) },
      { weight: 1, arbitrary: fc.constant({ forceReset: true }) },
    ),
  },
  { requiredKeys: [] },
) as fc.Arbitrary<CustomerInput>;

const target = fc.record({
  id: fc.oneof({ weight: 8, arbitrary: fc.constant('1') }, { weight: 1, arbitrary: fc.constantFrom('999', 'abc') }),
  /** Relative to the stored version: null sends none. */
  versionOffset: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 2, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(-1, 1) }),
});

describe('updateCustomer and a batch of one', () => {
  it('give the same errors, stored customer, version and history for any input', async () => {
    let written = 0;
    await fc.assert(
      fc.asyncProperty(input, target, async (changes, { id, versionOffset }) => {
        const { rows } = await single.sql.query<{ version: number }>('SELECT version FROM customers WHERE id = 1');
        const expectedVersion = versionOffset === null ? null : rows[0]!.version + versionOffset;
        const one = await updateCustomer(single.db, { id, input: changes, expectedVersion, actor: 'property' });
        const many = await updateCustomers(batch.db, { items: [{ id, input: changes, expectedVersion }], actor: 'property' });

        const unprefixed = many.errors.map((error) => ({ ...error, path: error.path.slice(2) }));
        expect(many.errors.every((error) => error.path[0] === 'items' && error.path[1] === '0')).toBe(true);
        expect(unprefixed).toEqual(one.errors);
        expect(many.customers === null).toBe(one.customer === null);
        if (one.customer) {
          written += 1;
          // Clock readings differ between the two databases by nature.
          const { dateModified: _a, dateCreated: _b, ...fromOne } = one.customer;
          const { dateModified: _c, dateCreated: _d, ...fromMany } = many.customers![0]!;
          expect(fromMany).toEqual(fromOne);
        }
        expect(await state(batch)).toEqual(await state(single));
      }),
      { numRuns: 100 },
    );
    // Not vacuous: some runs wrote, and the databases moved on together.
    expect(written).toBeGreaterThanOrEqual(5);
    const { rows } = await single.sql.query<{ version: number }>('SELECT version FROM customers WHERE id = 1');
    expect(rows[0]!.version).toBeGreaterThan(2);
  });
});
