/**
 * Two gateway processes on one database, requests alternating between them: concurrent writes
 * to one customer all land exactly once and in order, a race for one email has one winner, and
 * identical idempotent retries write once. Real processes, real HTTP, real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/domain/tokens.ts';
import { doubledValues, historyProblems } from '../support/consistency.ts';
import { seedCustomerWithHistory } from '../support/customers.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startGateway, stopGateways, type GatewayProcess, type HttpResult } from '../support/processes.ts';

let database: TestDatabase;
let gateways: GatewayProcess[];
let token: string;

beforeAll(async () => {
  database = await createTestDatabase({ poolSize: 2 });
  token = (await createToken(database.db, 'concurrency', ['customers:write'])).secret;
  gateways = await Promise.all([0, 1].map(() => startGateway({ ...database.connection, token })));
});

afterAll(async () => {
  await stopGateways();
  await database?.close();
});

const seedCustomer = (label: string) => seedCustomerWithHistory(database.sql, 'Race', label);

/** Request n goes to gateway n mod 2. */
function via(n: number): GatewayProcess {
  return gateways[n % gateways.length]!;
}

const READ = /* GraphQL */ `query Read($id: ID!) { customer(id: $id) { version } }`;
const UPDATE = /* GraphQL */ `
  mutation Update($id: ID!, $notes: String, $expectedVersion: Int) {
    updateCustomer(id: $id, input: { notes: $notes }, expectedVersion: $expectedVersion) {
      customer { id version notes }
      errors { __typename ... on Error { code path } ... on VersionConflictError { currentVersion } }
    }
  }
`;

function expectAnswered(result: HttpResult): void {
  expect(result.failure, 'every request gets an answer').toBeUndefined();
  expect(result.status, result.text).toBe(200);
  expect(result.body?.errors, result.text).toBeUndefined();
}

describe('50 clients updating one customer with expectedVersion, through two gateways', () => {
  it('all land: version 51, and the history holds each client\'s change exactly once, versions 2..51 in order', async () => {
    const id = String(await seedCustomer('versions'));
    const clients = 50;
    let requests = 0;
    let conflicts = 0;
    const started = performance.now();
    // Each client: read the version, send its change with it, and on VERSION_CONFLICT read again.
    const landed = await Promise.all(
      Array.from({ length: clients }, async (_, client) => {
        const notes = `client-${client}`;
        for (let attempt = 0; attempt < 500; attempt++) {
          const read = await via(requests++).graphql(READ, { id });
          expectAnswered(read);
          const expectedVersion: number = read.body.data.customer.version;
          const result = await via(requests++).graphql(UPDATE, { id, notes, expectedVersion });
          expectAnswered(result);
          const payload = result.body.data.updateCustomer;
          if (payload.errors.length === 0) {
            expect(payload.customer).toMatchObject({ notes, version: expectedVersion + 1 });
            return { notes, version: payload.customer.version as number, attempts: attempt + 1 };
          }
          expect(payload.errors, result.text).toEqual([
            { __typename: 'VersionConflictError', code: 'VERSION_CONFLICT', path: ['expectedVersion'], currentVersion: expect.any(Number) },
          ]);
          conflicts++;
          // Backing off with jitter, as a well-behaved client does, so that retries spread out
          // instead of queueing on the row lock in lockstep.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(400, 25 * 2 ** attempt)));
        }
        throw new Error(`client ${client} never got its change in`);
      }),
    );
    const ms = performance.now() - started;

    const { rows: [customer] } = await database.sql.query('SELECT version, notes FROM customers WHERE id = $1', [Number(id)]);
    const { rows: history } = await database.sql.query<{ version: number; changes: Array<{ field: string; from: unknown; to: unknown }> }>(
      'SELECT version, changes FROM customer_changes WHERE customer_id = $1 AND version > 1 ORDER BY version',
      [Number(id)],
    );
    const lost = landed.filter((write) => !history.some((row) => row.version === write.version && row.changes[0]?.to === write.notes));
    console.log(
      `[concurrency] expectedVersion: ${clients} clients, ${requests} requests over 2 gateways, ${conflicts} conflicts retried, ` +
        `${landed.length} writes acknowledged, ${history.length} recorded, lost ${lost.length} (${Math.round(ms)} ms)`,
    );

    expect(customer).toMatchObject({ version: clients + 1 });
    expect(history.map((row) => row.version)).toEqual(Array.from({ length: clients }, (_, index) => index + 2));
    // Each change starts from the value the one before it left: none was lost in between.
    let previous: unknown = 'initial';
    for (const row of history) {
      expect(row.changes).toEqual([{ field: 'notes', from: previous, to: expect.any(String) }]);
      previous = row.changes[0]!.to;
    }
    expect(customer!.notes).toBe(previous);
    expect(history.map((row) => row.changes[0]!.to).sort()).toEqual(landed.map((write) => write.notes).sort());
    expect(new Set(landed.map((write) => write.version)).size).toBe(clients);
    expect(lost).toEqual([]);
    expect(await doubledValues(database.sql, 'notes')).toEqual([]);
    expect(await historyProblems(database.sql)).toEqual([]);

    // The API's history says the same, newest first, through either gateway.
    const HISTORY = /* GraphQL */ `
      query History($id: ID!) { customer(id: $id) { history(first: 50) { edges { node { version actor changes { field from to } } } } } }
    `;
    for (const gateway of gateways) {
      const response = await gateway.graphql(HISTORY, { id });
      expectAnswered(response);
      const nodes = response.body.data.customer.history.edges.map((edge: { node: unknown }) => edge.node);
      expect(nodes).toEqual(
        [...history].reverse().map((row) => ({ version: row.version, actor: 'concurrency', changes: row.changes })),
      );
    }
  }, 45_000);
});

describe('20 clients creating a customer with one email in different cases, through two gateways', () => {
  it('ends with exactly one customer and 19 TAKEN, never a 500', async () => {
    const base = `race.${Date.now()}.${Math.random().toString(36).slice(2, 8)}@example.com`;
    const variants = Array.from({ length: 20 }, (_, n) =>
      [...base].map((c, i) => ((n >> i % 5) & 1 ? c.toUpperCase() : c)).join(''),
    );
    expect(new Set(variants).size).toBeGreaterThan(10);
    const CREATE = /* GraphQL */ `
      mutation Create($input: CreateCustomerInput!) {
        createCustomer(input: $input) { customer { id email } errors { __typename ... on Error { code path } } }
      }
    `;
    const results = await Promise.all(
      variants.map((email, n) => via(n).graphql(CREATE, { input: { firstName: 'Race', lastName: `Client ${n}`, email } })),
    );
    for (const result of results) expectAnswered(result);
    const payloads = results.map((result) => result.body.data.createCustomer);
    const created = payloads.filter((payload) => payload.customer !== null);
    const taken = payloads.filter((payload) =>
      payload.customer === null &&
      JSON.stringify(payload.errors) === JSON.stringify([{ __typename: 'EmailAlreadyInUseError', code: 'TAKEN', path: ['input', 'email'] }]),
    );
    const { rows } = await database.sql.query<{ id: number }>('SELECT id FROM customers WHERE email = $1', [base]);
    console.log(
      `[concurrency] email race: ${results.length} creates over 2 gateways, ${created.length} created, ${taken.length} TAKEN, ` +
        `${results.filter((r) => r.status >= 500).length} 5xx, ${rows.length} stored`,
    );
    expect(created).toHaveLength(1);
    expect(taken).toHaveLength(19);
    // citext: the lookup ignores case, so this is every customer with the address in any case.
    expect(rows).toEqual([{ id: Number(created[0]!.customer.id) }]);
    const { rows: history } = await database.sql.query('SELECT version FROM customer_changes WHERE customer_id = $1', [rows[0]!.id]);
    expect(history).toEqual([{ version: 1 }]);
  });
});

describe('20 identical requests with one idempotencyKey, at once, through two gateways', () => {
  it('write once, and all 20 get the same response', async () => {
    const id = String(await seedCustomer('idempotent'));
    const key = `same-${Date.now()}`;
    const IDEMPOTENT = /* GraphQL */ `
      mutation Idempotent($id: ID!, $notes: String, $key: String) {
        updateCustomer(id: $id, input: { notes: $notes }, idempotencyKey: $key) {
          customer { id version notes dateModified }
          errors { __typename ... on Error { code path } }
        }
      }
    `;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, n) => via(n).graphql(IDEMPOTENT, { id, notes: 'written once', key })),
    );
    for (const result of results) expectAnswered(result);
    const { rows: [customer] } = await database.sql.query('SELECT version, notes FROM customers WHERE id = $1', [Number(id)]);
    const { rows: history } = await database.sql.query('SELECT version FROM customer_changes WHERE customer_id = $1 ORDER BY version', [Number(id)]);
    const distinct = new Set(results.map((result) => JSON.stringify(result.body)));
    console.log(
      `[concurrency] idempotency: ${results.length} identical requests over 2 gateways, ${distinct.size} distinct responses, ` +
        `${history.length - 1} writes recorded`,
    );
    expect(results[0]!.body.data.updateCustomer).toMatchObject({ customer: { id, version: 2, notes: 'written once' }, errors: [] });
    expect(distinct.size).toBe(1);
    expect(customer).toEqual({ version: 2, notes: 'written once' });
    expect(history).toEqual([{ version: 1 }, { version: 2 }]);
    const { rows: records } = await database.sql.query('SELECT operation FROM idempotency_keys WHERE key = $1', [key]);
    expect(records).toEqual([{ operation: 'updateCustomer' }]);
  });
});
