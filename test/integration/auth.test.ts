/** API.md "Authentication and authorization": tokens, scopes, 401 and 403. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createToken, LAST_USED_PRECISION_MS, revokeToken } from '../../src/domain/tokens.ts';
import { seedDemoCustomers } from '../../src/domain/demo-customers.ts';
import { createTestDatabase } from '../support/database.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitFor } from '../support/wait-for.ts';

let server: TestServer;
let customerId: string;
beforeAll(async () => {
  server = await startTestServer();
  await seedDemoCustomers(server.database.db);
  const { rows } = await server.database.sql.query('SELECT id FROM customers ORDER BY id LIMIT 1');
  customerId = String(rows[0].id);
});
afterAll(() => server.close());

const CUSTOMER = 'query Customer($id: ID!) { customer(id: $id) { id email } }';
const UPDATE = /* GraphQL */ `
  mutation Update($id: ID!, $input: UpdateCustomerInput!) {
    updateCustomer(id: $id, input: $input) { customer { id company } errors { __typename } }
  }
`;

describe('a request without a token', () => {
  it('gets customer data refused with 401 and UNAUTHENTICATED as a top-level error', async () => {
    const response = await server.graphql(CUSTOMER, { id: customerId }, { token: null });
    expect(response.status).toBe(401);
    expect(response.body.data?.customer ?? null).toBeNull();
    expect(response.body.errors).toHaveLength(1);
    expect(response.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    // no token, nothing to count: rate-limit headers are for authenticated responses
    expect(response.headers.get('x-rate-limit-requests-quota')).toBeNull();
  });

  it('may introspect and ask for __typename', async () => {
    const response = await server.graphql('{ __typename __schema { queryType { name } } }', undefined, { token: null });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ data: { __typename: 'Query', __schema: { queryType: { name: 'Query' } } } });
  });
});

describe('a bad token', () => {
  it('is refused with 401 even where no token is needed', async () => {
    for (const token of ['cgw_not-a-token', 'nonsense', `${server.tokens.read}x`]) {
      const response = await server.graphql('{ __typename }', undefined, { token });
      expect(response.status, token).toBe(401);
      expect(response.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    }
  });

  it('includes a revoked token: it works until revoked, then is refused', async () => {
    const { secret, record } = await createToken(server.database.db, 'soon-revoked', ['customers:read']);
    expect((await server.graphql(CUSTOMER, { id: customerId }, { token: secret })).status).toBe(200);
    expect(await revokeToken(server.database.db, String(record.id))).toBe(true);
    // The server had the token in memory; it drops it when the database announces the change,
    // milliseconds after the revocation commits (see test/integration/token-cache.test.ts).
    await waitFor(async () => (await server.graphql(CUSTOMER, { id: customerId }, { token: secret })).status === 401, { what: 'the revocation to reach the server' });
    const response = await server.graphql(CUSTOMER, { id: customerId }, { token: secret });
    expect(response.status).toBe(401);
    expect(response.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });
});

describe('presenting a token', () => {
  it('works as X-Auth-Token and as Authorization: Bearer', async () => {
    const asHeader = await server.graphql(CUSTOMER, { id: customerId }, { token: server.tokens.read });
    const asBearer = await server.graphql(CUSTOMER, { id: customerId }, {
      token: null,
      headers: { authorization: `Bearer ${server.tokens.read}` },
    });
    for (const response of [asHeader, asBearer]) {
      expect(response.status).toBe(200);
      expect(response.body.data!.customer.id).toBe(customerId);
    }
  });

  it('records when a token was last used, at most once a minute', async () => {
    // A server with one database connection runs its statements in the order it sends them: a
    // request's write of lastUsedAt, if it makes one, is done before that request's read answers.
    const database = await createTestDatabase({ poolSize: 1 });
    const single = await startTestServer({ database });
    try {
      const { secret, record } = await createToken(database.db, 'last-used', ['customers:read']);
      const lastUsed = async () =>
        (await database.sql.query('SELECT last_used_at FROM api_tokens WHERE id = $1', [record.id])).rows[0].last_used_at as Date | null;
      const read = () => single.graphql(CUSTOMER, { id: '1' }, { token: secret });
      expect(await lastUsed()).toBeNull();
      expect((await read()).status).toBe(200);
      const first = await lastUsed();
      expect(first).not.toBeNull();
      for (let i = 0; i < 5; i++) expect((await read()).status).toBe(200);
      expect(await lastUsed()).toEqual(first);
      // a minute later (the server remembers its own last write, even for a cached token), the
      // next request writes it again
      const old = new Date(Date.now() - LAST_USED_PRECISION_MS - 1_000);
      await database.sql.query('UPDATE api_tokens SET last_used_at = $2 WHERE id = $1', [record.id, old]);
      vi.useFakeTimers({ toFake: ['Date'] });
      try {
        vi.setSystemTime(Date.now() + LAST_USED_PRECISION_MS + 1_000);
        expect((await read()).status).toBe(200);
      } finally {
        vi.useRealTimers();
      }
      expect((await lastUsed())!.getTime()).toBeGreaterThan(old.getTime());
    } finally {
      await single.close();
      await database.close();
    }
  });
});

describe('scopes', () => {
  it('a customers:read token reads but cannot mutate: 403 FORBIDDEN, nothing written', async () => {
    const read = await server.graphql(CUSTOMER, { id: customerId }, { token: server.tokens.read });
    expect(read.status).toBe(200);
    const response = await server.graphql(UPDATE, { id: customerId, input: { company: 'Read Only Ltd' } }, { token: server.tokens.read });
    expect(response.status).toBe(403);
    expect(response.body.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    const { rows } = await server.database.sql.query('SELECT company FROM customers WHERE id = $1', [customerId]);
    expect(rows[0].company).not.toBe('Read Only Ltd');
  });

  it('a customers:write token mutates, and reads too (write implies read)', async () => {
    const response = await server.graphql(UPDATE, { id: customerId, input: { company: 'Writer Ltd' } }, { token: server.tokens.write });
    expect(response.status).toBe(200);
    expect(response.body.data!.updateCustomer).toEqual({ customer: { id: customerId, company: 'Writer Ltd' }, errors: [] });
    expect((await server.graphql(CUSTOMER, { id: customerId }, { token: server.tokens.write })).status).toBe(200);
  });

  it('without a token a mutation is 401, not 403', async () => {
    const response = await server.graphql(UPDATE, { id: customerId, input: { company: 'Nobody' } }, { token: null });
    expect(response.status).toBe(401);
    expect(response.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });
});
