/**
 * The unique index decides a race for one email. Over HTTP the pre-check usually sees the
 * winner's committed row first; here two transactions are interleaved on purpose so that both
 * pass the pre-check and the loser meets the index itself (PostgreSQL's 23505, Prisma's P2002).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyCreate,
  applyUpdate,
  prepareCreate,
  prepareUpdate,
  writeInTransaction,
} from '../../src/domain/customer-writes.ts';
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

/**
 * Runs `first` in a transaction that stays open until `second` has started and is blocked on
 * the first's uncommitted row; returns both results.
 */
async function interleave<A, B>(first: Parameters<typeof writeInTransaction<A>>[1], second: () => Promise<B>) {
  let secondResult: Promise<B> | undefined;
  const firstResult = await writeInTransaction(database.db, async (tx) => {
    const result = await first(tx);
    secondResult = second();
    // Long enough for the second to pass its pre-check and block on the unique index.
    await new Promise((resolve) => setTimeout(resolve, 300));
    return result;
  });
  return [firstResult, await secondResult!] as const;
}

describe('two writers racing for one email past the pre-check', () => {
  it('two creations: the first commits, the second gets TAKEN and creates nothing', async () => {
    const address = email();
    const one = await prepareCreate({ input: { firstName: 'One', lastName: 'R', email: address }, actor: 'test' });
    const two = await prepareCreate({ input: { firstName: 'Two', lastName: 'R', email: address.toUpperCase() }, actor: 'test' });
    const [first, second] = await interleave(
      (tx) => applyCreate(tx, one),
      () => writeInTransaction(database.db, (tx) => applyCreate(tx, two)),
    );
    expect(first.errors).toEqual([]);
    expect(second).toEqual({ customer: null, errors: [{ code: 'TAKEN', path: ['input', 'email'], message: expect.any(String) }] });
    const { rows } = await database.sql.query('SELECT first_name FROM customers WHERE email = $1', [address]);
    expect(rows).toEqual([{ first_name: 'One' }]);
    const { rows: history } = await database.sql.query('SELECT count(*)::int AS n FROM customer_changes WHERE customer_id = $1', [
      first.customer!.id,
    ]);
    expect(history[0].n).toBe(1);
  });

  it('two updates to one new email: the second gets TAKEN, keeps its version and records no history', async () => {
    const [a, b] = [await insert(email()), await insert(email())];
    const address = email();
    const one = await prepareUpdate({ id: a, input: { email: address }, actor: 'test' });
    const two = await prepareUpdate({ id: b, input: { email: address.toUpperCase(), company: 'also changed' }, actor: 'test' });
    const [first, second] = await interleave(
      (tx) => applyUpdate(tx, one),
      () => writeInTransaction(database.db, (tx) => applyUpdate(tx, two)),
    );
    expect(first.customer?.version).toBe(2);
    expect(second).toEqual({ customer: null, errors: [{ code: 'TAKEN', path: ['input', 'email'], message: expect.any(String) }] });
    const { rows } = await database.sql.query('SELECT version, company FROM customers WHERE id = $1', [Number(b)]);
    expect(rows).toEqual([{ version: 1, company: null }]);
    const { rows: history } = await database.sql.query('SELECT count(*)::int AS n FROM customer_changes WHERE customer_id = $1', [Number(b)]);
    expect(history[0].n).toBe(0);
  });

  it('nested in a transaction the caller opened, only the refused write is undone and the caller\'s transaction goes on', async () => {
    const [a, b] = [await insert(email()), await insert(email())];
    const address = email();
    const one = await prepareUpdate({ id: a, input: { email: address }, actor: 'test' });
    const two = await prepareUpdate({ id: b, input: { email: address }, actor: 'test' });
    const [first, second] = await interleave(
      (tx) => applyUpdate(tx, one),
      () =>
        database.db.$transaction(async (tx) => {
          await tx.customer.update({ where: { id: Number(b) }, data: { notes: 'written by the caller' } });
          const result = await writeInTransaction(tx, (inner) => applyUpdate(inner, two));
          // The caller's transaction is not aborted: it can still read and write.
          await tx.customer.update({ where: { id: Number(b) }, data: { phone: 'after the refusal' } });
          return result;
        }),
    );
    expect(first.errors).toEqual([]);
    expect(second).toEqual({ customer: null, errors: [{ code: 'TAKEN', path: ['input', 'email'], message: expect.any(String) }] });
    const { rows } = await database.sql.query('SELECT notes, phone, version FROM customers WHERE id = $1', [Number(b)]);
    expect(rows).toEqual([{ notes: 'written by the caller', phone: 'after the refusal', version: 1 }]);
    const { rows: history } = await database.sql.query('SELECT count(*)::int AS n FROM customer_changes WHERE customer_id = $1', [Number(b)]);
    expect(history[0].n).toBe(0);
  });
});
