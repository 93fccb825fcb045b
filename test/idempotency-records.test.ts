/**
 * Idempotency records against abuse (issue 11, findings 5 and 6), over HTTP and real PostgreSQL:
 * how many new keys a token may use in a day, what a record keeps (ids and versions, not
 * customers), replays rebuilt from rows and history yet identical to the first response, and old
 * password hashes forgotten when the password changes again.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../src/domain/tokens.ts';
import { CUSTOMER_FIELDS, databaseSnapshot, insertCustomer, uniqueEmail } from './support/customers.ts';
import { startTestServer, type GraphQLResponse, type TestServer } from './support/server.ts';

const ERRORS = '__typename ... on Error { code path message }';

const UPDATE = /* GraphQL */ `
  mutation ($id: ID!, $input: UpdateCustomerInput!, $expectedVersion: Int, $key: String) {
    updateCustomer(id: $id, input: $input, expectedVersion: $expectedVersion, idempotencyKey: $key) {
      customer { ${CUSTOMER_FIELDS} }
      errors { ${ERRORS} }
    }
  }
`;

const CREATE = /* GraphQL */ `
  mutation ($input: CreateCustomerInput!, $key: String) {
    createCustomer(input: $input, idempotencyKey: $key) {
      customer { ${CUSTOMER_FIELDS} }
      errors { ${ERRORS} }
    }
  }
`;

const BATCH = /* GraphQL */ `
  mutation ($items: [UpdateCustomersItem!]!, $key: String) {
    updateCustomers(items: $items, idempotencyKey: $key) {
      customers { ${CUSTOMER_FIELDS} }
      errors { ${ERRORS} }
    }
  }
`;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

function newKey(): string {
  return `key-${randomBytes(6).toString('hex')}`;
}

/** Sends one operation and fails the test on anything but a 200 with data. */
async function send(query: string, variables: Record<string, unknown>, options: { token?: string; on?: TestServer } = {}): Promise<GraphQLResponse> {
  const response = await (options.on ?? server).graphql(query, variables, options.token ? { token: options.token } : {});
  if (response.status !== 200 || response.body.errors) throw new Error(`${response.status}: ${response.text}`);
  return response;
}

function payloadOf(response: GraphQLResponse): { customer?: any; customers?: any; errors: any[] } {
  return Object.values(response.body.data!)[0];
}

interface RecordRow {
  key: string;
  response: { customers: Array<Record<string, unknown>> };
  response_bytes: number;
  row_bytes: number;
  password_hashes: Record<string, string> | null;
}

async function recordFor(key: string, on = server): Promise<RecordRow | undefined> {
  const { rows } = await on.database.sql.query<RecordRow>(
    `SELECT key, response, octet_length(response::text) AS response_bytes, pg_column_size(k.*) AS row_bytes,
            password_hashes
       FROM idempotency_keys k WHERE key = $1`,
    [key],
  );
  return rows[0];
}

describe('a token may use IDEMPOTENCY_KEYS_PER_TOKEN_PER_DAY new keys in 24 hours', () => {
  let capped: TestServer;
  beforeAll(async () => {
    capped = await startTestServer({ database: server.database, idempotencyKeysPerTokenPerDay: 3 });
  });
  afterAll(() => capped.close());

  it('past the cap a new key is 429 RATE_LIMITED with Retry-After, and nothing is written; retries, unkeyed writes and other tokens go on', async () => {
    const { id } = await insertCustomer(server);
    const keys = [newKey(), newKey(), newKey()];
    const firsts = [];
    for (const [index, key] of keys.entries()) firsts.push(await send(UPDATE, { id, input: { notes: `keyed ${index}` }, key }, { on: capped }));

    const before = await databaseSnapshot(server);
    const fourth = newKey();
    for (const variables of [{ id, input: { notes: 'one too many' }, key: fourth }, { id, input: { firstName: ' ' }, key: fourth }]) {
      const refused = await capped.graphql(UPDATE, variables);
      expect(refused.status).toBe(429);
      expect(refused.body).toMatchObject({ data: null, errors: [{ message: expect.stringMatching(/3 new idempotency keys in the last 24 hours/), extensions: { code: 'RATE_LIMITED' } }] });
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(24 * 60 * 60);
    }
    const email = uniqueEmail('capped');
    expect((await capped.graphql(CREATE, { input: { firstName: 'No', lastName: 'Key', email }, key: fourth })).status).toBe(429);
    expect((await capped.graphql(BATCH, { items: [{ id, input: { notes: 'batch' } }], key: fourth })).status).toBe(429);
    expect(await databaseSnapshot(server)).toEqual(before);
    expect(await recordFor(fourth)).toBeUndefined();

    // A retry is no new key; a write without a key needs none; another token has its own 3.
    expect((await send(UPDATE, { id, input: { notes: 'keyed 0' }, key: keys[0] }, { on: capped })).text).toBe(firsts[0]!.text);
    expect(payloadOf(await send(UPDATE, { id, input: { notes: 'unkeyed' } }, { on: capped })).errors).toEqual([]);
    const other = (await createToken(server.database.db, `capped-${newKey()}`, ['customers:write'])).secret;
    expect(payloadOf(await send(UPDATE, { id, input: { notes: 'other token' }, key: fourth }, { on: capped, token: other })).errors).toEqual([]);

    // Keys older than 24 hours no longer count.
    await server.database.sql.query(`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = $1`, [keys[0]]);
    expect(payloadOf(await send(UPDATE, { id, input: { notes: 'a day later' }, key: fourth }, { on: capped })).errors).toEqual([]);
  });
});
