import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoCustomers } from '../../src/domain/demo-customers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
  await seedDemoCustomers(server.database.db);
});
afterAll(() => server.close());

const CUSTOMER = /* GraphQL */ `
  query ($id: ID!) {
    customer(id: $id) { id firstName lastName email storeCredit customerGroupId version formFields { name value } }
  }
`;

describe('customer(id)', () => {
  it('returns a customer read from PostgreSQL', async () => {
    const { rows } = await server.database.sql.query('SELECT id FROM customers WHERE email = $1', ['jane.doe@example.com']);
    const id = String(rows[0].id);
    const response = await server.graphql(CUSTOMER, { id });
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data!.customer).toEqual({
      id,
      firstName: 'Jane',
      lastName: 'Doe',
      email: 'jane.doe@example.com',
      storeCredit: '25.5000',
      customerGroupId: 1,
      version: 1,
      formFields: [{ name: 'newsletter_topics', value: ['offers', 'news'] }],
    });
  });

  it('returns null for an id no customer has', async () => {
    for (const id of ['999999', '0', '-1', 'abc', '99999999999999']) {
      const response = await server.graphql(CUSTOMER, { id });
      expect(response.body).toEqual({ data: { customer: null } });
    }
  });
});

describe('health endpoints', () => {
  it('/healthz answers while the process is alive and /readyz while the database answers', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
  });
});
