/**
 * What "no write lost, none doubled, none half-applied" means in the tables, checked with plain
 * SQL: every customer's history runs 1..version without a gap or a double, and each change row
 * agrees with the customer row it led to.
 */
import type pg from 'pg';

/** A write a client was told succeeded: the version it produced and the value it set. */
export interface Acknowledged {
  customerId: number;
  version: number;
  field: string;
  value: unknown;
}

/**
 * Problems with the history of every customer: `version - 1` changes after the creation, with
 * versions 1..version in order, and the last change's values equal to the row's. Empty when
 * consistent.
 */
export async function historyProblems(sql: pg.Pool | pg.Client): Promise<string[]> {
  const { rows } = await sql.query<{ id: number; version: number; versions: number[] | null; first_name: string; notes: string | null; last: Array<{ field: string; to: unknown }> | null }>(`
    SELECT c.id, c.version, c.first_name, c.notes,
           array_agg(h.version ORDER BY h.version) FILTER (WHERE h.version IS NOT NULL) AS versions,
           (SELECT changes FROM customer_changes WHERE customer_id = c.id ORDER BY version DESC LIMIT 1) AS last
    FROM customers c LEFT JOIN customer_changes h ON h.customer_id = c.id
    GROUP BY c.id ORDER BY c.id`);
  const problems: string[] = [];
  for (const row of rows) {
    const versions = row.versions ?? [];
    const expected = Array.from({ length: row.version }, (_, index) => index + 1);
    if (versions.join(',') !== expected.join(',')) {
      problems.push(`customer ${row.id} is at version ${row.version} but its history has versions [${versions.join(',')}]`);
      continue;
    }
    // The newest change must describe the row as it is: a change without its row write (or the
    // reverse) shows here.
    for (const change of row.last ?? []) {
      const stored = change.field === 'firstName' ? row.first_name : change.field === 'notes' ? row.notes : undefined;
      if (stored !== undefined && stored !== change.to) {
        problems.push(`customer ${row.id}: its last change set ${change.field} to ${JSON.stringify(change.to)}, the row has ${JSON.stringify(stored)}`);
      }
    }
  }
  return problems;
}

/** The acknowledged writes that the history does not hold (the customer, version and value). */
export async function missingAcknowledged(sql: pg.Pool | pg.Client, acknowledged: readonly Acknowledged[]): Promise<Acknowledged[]> {
  const { rows } = await sql.query<{ customer_id: number; version: number; changes: Array<{ field: string; to: unknown }> }>(
    'SELECT customer_id, version, changes FROM customer_changes',
  );
  const recorded = new Map(rows.map((row) => [`${row.customer_id}/${row.version}`, row.changes]));
  return acknowledged.filter((write) => {
    const changes = recorded.get(`${write.customerId}/${write.version}`);
    return !changes?.some((change) => change.field === write.field && change.to === write.value);
  });
}

/** The values a field was set to more than once in the history of the given customers. */
export async function doubledValues(sql: pg.Pool | pg.Client, field: string): Promise<string[]> {
  const { rows } = await sql.query<{ customer_id: number; value: string; times: string }>(
    `SELECT customer_id, change->>'to' AS value, count(*) AS times
     FROM customer_changes, jsonb_array_elements(changes) AS change
     WHERE change->>'field' = $1 AND version > 1
     GROUP BY customer_id, change->>'to' HAVING count(*) > 1`,
    [field],
  );
  return rows.map((row) => `customer ${row.customer_id}: ${field} = ${JSON.stringify(row.value)} recorded ${row.times} times`);
}
