/**
 * The unique index decides a race for one email. Over HTTP the statement's own check usually
 * sees the winner's committed row; here another transaction holds the address uncommitted, so
 * the write passes its check and meets the index itself. The loser writes again, and its check
 * then sees the winner: TAKEN on the right field, nothing written.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCustomer, updateCustomer, updateCustomers } from '../../src/domain/customer-writes.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.close());

let sequence = 0;
function email(): string {
  sequence += 1;
  return `race.${sequence}.${Date.now()}@example.com`;
}

async function insert(address: string): Promise<string> {
  const { rows } = await database.sql.query<{ id: number }>(
    "INSERT INTO customers (first_name, last_name, email, password_hash) VALUES ('R', 'R', $1, 'x') RETURNING id",
    [address],
  );
  return String(rows[0]!.id);
}

/** Polls until some backend of this database waits on a lock. */
async function someoneWaitsOnALock(): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { rows } = await database.sql.query(
      "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    if (rows.length > 0) return;
    if (Date.now() > deadline) throw new Error('no write ever waited on the held address');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Inserts a customer with `address` in a transaction left open until `write` waits on it, then
 * commits it: the write passed its own check and meets the unique index.
 */
async function racingAgainstHeldAddress<T>(address: string, write: () => Promise<T>): Promise<T> {
  const holder = new pg.Client({ connectionString: database.url });
  await holder.connect();
  try {
    await holder.query('BEGIN');
    await holder.query("INSERT INTO customers (first_name, last_name, email, password_hash) VALUES ('Winner', 'R', $1, 'x')", [address]);
    const pending = write();
    await someoneWaitsOnALock();
    await holder.query('COMMIT');
    return await pending;
  } finally {
    await holder.end();
  }
}

async function historyCount(id: string | number): Promise<number> {
  const { rows } = await database.sql.query('SELECT count(*)::int AS n FROM customer_changes WHERE customer_id = $1', [Number(id)]);
  return rows[0].n;
}

const TAKEN_AT = (path: string[]) => [{ code: 'TAKEN', path, message: expect.any(String) }];

describe('a writer that loses a race for one email at the unique index', () => {
  it('a creation gets TAKEN and creates nothing', async () => {
    const address = email();
    const result = await racingAgainstHeldAddress(address, () =>
      createCustomer(database.db, { input: { firstName: 'Loser', lastName: 'R', email: address.toUpperCase() }, actor: 'test' }),
    );
    expect(result).toEqual({ customer: null, errors: TAKEN_AT(['input', 'email']) });
    const { rows } = await database.sql.query('SELECT first_name FROM customers WHERE email = $1', [address]);
    expect(rows).toEqual([{ first_name: 'Winner' }]);
  });

  it('an update gets TAKEN, keeps its version and records no history', async () => {
    const id = await insert(email());
    const address = email();
    const result = await racingAgainstHeldAddress(address, () =>
      updateCustomer(database.db, { id, input: { email: address, company: 'also changed' }, actor: 'test' }),
    );
    expect(result).toEqual({ customer: null, errors: TAKEN_AT(['input', 'email']) });
    const { rows } = await database.sql.query('SELECT version, company FROM customers WHERE id = $1', [Number(id)]);
    expect(rows).toEqual([{ version: 1, company: null }]);
    expect(await historyCount(id)).toBe(0);
  });

  it('an update under an idempotency key gets TAKEN and stores no record, so it may be retried', async () => {
    const id = await insert(email());
    const { rows: tokens } = await database.sql.query<{ id: number }>(
      "INSERT INTO api_tokens (name, token_hash, scopes) VALUES ('racer', repeat('a', 64), '{customers:write}') RETURNING id",
    );
    const address = email();
    const result = await racingAgainstHeldAddress(address, () =>
      updateCustomer(database.db, { id, input: { email: address }, actor: 'racer', idempotency: { tokenId: tokens[0]!.id, key: 'race' } }),
    );
    expect(result).toEqual({ customer: null, errors: TAKEN_AT(['input', 'email']) });
    const { rows } = await database.sql.query('SELECT count(*)::int AS n FROM idempotency_keys');
    expect(rows[0].n).toBe(0);
  });

  it('a batch gets TAKEN on the item that claimed the address, and writes none of its items', async () => {
    const [a, b] = [await insert(email()), await insert(email())];
    const address = email();
    const result = await racingAgainstHeldAddress(address, () =>
      updateCustomers(database.db, {
        items: [
          { id: a, input: { notes: 'first item' } },
          { id: b, input: { email: address } },
        ],
        actor: 'test',
      }),
    );
    expect(result).toEqual({ customers: null, errors: TAKEN_AT(['items', '1', 'input', 'email']) });
    expect(await historyCount(a)).toBe(0);
    expect(await historyCount(b)).toBe(0);
  });
});
