/**
 * The change log: the rows of customer_changes, read in id order by followers (live feeds,
 * webhook queueing) that must see every row once, without gaps.
 *
 * Ids come from a sequence when a write takes them, not when it commits, so a row with a lower
 * id can become visible after one with a higher id. A follower therefore only passes a position
 * once it is settled: every transaction that could still commit an id at or below it has ended.
 * The position is read first, then the transactions running at that moment; once none of them
 * runs any more (as a later snapshot shows), every id up to the position is committed or gone
 * for good. Writes take their id after their first row write, so each of them is among those
 * transactions, and a customer's versions take increasing ids, since a write waits for the
 * previous one's row lock to be released at commit.
 */
import type { CustomerChange } from '../../generated/prisma/client.ts';
import type { Database } from './prisma.ts';
import { runStatement } from './sql.ts';

/** A position of the log: every id up to it is known. */
export interface LogHead {
  position: bigint;
  /** Transactions that were running once the position was read: it is settled when all ended. */
  running: string[];
}

/**
 * The position, and a transaction id taken (and committed) after reading it. A snapshot lists as
 * running only ids below the newest *completed* one, so a writer holding the newest id of all
 * would not show; once this later id has completed, the next snapshot lists every writer still
 * running. Taking an id writes no data, and its commit waits for no flush.
 */
const POSITION = {
  name: 'cgw_change_log_position',
  text: `SELECT CASE WHEN is_called THEN last_value ELSE 0 END::text AS position, pg_current_xact_id() AS marker FROM customer_changes_id_seq`,
};

const RUNNING = {
  name: 'cgw_change_log_running',
  text: `SELECT ARRAY(SELECT x::text FROM pg_snapshot_xip(pg_current_snapshot()) x) AS running`,
};

/**
 * Rows after $1 up to $2 in id order, at most $3, of one customer when $4 is given; none, and
 * `settled` false, while one of the transactions $5 still runs in this statement's snapshot
 * (the same snapshot that reads the rows, so a transaction seen ended has its rows seen).
 */
const PAGE = {
  name: 'cgw_change_log_page',
  text: `SELECT s.settled, c.id::text AS id, c.customer_id AS "customerId", c.version, c.at, c.actor, c.changes
  FROM (SELECT NOT EXISTS (
          SELECT 1 FROM unnest($5::xid8[]) x WHERE NOT pg_visible_in_snapshot(x, pg_current_snapshot())
        ) AS settled) s
  LEFT JOIN LATERAL (
    SELECT * FROM customer_changes
     WHERE s.settled AND id > $1::bigint AND id <= $2::bigint AND ($4::integer IS NULL OR customer_id = $4::integer)
     ORDER BY id LIMIT $3
  ) c ON true`,
};

/** The newest id handed out, and the transactions that may still commit ids up to it. */
export async function logHead(db: Database): Promise<LogHead> {
  // Two statements, in this order: a transaction that took an id before the position was read
  // is running or ended when the second one looks, and is listed if running (see POSITION).
  const [{ position }] = (await runStatement<{ position: string }>(db, POSITION, [])) as [{ position: string }];
  const [{ running }] = (await runStatement<{ running: string[] }>(db, RUNNING, [])) as [{ running: string[] }];
  return { position: BigInt(position), running };
}

export interface LogPage {
  /** False while a transaction of `running` still runs: nothing was read, ask again soon. */
  settled: boolean;
  changes: CustomerChange[];
}

/**
 * Up to `limit` changes after `after` and up to `through`, once every transaction of `running`
 * ended (pass none for a position already settled).
 */
export async function readLog(
  db: Database,
  range: { after: bigint; through: bigint; limit: number; customerId?: number | null; running?: readonly string[] },
): Promise<LogPage> {
  const rows = await runStatement<Omit<CustomerChange, 'id'> & { id: string | null; settled: boolean }>(db, PAGE, [
    range.after,
    range.through,
    range.limit,
    range.customerId ?? null,
    range.running ?? [],
  ]);
  const settled = rows[0]?.settled ?? false;
  const changes = rows.flatMap(({ settled: _, id, ...row }) => (id === null ? [] : [{ ...row, id: BigInt(id) }]));
  return { settled, changes };
}
