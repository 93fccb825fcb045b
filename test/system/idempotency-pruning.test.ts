/** The gateway process prunes idempotency keys past their 24 hours when it starts (API.md, "Update semantics"). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertCustomer } from '../support/customers.ts';
import { startGateway, stopGateways } from '../support/processes.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitFor } from '../support/wait-for.ts';

const UPDATE = /* GraphQL */ `
  mutation ($id: ID!, $notes: String, $key: String) {
    updateCustomer(id: $id, input: { notes: $notes }, idempotencyKey: $key) { customer { version } errors { __typename } }
  }
`;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await stopGateways();
  await server.close();
});

async function keyExists(key: string): Promise<boolean> {
  const { rowCount } = await server.database.sql.query('SELECT 1 FROM idempotency_keys WHERE key = $1', [key]);
  return rowCount === 1;
}

describe('the server process', () => {
  it('prunes expired keys when it starts, and says so in its log', async () => {
    const { id } = await insertCustomer(server);
    const suffix = Math.random().toString(36).slice(2, 8);
    const [expired, kept] = [`expired-${suffix}`, `kept-${suffix}`];
    for (const key of [expired, kept]) {
      const response = await server.graphql(UPDATE, { id, notes: key, key });
      expect(response.body.data?.updateCustomer.errors, response.text).toEqual([]);
    }
    await server.database.sql.query(`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1`, [expired]);

    const gateway = await startGateway({ databaseUrl: server.database.url, env: { LOG_LEVEL: 'info' } });
    await waitFor(async () => !(await keyExists(expired)), { what: 'the expired key to be pruned' });
    expect(await keyExists(kept)).toBe(true);
    await waitFor(() => /pruned expired idempotency keys/.test(gateway.output()), { what: 'the pruning log line' });
    await gateway.stop();
  });
});
