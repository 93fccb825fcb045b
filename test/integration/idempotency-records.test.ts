/**
 * Idempotency records against abuse (issue 11, findings 5 and 6), over HTTP and real PostgreSQL:
 * how many new keys a token may use in a day, what a record keeps (ids and versions, not
 * customers), replays rebuilt from rows and history yet identical to the first response, and old
 * password hashes forgotten when the password changes again.
 */
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { verify } from '@node-rs/argon2';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fingerprint } from '../../src/domain/idempotency.ts';
import { hashPassword } from '../../src/domain/passwords.ts';
import { createToken } from '../../src/domain/tokens.ts';
import { applyMigrations, MIGRATIONS_DIR } from '../../src/infra/database/migrate.ts';
import { createDatabase } from '../../src/infra/database/prisma.ts';
import { customerRow, databaseSnapshot, insertCustomer, uniqueEmail, KEY_REUSED, KEYED } from '../support/customers.ts';
import { databaseUrl } from '../support/database.ts';
import { startTestServer, type GraphQLResponse, type TestServer } from '../support/server.ts';

const { update: UPDATE, create: CREATE, batch: BATCH } = KEYED;

const PASSWORD = 'Quiet-Lantern-4812';
const LATER_PASSWORD = 'Other-Lantern-7305';
const REUSED = KEY_REUSED;

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
  password_customer_ids: number[];
}

async function recordFor(key: string, on = server): Promise<RecordRow | undefined> {
  const { rows } = await on.database.sql.query<RecordRow>(
    `SELECT key, response, octet_length(response::text) AS response_bytes, pg_column_size(k.*) AS row_bytes,
            password_hashes, password_customer_ids
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

describe('a record keeps each customer\'s id, version and dateModified, not the customer', () => {
  it('a no-op batch of 10 customers with 65,535-character notes stores a few hundred bytes', async () => {
    const customers = await Promise.all(Array.from({ length: 10 }, () => insertCustomer(server, { notes: 'n'.repeat(65_535) })));
    const key = newKey();
    // An empty input changes nothing: the cheapest request that stored every customer in full.
    const variables = { items: customers.map(({ id }) => ({ id, input: {} })), key };
    const first = await send(BATCH, variables);
    expect(payloadOf(first).customers.map((customer: any) => customer.version)).toEqual(Array(10).fill(1));
    const record = (await recordFor(key))!;
    console.info(`[idempotency] no-op batch of 10 customers with 65,535-character notes: response ${record.response_bytes} bytes, record ${record.row_bytes} bytes`);
    expect(record.response_bytes).toBeLessThan(1_000);
    expect(record.response.customers.map((customer) => Object.keys(customer).sort())).toEqual(Array(10).fill(['dateModified', 'id', 'version']));
    expect(record.response.customers.map((customer) => customer.id)).toEqual(customers.map(({ id }) => Number(id)));
    expect((await send(BATCH, variables)).text).toBe(first.text);
  });
});

describe('a replay is the first response exactly, though the customers changed since', () => {
  it('updateCustomer, after later writes to every kind of field: each replay equals the first response', async () => {
    const { id, email } = await insertCustomer(server);
    const key = newKey();
    const variables = { id, input: { firstName: 'Keyed', storeCredit: '10.5', company: 'Initech', notes: null }, key };
    const first = await send(UPDATE, variables);
    expect(payloadOf(first).customer).toMatchObject({ firstName: 'Keyed', storeCredit: '10.5000', company: 'Initech', notes: null, version: 2 });
    const later = [
      { storeCredit: '99.9999' },
      { email: email.toUpperCase() },
      { company: null, phone: null, registrationIpAddress: null, customerGroupId: null, taxExemptCategory: null },
      { notes: 'written later', company: 'Globex', customerGroupId: 7 },
      { resetPassOnLogin: true },
      { authentication: { password: LATER_PASSWORD } },
      { firstName: 'Moved', lastName: 'On', email: uniqueEmail('later'), registrationIpAddress: '2001:db8::1' },
      { storeCredit: 0 },
    ];
    for (const input of later) {
      expect(payloadOf(await send(UPDATE, { id, input })).errors).toEqual([]);
      expect((await send(UPDATE, variables)).text).toBe(first.text);
    }
    expect((await customerRow(server, id))!.version).toBe(2 + later.length);
  });

  it('an update that changed nothing, of a customer with no history at all, after later writes', async () => {
    const { id } = await insertCustomer(server, { first_name: 'Same' });
    const key = newKey();
    const variables = { id, input: { firstName: 'Same' }, key };
    const first = await send(UPDATE, variables);
    expect(payloadOf(first).customer.version).toBe(1);
    await send(UPDATE, { id, input: { firstName: 'Changed', storeCredit: '1.25', company: null } });
    await send(UPDATE, { id, input: { resetPassOnLogin: true } });
    expect((await send(UPDATE, variables)).text).toBe(first.text);
  });

  it('createCustomer: the retry shows the customer as created', async () => {
    const key = newKey();
    const email = `Mixed.Case.${randomBytes(3).toString('hex')}@Example.com`;
    const variables = { input: { firstName: 'Made', lastName: 'Once', email, storeCredit: 3, authentication: { password: PASSWORD, forceReset: true } }, key };
    const first = await send(CREATE, variables);
    const { id } = payloadOf(first).customer;
    expect(payloadOf(first).customer).toMatchObject({ email, storeCredit: '3.0000', company: null, resetPassOnLogin: true, version: 1 });
    for (const input of [{ email: email.toLowerCase() }, { company: 'Set later', storeCredit: '8.125' }, { resetPassOnLogin: false }, { company: null, phone: '555' }]) {
      expect(payloadOf(await send(UPDATE, { id, input })).errors).toEqual([]);
    }
    expect((await send(CREATE, variables)).text).toBe(first.text);
  });

  it('updateCustomers: every customer at its own version, an unchanged one included', async () => {
    const [one, two, three] = await Promise.all([insertCustomer(server), insertCustomer(server), insertCustomer(server, { notes: 'kept' })]);
    const key = newKey();
    const variables = {
      items: [
        { id: one!.id, input: { email: two!.email, storeCredit: '2' } },
        { id: two!.id, input: { email: one!.email, company: null } },
        { id: three!.id, input: { notes: 'kept' } },
      ],
      key,
    };
    const first = await send(BATCH, variables);
    expect(payloadOf(first).customers.map((customer: any) => customer.version)).toEqual([2, 2, 1]);
    await send(BATCH, { items: [{ id: one!.id, input: { email: one!.email.toUpperCase() } }, { id: three!.id, input: { notes: null } }] });
    await send(UPDATE, { id: two!.id, input: { company: 'Back', resetPassOnLogin: true, storeCredit: '0.0001' } });
    await send(UPDATE, { id: one!.id, input: { authentication: { password: LATER_PASSWORD } } });
    expect((await send(BATCH, variables)).text).toBe(first.text);
  });
});

describe('a response that cannot be rebuilt is refused, never answered with another customer', () => {
  async function replayUnavailable(query: string, variables: Record<string, unknown>) {
    const before = await databaseSnapshot(server);
    const response = await server.graphql(query, variables);
    expect(response.status).toBe(409);
    expect(response.body.data).toBeNull();
    expect(response.body.errors).toMatchObject([{ message: expect.stringMatching(/can no longer be rebuilt/), extensions: { code: 'IDEMPOTENCY_REPLAY_UNAVAILABLE' } }]);
    expect(await databaseSnapshot(server)).toEqual(before);
  }

  it('the history between the stored version and now is gone: 409 IDEMPOTENCY_REPLAY_UNAVAILABLE, nothing written', async () => {
    const { id } = await insertCustomer(server);
    const key = newKey();
    const variables = { id, input: { company: 'Initech' }, key };
    const first = await send(UPDATE, variables);
    // Unchanged since: no history is needed, and none is read.
    await server.database.sql.query('DELETE FROM customer_changes WHERE customer_id = $1', [Number(id)]);
    expect((await send(UPDATE, variables)).text).toBe(first.text);
    await send(UPDATE, { id, input: { company: 'Globex' } });
    await server.database.sql.query('DELETE FROM customer_changes WHERE customer_id = $1', [Number(id)]);
    await replayUnavailable(UPDATE, variables);
  });

  it('the row was changed outside the API, so history no longer leads back to the stored version', async () => {
    const { id } = await insertCustomer(server);
    const key = newKey();
    const variables = { id, input: { firstName: 'Stored' }, key };
    await send(UPDATE, variables);
    await send(UPDATE, { id, input: { firstName: 'Later' } });
    await server.database.sql.query(`UPDATE customers SET first_name = 'Outside' WHERE id = $1`, [Number(id)]);
    await replayUnavailable(UPDATE, variables);
  });

  it('the customer was deleted', async () => {
    const key = newKey();
    const variables = { input: { firstName: 'Gone', lastName: 'Soon', email: uniqueEmail('gone') }, key };
    const { id } = payloadOf(await send(CREATE, variables)).customer;
    await server.database.sql.query('DELETE FROM customers WHERE id = $1', [Number(id)]);
    await replayUnavailable(CREATE, variables);
  });
});

describe('records written before records kept references are converted by the migration', () => {
  it('an old record (a full snapshot and a password hash) is cut to references and still replays', async () => {
    const name = `${inject('databasePrefix')}old_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: inject('adminUrl') });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = databaseUrl(name);
    const sql = new pg.Pool({ connectionString: url, max: 2 });
    const folder = await mkdtemp(path.join(os.tmpdir(), 'cgw-old-migrations-'));
    try {
      const names = (await readdir(MIGRATIONS_DIR, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
      const converting = names.findIndex((migration) => migration.endsWith('_idempotency_responses_by_reference'));
      for (const migration of names.slice(0, converting)) await cp(path.join(MIGRATIONS_DIR, migration), path.join(folder, migration), { recursive: true });
      await applyMigrations(url, { migrationsDir: folder });

      // What the previous code stored for an updateCustomer that set a password.
      const { rows: [customer] } = await sql.query(
        `INSERT INTO customers (first_name, last_name, email, password_hash, version, store_credit) VALUES ('Old', 'Record', $1, 'x', 2, 12.5)
         RETURNING id, to_json(date_created) AS created, to_json(date_modified) AS modified`,
        [uniqueEmail('old')],
      );
      const { rows: [row] } = await sql.query(`SELECT * FROM customers WHERE id = $1`, [customer.id]);
      const { rows: [token] } = await sql.query(`INSERT INTO api_tokens (name, token_hash, scopes) VALUES ('old', $1, '{customers:write}') RETURNING id`, ['0'.repeat(64)]);
      const args = { id: String(customer.id), input: { authentication: { password: PASSWORD } }, expectedVersion: null };
      const snapshot = {
        id: row.id, firstName: 'Old', lastName: 'Record', email: row.email, company: null, phone: null, notes: null, storeCredit: '12.5000',
        registrationIpAddress: null, customerGroupId: null, taxExemptCategory: null, resetPassOnLogin: false,
        acceptsProductReviewAbandonedCartEmails: false, version: 2, dateCreated: row.date_created.toISOString(), dateModified: row.date_modified.toISOString(),
      };
      await sql.query(
        `INSERT INTO idempotency_keys (token_id, key, operation, request_hash, password_hashes, response) VALUES ($1, 'old-key', 'updateCustomer', $2, $3, $4)`,
        [token.id, fingerprint('updateCustomer', args).requestHash, { 'input.authentication.password': await hashPassword(PASSWORD) }, { customers: [snapshot], errors: [] }],
      );

      await applyMigrations(url);
      const { rows: [converted] } = await sql.query(`SELECT response, password_customer_ids FROM idempotency_keys WHERE key = 'old-key'`);
      expect(converted).toEqual({
        response: { customers: [{ id: row.id, version: 2, dateModified: snapshot.dateModified }] },
        password_customer_ids: [row.id],
      });

      const db = createDatabase({ connectionString: url, poolSize: 2 });
      const old = await startTestServer({ database: { url, name, connection: { databaseUrl: url }, db, sql, close: async () => {} } });
      try {
        const secret = (await createToken(db, 'replayer', ['customers:write'])).secret;
        // The old token's hash is not a real secret's: the record moves to a token that can be sent.
        const { rows: [replayer] } = await sql.query(`SELECT id FROM api_tokens WHERE token_hash = $1`, [createHash('sha256').update(secret).digest('hex')]);
        await sql.query(`UPDATE idempotency_keys SET token_id = $1 WHERE key = 'old-key'`, [replayer.id]);
        const replay = await send(UPDATE, { ...args, key: 'old-key' }, { on: old, token: secret });
        expect(payloadOf(replay)).toEqual({ customer: expect.objectContaining({ ...snapshot, id: String(row.id), formFields: [] }), errors: [] });
      } finally {
        await old.close();
        await db.$disconnect();
      }
    } finally {
      await sql.end().catch(() => {});
      await rm(folder, { recursive: true, force: true });
    }
  });
});

describe('a record forgets its password hashes when one of its customers gets another password', () => {
  it('a later write without a password keeps them; a new password forgets them, and the retry is IDEMPOTENCY_KEY_REUSED', async () => {
    const { id } = await insertCustomer(server);
    const key = newKey();
    const variables = { id, input: { authentication: { password: PASSWORD } }, key };
    const first = await send(UPDATE, variables);
    await send(UPDATE, { id, input: { notes: 'no password here' } });
    expect((await recordFor(key))!.password_hashes!['input.authentication.password']).toMatch(/^\$argon2id\$/);
    expect((await send(UPDATE, variables)).text).toBe(first.text);

    await send(UPDATE, { id, input: { authentication: { password: LATER_PASSWORD } } });
    expect(await recordFor(key)).toMatchObject({ password_hashes: null, password_customer_ids: [] });
    const before = await databaseSnapshot(server);
    const retry = payloadOf(await send(UPDATE, variables));
    expect(retry).toEqual({ customer: null, errors: REUSED });
    expect(retry.errors[0].message).toMatch(/changed again since/);
    expect(await databaseSnapshot(server)).toEqual(before);
    expect(await verify((await customerRow(server, id))!.password_hash as string, LATER_PASSWORD)).toBe(true);
  });

  it('a keyed password change forgets the earlier records and keeps its own, which still replays', async () => {
    const { id } = await insertCustomer(server);
    const earlier = newKey();
    const later = newKey();
    await send(UPDATE, { id, input: { authentication: { password: PASSWORD } }, key: earlier });
    const laterVariables = { id, input: { authentication: { password: LATER_PASSWORD } }, key: later };
    const laterFirst = await send(UPDATE, laterVariables);
    expect(await recordFor(earlier)).toMatchObject({ password_hashes: null });
    expect(await recordFor(later)).toMatchObject({ password_customer_ids: [Number(id)] });
    expect((await send(UPDATE, laterVariables)).text).toBe(laterFirst.text);
    expect(payloadOf(await send(UPDATE, { id, input: { authentication: { password: PASSWORD } }, key: earlier })).errors).toEqual(REUSED);
  });

  it('a batch record is forgotten when any of its customers\' passwords changes; records of other customers are kept', async () => {
    const [one, two, other] = await Promise.all([insertCustomer(server), insertCustomer(server), insertCustomer(server)]);
    const batchKey = newKey();
    const otherKey = newKey();
    const batch = { items: [{ id: one!.id, input: { notes: 'no password' } }, { id: two!.id, input: { authentication: { password: PASSWORD } } }], key: batchKey };
    await send(BATCH, batch);
    expect(await recordFor(batchKey)).toMatchObject({ password_customer_ids: [Number(two!.id)] });
    const otherVariables = { id: other!.id, input: { authentication: { password: PASSWORD } }, key: otherKey };
    const otherFirst = await send(UPDATE, otherVariables);

    // The customer of the batch without a password changes it: the batch's hash is still current.
    await send(UPDATE, { id: one!.id, input: { authentication: { password: LATER_PASSWORD } } });
    expect((await recordFor(batchKey))!.password_hashes).not.toBeNull();
    await send(UPDATE, { id: two!.id, input: { authentication: { password: LATER_PASSWORD } } });
    expect(await recordFor(batchKey)).toMatchObject({ password_hashes: null, password_customer_ids: [] });
    expect(payloadOf(await send(BATCH, batch))).toEqual({ customers: null, errors: REUSED });
    expect((await send(UPDATE, otherVariables)).text).toBe(otherFirst.text);
  });

  it('a refused password change forgets nothing', async () => {
    const { id } = await insertCustomer(server);
    const key = newKey();
    const variables = { id, input: { authentication: { password: PASSWORD } }, key };
    const first = await send(UPDATE, variables);
    const refused = payloadOf(await send(UPDATE, { id, input: { authentication: { password: LATER_PASSWORD } }, expectedVersion: 1 }));
    expect(refused.errors).toMatchObject([{ code: 'VERSION_CONFLICT' }]);
    expect((await recordFor(key))!.password_hashes).not.toBeNull();
    expect((await send(UPDATE, variables)).text).toBe(first.text);
  });
});
