/**
 * "Any error means nothing is written", as a property: inputs that mix valid changes with at
 * least one invalid field, of any kind, leave every customer and the history untouched. That the
 * rules report each invalid field is sampled far more widely in test/unit/customer-input.test.ts;
 * here every request goes through GraphQL validation, the rules and PostgreSQL.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_CUSTOMER, databaseSnapshot, insertCustomer, UPDATE_CUSTOMER, uniqueEmail, type CustomerFixture } from '../support/customers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { blank, tooLong, validChanges } from '../support/arbitraries.ts';

let server: TestServer;
let target: CustomerFixture;
let other: CustomerFixture;
beforeAll(async () => {
  server = await startTestServer();
  target = await insertCustomer(server);
  other = await insertCustomer(server);
});
afterAll(() => server.close());

type Invalid = { field: string; value: unknown } | { field: 'authentication'; value: Record<string, unknown> };

/** One invalid field, of every kind the contract names; some fail GraphQL validation, some the rules. */
const invalidField: fc.Arbitrary<Invalid> = fc.oneof(
  fc.record({ field: fc.constantFrom('firstName', 'lastName'), value: fc.oneof(fc.constant(null), blank, tooLong(100)) }),
  fc.record({
    field: fc.constant('email'),
    value: fc.oneof(
      fc.constant(null),
      blank,
      fc.constant(`${'a'.repeat(250)}@example.com`),
      fc.constantFrom('not-an-email', 'a@', '@b.c', 'two@@example.com'),
      fc.constant('TAKEN'),
    ),
  }),
  fc.record({ field: fc.constant('company'), value: tooLong(255) }),
  fc.record({ field: fc.constant('phone'), value: tooLong(50) }),
  fc.record({ field: fc.constant('taxExemptCategory'), value: tooLong(255) }),
  fc.record({ field: fc.constantFrom('notes', 'company', 'firstName'), value: fc.constant('nul\u0000inside') }),
  fc.record({
    field: fc.constant('storeCredit'),
    value: fc.oneof(
      fc.constant(null),
      blank,
      fc.integer({ min: 1, max: 10 ** 6 }).map((n) => `-${n}`),
      fc.integer({ min: 1, max: 10 ** 6 }).map((n) => -n),
      fc.constantFrom('12.34567', '1e3', 'abc', 'NaN', 'Infinity', '1.2.3', '10000000000000000', 0.30000000000000004),
    ),
  }),
  fc.record({ field: fc.constant('customerGroupId'), value: fc.oneof(fc.integer({ min: -1000, max: -1 }), fc.constant('seven')) }),
  fc.record({ field: fc.constant('registrationIpAddress'), value: fc.constantFrom('999.1.1.1', 'fe80::1%eth0', 'localhost', '') }),
  fc.record({ field: fc.constant('resetPassOnLogin'), value: fc.constant(null) }),
  fc.record({
    field: fc.constant('authentication'),
    value: fc.oneof(
      fc.constantFrom('short1', 'lettersonly', '12345678', 'password1', 'Qwerty123').map((password) => ({ password })),
      fc.constant({ password: 'Valid-pass-77', passwordConfirmation: 'Valid-pass-78' }),
      fc.constant({ passwordConfirmation: 'without-a-password-1' }),
      fc.constant({ password: 'Valid-pass-77', forceReset: 'yes' }),
    ),
  }),
  fc.record({
    field: fc.constantFrom('dateCreated', 'dateModified', 'version', 'id', 'acceptsProductReviewAbandonedCartEmails', 'formFields'),
    value: fc.constantFrom('2020-01-01T00:00:00Z', 3, true, []),
  }),
);

function withInvalid(base: Record<string, unknown>, invalid: Invalid[]): Record<string, unknown> {
  const input = { ...base };
  for (const { field, value } of invalid) input[field] = field === 'email' && value === 'TAKEN' ? other.email.toUpperCase() : value;
  return input;
}

/** Refused: a GraphQL error before anything ran, or a payload with errors and no customer. */
function expectRefused(response: { status: number; text: string; body: { data?: any; errors?: unknown[] } }, field: string) {
  if (response.body.errors) {
    expect(response.status, response.text).toBe(400);
    expect(response.body.data).toBeUndefined();
    return;
  }
  expect(response.status, response.text).toBe(200);
  const payload = response.body.data![field];
  expect(payload.customer, response.text).toBeNull();
  expect(payload.errors.length, response.text).toBeGreaterThan(0);
}

describe('an input with any invalid field changes nothing in the database', () => {
  it('updateCustomer', async () => {
    await fc.assert(
      fc.asyncProperty(validChanges, fc.array(invalidField, { minLength: 1, maxLength: 3 }), async (valid, invalid) => {
        const before = await databaseSnapshot(server);
        const response = await server.graphql(UPDATE_CUSTOMER, { id: target.id, input: withInvalid(valid, invalid) });
        expectRefused(response, 'updateCustomer');
        expect(response.text).not.toMatch(/Valid-pass-7\d|argon2/);
        expect(await databaseSnapshot(server)).toEqual(before);
      }),
      { numRuns: 40 },
    );
  });

  it('updateCustomer with a stale expectedVersion and otherwise valid changes', async () => {
    await fc.assert(
      fc.asyncProperty(validChanges, fc.integer({ min: 2, max: 50 }), async (valid, stale) => {
        const before = await databaseSnapshot(server);
        const response = await server.graphql(UPDATE_CUSTOMER, { id: target.id, input: valid, expectedVersion: stale });
        expectRefused(response, 'updateCustomer');
        expect(await databaseSnapshot(server)).toEqual(before);
      }),
      { numRuns: 10 },
    );
  });

  it('createCustomer', async () => {
    await fc.assert(
      fc.asyncProperty(validChanges, fc.array(invalidField, { minLength: 1, maxLength: 3 }), async (valid, invalid) => {
        const { resetPassOnLogin: _notInCreate, ...base } = valid;
        const before = await databaseSnapshot(server);
        const input = withInvalid({ ...base, email: uniqueEmail('property') }, invalid);
        const response = await server.graphql(CREATE_CUSTOMER, { input });
        expectRefused(response, 'createCustomer');
        expect(await databaseSnapshot(server)).toEqual(before);
      }),
      { numRuns: 30 },
    );
  });

  it('the valid part alone would have been written (the property is not vacuous)', async () => {
    const sample = fc.sample(validChanges, { numRuns: 5, seed: 7 });
    for (const valid of sample) {
      const response = await server.graphql(UPDATE_CUSTOMER, { id: target.id, input: valid });
      expect(response.body.data!.updateCustomer.errors).toEqual([]);
    }
    const { rows } = await server.database.sql.query('SELECT version FROM customers WHERE id = $1', [Number(target.id)]);
    expect(rows[0].version).toBeGreaterThan(1);
  });
});
