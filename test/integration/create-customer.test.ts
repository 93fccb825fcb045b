/**
 * createCustomer, as API.md's "Update semantics" states it for creation, each rule once over
 * HTTP and real PostgreSQL. Every row of the input rules: test/unit/customer-input.test.ts.
 */
import { verify } from '@node-rs/argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/domain/tokens.ts';
import {
  codesAndPaths,
  CREATE_CUSTOMER,
  createCustomer,
  customerRow,
  databaseSnapshot,
  historyRows,
  insertCustomer,
  uniqueEmail,
} from '../support/customers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('a new customer', () => {
  it('starts at version 1 with storeCredit "0.0000", resetPassOnLogin false, no form fields, and a random argon2id password', async () => {
    const email = uniqueEmail();
    const payload = await createCustomer(server, { firstName: ' Ann ', lastName: 'Lee', email });
    expect(payload.errors).toEqual([]);
    expect(payload.customer).toEqual({
      id: expect.stringMatching(/^\d+$/),
      firstName: 'Ann',
      lastName: 'Lee',
      email,
      company: null,
      phone: null,
      notes: null,
      storeCredit: '0.0000',
      registrationIpAddress: null,
      customerGroupId: null,
      taxExemptCategory: null,
      resetPassOnLogin: false,
      acceptsProductReviewAbandonedCartEmails: false,
      formFields: [],
      dateCreated: expect.any(String),
      dateModified: payload.customer!.dateCreated,
      version: 1,
    });
    const row = await customerRow(server, payload.customer!.id);
    expect(row).toMatchObject({ first_name: 'Ann', store_credit: '0.0000', version: 1, reset_pass_on_login: false });
    expect(row!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('stores every field it is given', async () => {
    const email = uniqueEmail();
    const payload = await createCustomer(server, {
      firstName: 'Bo',
      lastName: 'Ek',
      email,
      company: 'Ek AB',
      phone: '+46 8 123 456',
      notes: 'VIP',
      storeCredit: '12.3456',
      registrationIpAddress: '2001:db8::7',
      customerGroupId: 3,
      taxExemptCategory: 'EX',
      authentication: { forceReset: true },
    });
    expect(payload.errors).toEqual([]);
    expect(await customerRow(server, payload.customer!.id)).toMatchObject({
      company: 'Ek AB',
      phone: '+46 8 123 456',
      notes: 'VIP',
      store_credit: '12.3456',
      registration_ip_address: '2001:db8::7',
      customer_group_id: 3,
      tax_exempt_category: 'EX',
      reset_pass_on_login: true,
    });
  });

  it('given a password, stores its argon2id hash and never returns it', async () => {
    const password = 'Corr3ct-Horse-Battery';
    const response = await server.graphql(CREATE_CUSTOMER, {
      input: { firstName: 'Cy', lastName: 'Do', email: uniqueEmail(), authentication: { password, passwordConfirmation: password } },
    });
    expect(response.text).not.toContain(password);
    const { id } = response.body.data!.createCustomer.customer;
    const hash = (await customerRow(server, id))!.password_hash as string;
    expect(await verify(hash, password)).toBe(true);
    expect(response.text).not.toContain(hash);
  });

  it('without a password gets a different random one each time', async () => {
    const first = await createCustomer(server, { firstName: 'A', lastName: 'B', email: uniqueEmail() });
    const second = await createCustomer(server, { firstName: 'A', lastName: 'B', email: uniqueEmail() });
    const [one, two] = [await customerRow(server, first.customer!.id), await customerRow(server, second.customer!.id)];
    expect(one!.password_hash).not.toBe(two!.password_hash);
    expect(await verify(one!.password_hash as string, '')).toBe(false);
  });

  it('records version 1 in history, each set field from null, and "password" only when one was chosen', async () => {
    const { secret } = await createToken(server.database.db, 'create-writer', ['customers:write']);
    const email = uniqueEmail();
    const response = await server.graphql(
      CREATE_CUSTOMER,
      { input: { firstName: 'Di', lastName: 'Fu', email, storeCredit: 5, company: null, authentication: { password: 'Zebra-42-crossing' } } },
      { token: secret },
    );
    const customer = response.body.data!.createCustomer.customer;
    const history = await historyRows(server, customer.id);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ version: 1, actor: 'create-writer' });
    expect(history[0]!.at.toISOString()).toBe(customer.dateCreated);
    expect(history[0]!.changes).toEqual([
      { field: 'firstName', from: null, to: 'Di' },
      { field: 'lastName', from: null, to: 'Fu' },
      { field: 'email', from: null, to: email },
      { field: 'storeCredit', from: null, to: '5.0000' },
      { field: 'password', from: null, to: null },
    ]);

    const generated = await createCustomer(server, { firstName: 'Ed', lastName: 'Go', email: uniqueEmail() });
    const [entry] = await historyRows(server, generated.customer!.id);
    expect(entry!.changes.map((change) => change.field)).toEqual(['firstName', 'lastName', 'email']);
  });
});

describe('firstName, lastName and email are required', () => {
  it('left out is a GraphQL validation error (they are non-null in CreateCustomerInput)', async () => {
    const before = await databaseSnapshot(server);
    const response = await server.graphql(CREATE_CUSTOMER, { input: { firstName: 'A', lastName: 'B' } });
    expect(response.status).toBe(400);
    expect(response.body.errors![0]!.message).toMatch(/email/);
    expect(await databaseSnapshot(server)).toEqual(before);
  });

  it('blank is ValidationError REQUIRED on each field, all reported together, nothing created', async () => {
    const before = await databaseSnapshot(server);
    const payload = await createCustomer(server, { firstName: ' ', lastName: '', email: '  ' });
    expect(payload.customer).toBeNull();
    expect(codesAndPaths(payload)).toEqual([
      ['REQUIRED', 'input.firstName'],
      ['REQUIRED', 'input.lastName'],
      ['REQUIRED', 'input.email'],
    ]);
    expect(payload.errors.every((error) => error.__typename === 'ValidationError')).toBe(true);
    expect(await databaseSnapshot(server)).toEqual(before);
  });

  it('storeCredit null is REQUIRED; the other optional fields may be null', async () => {
    const payload = await createCustomer(server, { firstName: 'A', lastName: 'B', email: uniqueEmail(), storeCredit: null });
    expect(codesAndPaths(payload)).toEqual([['REQUIRED', 'input.storeCredit']]);
    const ok = await createCustomer(server, {
      firstName: 'A',
      lastName: 'B',
      email: uniqueEmail(),
      company: null,
      phone: null,
      notes: null,
      registrationIpAddress: null,
      customerGroupId: null,
      taxExemptCategory: null,
    });
    expect(ok.errors).toEqual([]);
  });

  it('resetPassOnLogin is not part of CreateCustomerInput (nor any read-only field: test/unit/contract-schema.test.ts)', async () => {
    const before = await databaseSnapshot(server);
    const response = await server.graphql(CREATE_CUSTOMER, { input: { firstName: 'A', lastName: 'B', email: uniqueEmail(), resetPassOnLogin: true } });
    expect(response.status).toBe(400);
    expect(response.body.errors![0]!.message).toContain('Field "resetPassOnLogin" is not defined by type "CreateCustomerInput"');
    expect(await databaseSnapshot(server)).toEqual(before);
  });
});

describe('email is unique without regard to case', () => {
  it('an existing email in another case is EmailAlreadyInUseError TAKEN, reported with the other errors', async () => {
    const existing = await insertCustomer(server);
    const before = await databaseSnapshot(server);
    const payload = await createCustomer(server, {
      firstName: 'x'.repeat(101),
      lastName: 'B',
      email: existing.email.toUpperCase(),
      authentication: { password: 'weak', passwordConfirmation: 'weak' },
    });
    expect(payload.customer).toBeNull();
    expect(payload.errors.map((error) => [error.__typename, error.code, error.path.join('.')])).toEqual([
      ['ValidationError', 'TOO_LONG', 'input.firstName'],
      ['EmailAlreadyInUseError', 'TAKEN', 'input.email'],
      ['ValidationError', 'PASSWORD_TOO_WEAK', 'input.authentication.password'],
    ]);
    expect(await databaseSnapshot(server)).toEqual(before);
  });

  it('ten concurrent creations with one email (in several cases): exactly one customer, nine TAKEN, no server error', async () => {
    const email = uniqueEmail('race');
    const variants = [email, email.toUpperCase(), email.replace(/^./, (c) => c.toUpperCase())];
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        server.graphql(CREATE_CUSTOMER, { input: { firstName: `Racer ${index}`, lastName: 'R', email: variants[index % 3] } }),
      ),
    );
    for (const response of responses) expect(response.status, response.text).toBe(200);
    const payloads = responses.map((response) => response.body.data!.createCustomer);
    const created = payloads.filter((payload) => payload.errors.length === 0);
    expect(created).toHaveLength(1);
    for (const refused of payloads.filter((payload) => payload.errors.length > 0)) {
      expect(codesAndPaths(refused)).toEqual([['TAKEN', 'input.email']]);
    }
    const { rows } = await server.database.sql.query('SELECT id FROM customers WHERE email = $1', [email]);
    expect(rows).toEqual([{ id: Number(created[0].customer.id) }]);
    const { rows: history } = await server.database.sql.query(
      "SELECT count(*)::int AS n FROM customer_changes WHERE changes @> $1::jsonb",
      [JSON.stringify([{ field: 'lastName', to: 'R' }])],
    );
    expect(history[0].n).toBe(1);
  });
});

describe('scopes', () => {
  it('createCustomer needs customers:write: a read token gets FORBIDDEN and nothing is created', async () => {
    const before = await databaseSnapshot(server);
    const response = await server.graphql(
      CREATE_CUSTOMER,
      { input: { firstName: 'A', lastName: 'B', email: uniqueEmail() } },
      { token: server.tokens.read },
    );
    expect(response.status).toBe(403);
    expect(response.body.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect(await databaseSnapshot(server)).toEqual(before);
  });
});
