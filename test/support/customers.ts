/**
 * Customer fixtures and checks for the write tests. Fixtures are inserted with plain SQL and
 * rows are read back with plain SQL, so the code under test neither prepares nor judges itself.
 */
import type pg from 'pg';
import { expect } from 'vitest';
import { hashPassword } from '../../src/domain/passwords.ts';
import type { TestServer } from './server.ts';

let sequence = 0;
let fixtureHash: Promise<string> | undefined;

/** A unique email for this test file's database. */
export function uniqueEmail(label = 'customer'): string {
  sequence += 1;
  return `${label}.${sequence}.${Math.random().toString(36).slice(2, 7)}@example.com`;
}

export interface CustomerFixture {
  id: string;
  email: string;
}

/**
 * A customer at version 1 with its creation in the history, as createCustomer leaves one, made
 * in one statement (no password hash: for tests that never sign in); returns its id.
 */
export async function seedCustomerWithHistory(sql: Pick<pg.Pool, 'query'>, firstName: string, label: string): Promise<number> {
  const { rows } = await sql.query<{ id: number }>(
    `WITH made AS (
       INSERT INTO customers (first_name, last_name, email, password_hash, notes)
       VALUES ($1, $2, $3, 'not-a-real-hash', 'initial') RETURNING id)
     INSERT INTO customer_changes (customer_id, version, actor, changes)
     SELECT id, 1, 'seed', '[{"field":"notes","from":null,"to":"initial"}]' FROM made RETURNING customer_id AS id`,
    [firstName, label, `${label}.${Date.now()}@example.com`],
  );
  return rows[0]!.id;
}

/** Inserts a customer at version 1 (a real argon2id hash of "Fixture-pass-1"); returns its id. */
export async function insertCustomer(
  server: TestServer,
  fields: Partial<Record<'first_name' | 'last_name' | 'email' | 'company' | 'phone' | 'notes' | 'store_credit' | 'registration_ip_address' | 'tax_exempt_category', string | null> & { customer_group_id: number | null; reset_pass_on_login: boolean }> = {},
): Promise<CustomerFixture> {
  fixtureHash ??= hashPassword('Fixture-pass-1');
  const row = {
    first_name: 'Jane',
    last_name: 'Doe',
    email: uniqueEmail(),
    company: 'Acme Inc.',
    phone: '+1 512 555 0100',
    notes: 'Prefers email',
    store_credit: '25.5000',
    registration_ip_address: '203.0.113.7',
    customer_group_id: 1,
    tax_exempt_category: 'A',
    reset_pass_on_login: false,
    ...fields,
    password_hash: await fixtureHash,
  };
  const columns = Object.keys(row);
  const { rows } = await server.database.sql.query<{ id: number }>(
    // Back-dated, so that a write's new dateModified is told apart from creation.
    `INSERT INTO customers (${columns.join(', ')}, date_created, date_modified)
     VALUES (${columns.map((_, index) => `$${index + 1}`).join(', ')}, now() - interval '1 day', now() - interval '1 day')
     RETURNING id`,
    Object.values(row),
  );
  await server.database.sql.query(
    `INSERT INTO customer_form_fields (customer_id, name, value) VALUES ($1, 'newsletter_topics', '["offers"]')`,
    [rows[0]!.id],
  );
  return { id: String(rows[0]!.id), email: row.email as string };
}

/** The stored row as PostgreSQL has it (store_credit as its exact text). */
export async function customerRow(server: TestServer, id: string | number): Promise<Record<string, unknown> | undefined> {
  const { rows } = await server.database.sql.query(
    'SELECT *, store_credit::text AS store_credit FROM customers WHERE id = $1',
    [Number(id)],
  );
  return rows[0];
}

export async function historyRows(server: TestServer, id: string | number) {
  const { rows } = await server.database.sql.query<{ version: number; actor: string; at: Date; changes: Array<{ field: string; from: unknown; to: unknown }> }>(
    'SELECT version, actor, at, changes FROM customer_changes WHERE customer_id = $1 ORDER BY version',
    [Number(id)],
  );
  return rows;
}

/** Everything a write could touch, to show that a refused request touched nothing. */
export async function databaseSnapshot(server: TestServer) {
  const customers = await server.database.sql.query('SELECT *, store_credit::text AS store_credit FROM customers ORDER BY id');
  const changes = await server.database.sql.query('SELECT * FROM customer_changes ORDER BY id');
  return { customers: customers.rows, changes: changes.rows };
}

export const CUSTOMER_FIELDS = /* GraphQL */ `
  id firstName lastName email company phone notes storeCredit registrationIpAddress customerGroupId
  taxExemptCategory resetPassOnLogin acceptsProductReviewAbandonedCartEmails formFields { name value }
  dateCreated dateModified version
`;

const ERROR_FIELDS = /* GraphQL */ `
  __typename
  ... on Error { code path message }
`;

export const UPDATE_CUSTOMER = /* GraphQL */ `
  mutation UpdateCustomer($id: ID!, $input: UpdateCustomerInput!, $expectedVersion: Int) {
    updateCustomer(id: $id, input: $input, expectedVersion: $expectedVersion) {
      customer { ${CUSTOMER_FIELDS} }
      errors { ${ERROR_FIELDS} ... on VersionConflictError { currentVersion } }
    }
  }
`;

export const CREATE_CUSTOMER = /* GraphQL */ `
  mutation CreateCustomer($input: CreateCustomerInput!) {
    createCustomer(input: $input) {
      customer { ${CUSTOMER_FIELDS} }
      errors { ${ERROR_FIELDS} }
    }
  }
`;

export interface ErrorResult {
  __typename: string;
  code: string;
  path: string[];
  message: string;
  currentVersion?: number;
}

export interface CustomerPayload {
  customer: Record<string, any> | null;
  errors: ErrorResult[];
}

/** Runs updateCustomer and returns its payload; fails the test on a top-level GraphQL error. */
export async function updateCustomer(
  server: TestServer,
  id: string,
  input: Record<string, unknown>,
  options: { expectedVersion?: number; token?: string } = {},
): Promise<CustomerPayload> {
  const response = await server.graphql<{ updateCustomer: CustomerPayload }>(
    UPDATE_CUSTOMER,
    { id, input, expectedVersion: options.expectedVersion },
    options.token ? { token: options.token } : {},
  );
  if (response.body.errors) throw new Error(`updateCustomer failed: ${response.text}`);
  return response.body.data!.updateCustomer;
}

export async function createCustomer(server: TestServer, input: Record<string, unknown>): Promise<CustomerPayload> {
  const response = await server.graphql<{ createCustomer: CustomerPayload }>(CREATE_CUSTOMER, { input });
  if (response.body.errors) throw new Error(`createCustomer failed: ${response.text}`);
  return response.body.data!.createCustomer;
}

/** The errors as (code, path) pairs, the part clients rely on. */
export function codesAndPaths(payload: CustomerPayload): Array<[string, string]> {
  return payload.errors.map((error) => [error.code, error.path.join('.')]);
}

const KEYED_ERRORS = `${ERROR_FIELDS} ... on VersionConflictError { currentVersion }`;

/** The three writes with an idempotency key, as the idempotency tests send them. */
export const KEYED = {
  update: /* GraphQL */ `
    mutation ($id: ID!, $input: UpdateCustomerInput!, $expectedVersion: Int, $key: String) {
      updateCustomer(id: $id, input: $input, expectedVersion: $expectedVersion, idempotencyKey: $key) {
        customer { ${CUSTOMER_FIELDS} }
        errors { ${KEYED_ERRORS} }
      }
    }
  `,
  create: /* GraphQL */ `
    mutation ($input: CreateCustomerInput!, $key: String) {
      createCustomer(input: $input, idempotencyKey: $key) {
        customer { ${CUSTOMER_FIELDS} }
        errors { ${ERROR_FIELDS} }
      }
    }
  `,
  batch: /* GraphQL */ `
    mutation ($items: [UpdateCustomersItem!]!, $key: String) {
      updateCustomers(items: $items, idempotencyKey: $key) {
        customers { ${CUSTOMER_FIELDS} }
        errors { ${KEYED_ERRORS} }
      }
    }
  `,
};

/** What a reused idempotency key answers. */
export const KEY_REUSED = [
  { __typename: 'IdempotencyKeyReusedError', code: 'IDEMPOTENCY_KEY_REUSED', path: ['idempotencyKey'], message: expect.any(String) },
];
