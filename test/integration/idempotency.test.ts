/**
 * idempotencyKey, rule by rule as API.md's "Update semantics" states it, over HTTP and real
 * PostgreSQL. What makes two requests the same, and the key's rules row by row:
 * test/unit/idempotency.test.ts.
 */
import { createHash } from 'node:crypto';
import { verify } from '@node-rs/argon2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  IDEMPOTENCY_KEY_RETENTION_MS,
  pruneIdempotencyKeys,
  startIdempotencyKeyPruning,
} from '../../src/domain/idempotency-pruning.ts';
import { createToken } from '../../src/domain/tokens.ts';
import { customerRow, databaseSnapshot, historyRows, insertCustomer, uniqueEmail, KEY_REUSED, KEYED } from '../support/customers.ts';
import { startTestServer, type GraphQLResponse, type TestServer } from '../support/server.ts';
import { waitFor } from '../support/wait-for.ts';

const { update: UPDATE, create: CREATE, batch: BATCH } = KEYED;

const PASSWORD = 'Quiet-Lantern-4812';
const REUSED = KEY_REUSED;

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

let keys = 0;
function newKey(): string {
  keys += 1;
  return `key-${keys}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Sends one operation and fails the test on anything but a 200 with data. */
async function send(query: string, variables: Record<string, unknown>, token?: string): Promise<GraphQLResponse> {
  const response = await server.graphql(query, variables, token ? { token } : {});
  if (response.status !== 200 || response.body.errors) throw new Error(`${response.status}: ${response.text}`);
  return response;
}

function payloadOf(response: GraphQLResponse): { customer?: any; customers?: any; errors: any[] } {
  return Object.values(response.body.data!)[0];
}

async function records(tokenSecret = server.tokens.write) {
  const { rows } = await server.database.sql.query(
    `SELECT k.key, k.operation, k.request_hash, k.password_hashes, k.response::text AS response
       FROM idempotency_keys k JOIN api_tokens t ON t.id = k.token_id
      WHERE t.token_hash = $1 ORDER BY k.created_at`,
    [createHash('sha256').update(tokenSecret).digest('hex')],
  );
  return rows as Array<{ key: string; operation: string; request_hash: string; password_hashes: Record<string, string> | null; response: string }>;
}

async function recordFor(key: string, tokenSecret?: string) {
  return (await records(tokenSecret)).find((record) => record.key === key);
}

describe('the same key and the same arguments return the stored response without writing again', () => {
  it('updateCustomer: the retry gets the identical response; one write, one history entry', async () => {
    const { id } = await insertCustomer(server);
    const key = newKey();
    const variables = { id, input: { firstName: 'Retried', storeCredit: '10.5' }, key };
    const first = await send(UPDATE, variables);
    expect(payloadOf(first).customer).toMatchObject({ id, firstName: 'Retried', storeCredit: '10.5000', version: 2 });
    const retry = await send(UPDATE, variables);
    expect(retry.text).toBe(first.text);
    expect((await customerRow(server, id))!.version).toBe(2);
    expect(await historyRows(server, id)).toHaveLength(1);
    expect(await recordFor(key)).toMatchObject({ operation: 'updateCustomer', password_hashes: null });
  });

  it('replays the response as it was, even after the customer changed since', async () => {
    const { id } = await insertCustomer(server);
    const key = newKey();
    const variables = { id, input: { company: 'Initech' }, key };
    const first = await send(UPDATE, variables);
    // A later write without a key moves the customer on.
    await send(UPDATE, { id, input: { company: 'Globex' } });
    const retry = await send(UPDATE, variables);
    expect(retry.text).toBe(first.text);
    expect(payloadOf(retry).customer).toMatchObject({ company: 'Initech', version: 2 });
    const row = await customerRow(server, id);
    expect([row!.company, row!.version]).toEqual(['Globex', 3]);
  });

  it('arguments that differ only in key order or in what GraphQL coerces alike are the same request', async () => {
    const { id } = await insertCustomer(server);
    const key = newKey();
    const first = await send(UPDATE, { id, input: { storeCredit: 12.5, phone: '555' }, key });
    // The same amount written another way, fields in another order, expectedVersion null for left out.
    const retry = await send(UPDATE, { id, input: { phone: '555', storeCredit: '12.50' }, expectedVersion: null, key });
    expect(retry.text).toBe(first.text);
    expect((await customerRow(server, id))!.version).toBe(2);
  });

  it('createCustomer: one customer, and the retry names the same one', async () => {
    const key = newKey();
    const email = uniqueEmail('idem');
    const variables = { input: { firstName: 'Once', lastName: 'Only', email }, key };
    const first = await send(CREATE, variables);
    const retry = await send(CREATE, variables);
    expect(retry.text).toBe(first.text);
    const { rows } = await server.database.sql.query('SELECT id, version FROM customers WHERE email = $1', [email]);
    expect(rows).toEqual([{ id: Number(payloadOf(first).customer.id), version: 1 }]);
    expect(await historyRows(server, rows[0].id)).toHaveLength(1);
  });

  it('updateCustomers: the whole batch is replayed, nothing written twice', async () => {
    const one = await insertCustomer(server);
    const two = await insertCustomer(server);
    const key = newKey();
    const variables = { items: [{ id: one.id, input: { notes: 'batch' } }, { id: two.id, input: { notes: 'batch' } }], key };
    const first = await send(BATCH, variables);
    expect(payloadOf(first).customers.map((customer: any) => customer.version)).toEqual([2, 2]);
    const retry = await send(BATCH, variables);
    expect(retry.text).toBe(first.text);
    for (const { id } of [one, two]) {
      expect((await customerRow(server, id))!.version).toBe(2);
      expect(await historyRows(server, id)).toHaveLength(1);
    }
  });

  it('an update that changed nothing is stored too, and replayed', async () => {
    const { id } = await insertCustomer(server, { first_name: 'Same' });
    const key = newKey();
    const first = await send(UPDATE, { id, input: { firstName: 'Same' }, key });
    expect(payloadOf(first).customer.version).toBe(1);
    await send(UPDATE, { id, input: { lastName: 'Moved' } });
    const retry = await send(UPDATE, { id, input: { firstName: 'Same' }, key });
    expect(retry.text).toBe(first.text);
    expect(await recordFor(key)).toBeDefined();
  });

  it('with a password: the retry is recognised by the password itself and hashes nothing new', async () => {
    const { id } = await insertCustomer(server);
    const key = newKey();
    const variables = { id, input: { authentication: { password: PASSWORD, passwordConfirmation: PASSWORD } }, key };
    const first = await send(UPDATE, variables);
    const hashAfterFirst = (await customerRow(server, id))!.password_hash as string;
    const retry = await send(UPDATE, variables);
    expect(retry.text).toBe(first.text);
    expect((await customerRow(server, id))!.password_hash).toBe(hashAfterFirst);
    expect(await historyRows(server, id)).toHaveLength(1);
  });
});

describe('the same key with other arguments is IdempotencyKeyReusedError, and nothing is written', () => {
  async function reuse(first: { query: string; variables: Record<string, unknown> }, second: { query: string; variables: Record<string, unknown> }) {
    await send(first.query, first.variables);
    const before = await databaseSnapshot(server);
    const payload = payloadOf(await send(second.query, second.variables));
    expect(await databaseSnapshot(server)).toEqual(before);
    return payload;
  }

  it('another input', async () => {
    const { id } = await insertCustomer(server);
    const key = newKey();
    const payload = await reuse({ query: UPDATE, variables: { id, input: { firstName: 'A' }, key } }, { query: UPDATE, variables: { id, input: { firstName: 'B' }, key } });
    expect(payload).toEqual({ customer: null, errors: REUSED });
  });

  it('another operation', async () => {
    const { id } = await insertCustomer(server);
    const key = newKey();
    const email = uniqueEmail('other-op');
    const payload = await reuse(
      { query: UPDATE, variables: { id, input: { firstName: 'Op' }, key } },
      { query: CREATE, variables: { input: { firstName: 'Op', lastName: 'Two', email }, key } },
    );
    expect(payload).toEqual({ customer: null, errors: REUSED });
    const batch = payloadOf(await send(BATCH, { items: [{ id, input: { firstName: 'Op' } }], key }));
    expect(batch).toEqual({ customers: null, errors: REUSED });
  });

  it('a different password, or none, or another confirmation', async () => {
    const { id } = await insertCustomer(server);
    const key = newKey();
    const input = (password: string) => ({ authentication: { password, passwordConfirmation: password } });
    await send(UPDATE, { id, input: input(PASSWORD), key });
    const hash = (await customerRow(server, id))!.password_hash as string;
    const before = await databaseSnapshot(server);
    for (const other of [
      input('Other-Lantern-4812'),
      {},
      { authentication: { password: PASSWORD } },
      { authentication: { password: PASSWORD, passwordConfirmation: 'Quiet-Lantern-4813' } },
    ]) {
      const payload = payloadOf(await send(UPDATE, { id, input: other, key }));
      expect(payload.customer).toBeNull();
      expect(payload.errors.filter((error) => error.code === 'IDEMPOTENCY_KEY_REUSED')).toEqual(REUSED);
    }
    expect(await databaseSnapshot(server)).toEqual(before);
    expect(await verify(hash, PASSWORD)).toBe(true);
  });

  it('is reported together with the input\'s own errors, after them', async () => {
    const { id } = await insertCustomer(server);
    const key = newKey();
    await send(UPDATE, { id, input: { firstName: 'First' }, key });
    const payload = payloadOf(await send(UPDATE, { id, input: { firstName: ' ', lastName: 'x'.repeat(101) }, key }));
    expect(payload.errors.map((error) => [error.code, error.path.join('.')])).toEqual([
      ['REQUIRED', 'input.firstName'],
      ['TOO_LONG', 'input.lastName'],
      ['IDEMPOTENCY_KEY_REUSED', 'idempotencyKey'],
    ]);
  });
});

describe('keys are scoped per token', () => {
  it('another token with the same key writes, with other arguments or the same ones', async () => {
    const { id } = await insertCustomer(server);
    const second = (await createToken(server.database.db, `second-${newKey()}`, ['customers:write'])).secret;
    const third = (await createToken(server.database.db, `third-${newKey()}`, ['customers:write'])).secret;
    const key = newKey();
    expect(payloadOf(await send(UPDATE, { id, input: { notes: 'one' }, key }))).toMatchObject({ customer: { version: 2 } });
    // Other arguments under another token: not IDEMPOTENCY_KEY_REUSED, a write.
    expect(payloadOf(await send(UPDATE, { id, input: { notes: 'two' }, key }, second))).toMatchObject({ customer: { notes: 'two', version: 3 }, errors: [] });
    // The first token's very arguments under a third token: not its stored response, a write.
    expect(payloadOf(await send(UPDATE, { id, input: { notes: 'one' }, key }, third))).toMatchObject({ customer: { notes: 'one', version: 4 }, errors: [] });
    for (const token of [server.tokens.write, second, third]) expect(await recordFor(key, token)).toMatchObject({ operation: 'updateCustomer' });
    expect(await historyRows(server, id)).toHaveLength(3);
  });
});

describe('idempotencyKey has 1 to 255 characters', () => {
  it('a bad key is a ValidationError on ["idempotencyKey"] in every operation, with nothing written (each rule: test/unit/idempotency.test.ts)', async () => {
    const { id } = await insertCustomer(server);
    const before = await databaseSnapshot(server);
    const payload = payloadOf(await send(UPDATE, { id, input: { firstName: 'Keyed' }, key: '' }));
    expect(payload).toEqual({ customer: null, errors: [{ __typename: 'ValidationError', code: 'INVALID', path: ['idempotencyKey'], message: expect.any(String) }] });
    const email = uniqueEmail('badkey');
    expect(payloadOf(await send(CREATE, { input: { firstName: 'K', lastName: 'K', email }, key: '' })).errors).toMatchObject([{ code: 'INVALID', path: ['idempotencyKey'] }]);
    expect(payloadOf(await send(BATCH, { items: [{ id, input: {} }], key: 'k'.repeat(256) })).errors).toMatchObject([{ code: 'TOO_LONG', path: ['idempotencyKey'] }]);
    expect(await databaseSnapshot(server)).toEqual(before);
  });

  it('255 characters are stored, counted as characters (255 emoji are one key)', async () => {
    const { id } = await insertCustomer(server);
    const key = '\u{1F511}'.repeat(255);
    const payload = payloadOf(await send(UPDATE, { id, input: { notes: 'long key' }, key }));
    expect(payload.errors).toEqual([]);
    expect(await recordFor(key)).toBeDefined();
  });

  it('a bad key is reported with the input\'s errors, and no password is hashed for it', async () => {
    const { id } = await insertCustomer(server);
    const hash = (await customerRow(server, id))!.password_hash;
    const payload = payloadOf(await send(UPDATE, { id, input: { lastName: ' ', authentication: { password: PASSWORD } }, key: '' }));
    expect(payload.errors.map((error) => [error.code, error.path.join('.')])).toEqual([
      ['REQUIRED', 'input.lastName'],
      ['INVALID', 'idempotencyKey'],
    ]);
    expect((await customerRow(server, id))!.password_hash).toBe(hash);
  });
});

describe('a refused request stores nothing and may be retried, as it is or corrected', () => {
  it('a validation failure: no record; the corrected retry with the same key writes', async () => {
    const { id } = await insertCustomer(server);
    const key = newKey();
    const refused = payloadOf(await send(UPDATE, { id, input: { firstName: '' }, key }));
    expect(refused.errors).toMatchObject([{ code: 'REQUIRED' }]);
    expect(await recordFor(key)).toBeUndefined();
    const corrected = payloadOf(await send(UPDATE, { id, input: { firstName: 'Fixed' }, key }));
    expect(corrected).toMatchObject({ customer: { firstName: 'Fixed', version: 2 }, errors: [] });
  });

  it('NOT_FOUND: no record', async () => {
    const key = newKey();
    const payload = payloadOf(await send(UPDATE, { id: '2147483000', input: { firstName: 'Ghost' }, key }));
    expect(payload.errors).toMatchObject([{ code: 'NOT_FOUND', path: ['id'] }]);
    expect(await recordFor(key)).toBeUndefined();
  });

  it('VERSION_CONFLICT: no record; the retry with the current version and the same key writes', async () => {
    const { id } = await insertCustomer(server);
    const key = newKey();
    const stale = payloadOf(await send(UPDATE, { id, input: { phone: '1' }, expectedVersion: 7, key }));
    expect(stale.errors).toMatchObject([{ code: 'VERSION_CONFLICT', currentVersion: 1 }]);
    expect(await recordFor(key)).toBeUndefined();
    const fresh = payloadOf(await send(UPDATE, { id, input: { phone: '1' }, expectedVersion: 1, key }));
    expect(fresh).toMatchObject({ customer: { phone: '1', version: 2 }, errors: [] });
  });

  it('TAKEN: no record; once the address is free the very same request writes', async () => {
    const holder = await insertCustomer(server);
    const { id } = await insertCustomer(server);
    const key = newKey();
    const variables = { id, input: { email: holder.email }, key };
    expect(payloadOf(await send(UPDATE, variables)).errors).toMatchObject([{ code: 'TAKEN', path: ['input', 'email'] }]);
    expect(await recordFor(key)).toBeUndefined();
    await send(UPDATE, { id: holder.id, input: { email: uniqueEmail('moved') } });
    expect(payloadOf(await send(UPDATE, variables))).toMatchObject({ customer: { email: holder.email, version: 2 }, errors: [] });
  });

  it('a failure halfway (the database refuses the write) leaves neither the write nor a record', async () => {
    const { id } = await insertCustomer(server);
    const key = newKey();
    await server.database.sql.query(`
      CREATE FUNCTION refuse_exploding_notes() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.notes = 'explode' THEN RAISE EXCEPTION 'refused by test trigger'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER refuse_exploding_notes BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION refuse_exploding_notes();`);
    try {
      const before = await databaseSnapshot(server);
      const response = await server.graphql(UPDATE, { id, input: { notes: 'explode' }, key });
      expect(response.body.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(await databaseSnapshot(server)).toEqual(before);
      expect(await recordFor(key)).toBeUndefined();
    } finally {
      await server.database.sql.query('DROP TRIGGER refuse_exploding_notes ON customers; DROP FUNCTION refuse_exploding_notes();');
    }
    expect(payloadOf(await send(UPDATE, { id, input: { notes: 'explode' }, key }))).toMatchObject({ customer: { notes: 'explode', version: 2 } });
  });
});

describe('two identical requests racing with one key make one write', () => {
  it('20 parallel updateCustomer: 20 identical responses, no error, one write and one history entry', async () => {
    const { id } = await insertCustomer(server);
    const key = newKey();
    const variables = { id, input: { firstName: 'Raced', storeCredit: '1' }, key };
    const responses = await Promise.all(Array.from({ length: 20 }, () => server.graphql(UPDATE, variables)));
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
    expect(new Set(responses.map((response) => response.text)).size).toBe(1);
    expect(payloadOf(responses[0]!)).toMatchObject({ customer: { firstName: 'Raced', version: 2 }, errors: [] });
    expect((await customerRow(server, id))!.version).toBe(2);
    expect(await historyRows(server, id)).toHaveLength(1);
    expect((await records()).filter((record) => record.key === key)).toHaveLength(1);
  });

  it('20 parallel createCustomer: one customer', async () => {
    const key = newKey();
    const email = uniqueEmail('race-create');
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => server.graphql(CREATE, { input: { firstName: 'Race', lastName: 'Create', email }, key })),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
    expect(new Set(responses.map((response) => response.text)).size).toBe(1);
    const { rows } = await server.database.sql.query('SELECT count(*)::int AS n FROM customers WHERE email = $1', [email]);
    expect(rows[0].n).toBe(1);
  });

  it('8 parallel updates with a password: one write, each loser checks the password against the stored hash', async () => {
    const { id } = await insertCustomer(server);
    const key = newKey();
    const variables = { id, input: { authentication: { password: PASSWORD } }, key };
    const responses = await Promise.all(Array.from({ length: 8 }, () => server.graphql(UPDATE, variables)));
    expect(responses.map((response) => response.status)).toEqual(Array(8).fill(200));
    expect(new Set(responses.map((response) => response.text)).size).toBe(1);
    expect((await customerRow(server, id))!.version).toBe(2);
    expect(await historyRows(server, id)).toHaveLength(1);
  });

  it('racing requests with one key but other arguments: one write, the others IDEMPOTENCY_KEY_REUSED', async () => {
    const { id } = await insertCustomer(server);
    const key = newKey();
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, index) => send(UPDATE, { id, input: { notes: `racer ${index}` }, key })),
    );
    const payloads = responses.map(payloadOf);
    const winners = payloads.filter((payload) => payload.customer !== null);
    expect(winners).toHaveLength(1);
    expect(payloads.filter((payload) => payload.customer === null).map((payload) => payload.errors)).toEqual(Array(9).fill(REUSED));
    expect((await customerRow(server, id))!.notes).toBe(winners[0]!.customer.notes);
    expect(await historyRows(server, id)).toHaveLength(1);
  });
});

describe('passwords never become a fast hash, nor reach a stored response', () => {
  it('the request hash does not depend on the password; an argon2id hash of it is kept instead', async () => {
    const { id } = await insertCustomer(server);
    const other = (await createToken(server.database.db, `pw-${newKey()}`, ['customers:write'])).secret;
    const key = newKey();
    await send(UPDATE, { id, input: { authentication: { password: PASSWORD } }, key });
    const mine = (await recordFor(key))!;
    // The second password replaces the first: the first record forgets its hash then (see below).
    await send(UPDATE, { id, input: { authentication: { password: 'Another-Lantern-99' } }, key }, other);
    const theirs = (await recordFor(key, other))!;
    // Same arguments but for the password: the same SHA-256, so no password went into it.
    expect(mine.request_hash).toBe(theirs.request_hash);
    const hash = mine.password_hashes!['input.authentication.password']!;
    expect(hash).toMatch(/^\$argon2id\$/);
    expect(await verify(hash, PASSWORD)).toBe(true);
    expect(await verify(theirs.password_hashes!['input.authentication.password']!, PASSWORD)).toBe(false);
    for (const record of [mine, theirs]) {
      expect(record.response).not.toContain('Lantern');
      expect(record.response).not.toContain('$argon2');
      expect(record.response).not.toMatch(/password/i);
    }
  });

  it('createCustomer with a generated password keeps no password hash in the record', async () => {
    const key = newKey();
    await send(CREATE, { input: { firstName: 'Gen', lastName: 'Pw', email: uniqueEmail('gen') }, key });
    expect(await recordFor(key)).toMatchObject({ password_hashes: null });
    expect((await recordFor(key))!.response).not.toContain('$argon2');
  });
});

describe('keys are kept at least 24 hours, then pruned', () => {
  async function age(key: string, hours: number) {
    await server.database.sql.query(`UPDATE idempotency_keys SET created_at = now() - make_interval(hours => $2) WHERE key = $1`, [key, hours]);
  }

  it('a 23-hour-old key is kept and still replays; a 25-hour-old one is pruned and the key is free again', async () => {
    const { id } = await insertCustomer(server);
    const young = newKey();
    const old = newKey();
    const youngFirst = await send(UPDATE, { id, input: { notes: 'young' }, key: young });
    await send(UPDATE, { id, input: { notes: 'old' }, key: old });
    await age(young, 23);
    await age(old, 25);
    const pruned = await pruneIdempotencyKeys(server.database.db, new Date(Date.now() - IDEMPOTENCY_KEY_RETENTION_MS));
    expect(pruned).toBeGreaterThanOrEqual(1);
    expect(await recordFor(young)).toBeDefined();
    expect(await recordFor(old)).toBeUndefined();
    expect((await send(UPDATE, { id, input: { notes: 'young' }, key: young })).text).toBe(youngFirst.text);
    // The pruned key is a new key now: other arguments write instead of being refused.
    expect(payloadOf(await send(UPDATE, { id, input: { notes: 'reused after pruning' }, key: old }))).toMatchObject({ errors: [], customer: { version: 4 } });
  });

  it('the pruning timer prunes at start and every interval, and stops when told', async () => {
    const { id } = await insertCustomer(server);
    const keyAged48Hours = async () => {
      const key = newKey();
      await send(UPDATE, { id, input: { notes: key }, key });
      await age(key, 48);
      return key;
    };
    const pruned = (key: string) => async () => (await recordFor(key)) === undefined;
    const atStart = await keyAged48Hours();
    const runs: number[] = [];
    // The interval is ticked by hand, so no step waits on the clock.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const intervalMs = 60_000;
      const pruning = startIdempotencyKeyPruning(server.database.db, { intervalMs, onPruned: (count) => runs.push(count) });
      await waitFor(pruned(atStart), { what: 'the run at start' });
      await waitFor(() => runs.length === 1);
      const later = await keyAged48Hours();
      vi.advanceTimersByTime(intervalMs);
      await waitFor(pruned(later), { what: 'the run after one interval' });
      await pruning.stop();
      expect(runs).toHaveLength(2);

      const afterStop = await keyAged48Hours();
      vi.advanceTimersByTime(intervalMs * 3);
      // A tick that still fired would have started a run; stop waits for a run in progress.
      await pruning.stop();
      expect(runs).toHaveLength(2);
      expect(await recordFor(afterStop)).toBeDefined();
    } finally {
      vi.useRealTimers();
    }
  });
});
