/**
 * Pages of history for many customers in one statement, for a page of customers that each
 * select their history. Written as SQL because Prisma's query API cannot limit per customer:
 * `findMany` with `customerId: { in }` would read every entry of every customer. Here each
 * customer's page is read through the (customer_id, version) index and stops at its limit.
 */
import type { CustomerChange } from '../../generated/prisma/client.ts';
import type { Database } from './prisma.ts';
import { runStatement } from './sql.ts';

const HISTORY_PAGES = {
  name: 'cgw_history_pages',
  // COALESCE rather than `$2 IS NULL OR ...`, so the generic plan keeps the bound on version in
  // the index condition.
  text: `SELECT h.id, h.customer_id AS "customerId", h.version, h.at, h.actor, h.changes
           FROM unnest($1::int[]) AS c(id)
           CROSS JOIN LATERAL (
             SELECT * FROM customer_changes
              WHERE customer_id = c.id AND version < COALESCE($2::int, 2147483647)
              ORDER BY version DESC
              LIMIT $3
           ) h
          ORDER BY h.customer_id, h.version DESC`,
};

/**
 * Up to `limit` entries of each customer's history older than version `before` (all when
 * null), newest first, grouped by customer.
 */
export async function historyPages(
  db: Database,
  customerIds: readonly number[],
  before: number | null,
  limit: number,
): Promise<Map<number, CustomerChange[]>> {
  const rows = await runStatement<CustomerChange>(db, HISTORY_PAGES, [customerIds, before, limit]);
  const pages = new Map<number, CustomerChange[]>(customerIds.map((id) => [id, []]));
  // node-postgres gives a bigint as text; Prisma as a BigInt, as its model type says.
  for (const row of rows) pages.get(row.customerId)?.push({ ...row, id: BigInt(row.id) });
  return pages;
}
