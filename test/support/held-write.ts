/**
 * A write held open, as the change log's followers must expect one: it changed a customer and
 * took its history id, and has not committed. Plain SQL on the test's own pool, so the code
 * under test neither makes nor ends it.
 */
import type pg from 'pg';

export interface HeldWrite {
  /** The history id (event id) it took. */
  id: bigint;
  end(how: 'COMMIT' | 'ROLLBACK'): Promise<void>;
}

export async function openWrite(sql: pg.Pool, customerId: number | string): Promise<HeldWrite> {
  const client = await sql.connect();
  await client.query('BEGIN');
  const { rows } = await client.query<{ version: number }>("UPDATE customers SET notes = 'held', version = version + 1 WHERE id = $1 RETURNING version", [
    Number(customerId),
  ]);
  const change = await client.query<{ id: string }>(
    `INSERT INTO customer_changes (customer_id, version, actor, changes) VALUES ($1, $2, 'held', '[{"field":"notes","from":null,"to":"held"}]') RETURNING id`,
    [Number(customerId), rows[0]!.version],
  );
  return {
    id: BigInt(change.rows[0]!.id),
    async end(how) {
      await client.query(how);
      client.release();
    },
  };
}
