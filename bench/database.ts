/**
 * The benchmark's own PostgreSQL: a new embedded cluster in a temporary folder, migrated and
 * seeded with many customers, plus the queries that check each run's writes.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { CUSTOMER_COLUMNS } from '../src/domain/customer-fields.ts';
import { ensureDatabase } from '../src/infra/database/connect.ts';
import { startEmbeddedPostgres } from '../src/infra/database/embedded-postgres.ts';
import { applyMigrations } from '../src/infra/database/migrate.ts';

/**
 * Durability stays at PostgreSQL's defaults (fsync, synchronous_commit and full_page_writes on):
 * commit latency is part of what a write costs. Only sizes change: more shared memory than the
 * 128 MB default, and checkpoints spaced out so one does not land inside a measured window
 * (the bench takes a checkpoint itself before each run).
 */
export const POSTGRES_SETTINGS = {
  shared_buffers: '256MB',
  max_wal_size: '4GB',
  checkpoint_timeout: '30min',
};

/** argon2id of a fixed password, with the project's parameters: seeding must not hash 100k times. */
const SEEDED_PASSWORD_HASH = '$argon2id$v=19$m=19456,t=2,p=1$aMFEuzGE/ZwlCZ6sSmrQsw$j7cXbT5cJvX3j4etIJRnM7Hj/iQeMmfxLOuqxPxZMM8';

/**
 * Last names are 8 letters derived from md5 of the customer's number, so a 4-letter part of one
 * matches a handful of customers (about 5 in 65,536 names), as a search for a real name would.
 * The letters leave out c, f, h and t: no search term can match the first names ("First1",
 * "Bench 3-12") and match every customer.
 */
const NAME_DIGITS = '0123456789abcdef';
const NAME_LETTERS = 'aeioubdgklmnprsv';
const LAST_NAME_SQL = `initcap(translate(left(md5(i::text), 8), '${NAME_DIGITS}', '${NAME_LETTERS}'))`;

/** The last name the seed gives customer number `n` (from 1), as LAST_NAME_SQL computes it. */
export function seededLastName(n: number): string {
  const letters = [...createHash('md5').update(String(n)).digest('hex').slice(0, 8)].map((digit) => NAME_LETTERS[NAME_DIGITS.indexOf(digit)]);
  return letters[0]!.toUpperCase() + letters.slice(1).join('');
}

const SEED = `
INSERT INTO customers (first_name, last_name, email, company, phone, store_credit, customer_group_id, password_hash)
SELECT 'First' || i, ${LAST_NAME_SQL}, 'customer' || i || '@bench.example',
       CASE WHEN i % 3 = 0 THEN 'Company ' || i END,
       '+1 512 555 ' || lpad((i % 10000)::text, 4, '0'),
       (i % 400) * 1.25,
       CASE WHEN i % 4 = 0 THEN i % 10 END,
       $1
FROM generate_series(1, $2::int) AS i`;

/**
 * Triggers installed for one variant's run. PostGraphile's generated patch can only set values,
 * not `version = version + 1`: `version` makes the same write the other variants make in their
 * UPDATE. `audit` is what a PostGraphile user would add for an audit trail: after each update,
 * the history row the gateway writes (changed writable columns under their API names, money and
 * email as text), from a generic diff of OLD and NEW.
 */
const TRIGGERS = {
  version: {
    create: `
CREATE FUNCTION bench_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.version := OLD.version + 1;
  NEW.date_modified := now();
  RETURN NEW;
END $$;
CREATE TRIGGER bench_bump_version BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION bench_bump_version();`,
    drop: `
DROP TRIGGER bench_bump_version ON customers;
DROP FUNCTION bench_bump_version();`,
  },
  audit: {
    create: `
CREATE FUNCTION bench_audit_customer() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  old_row jsonb := to_jsonb(OLD);
  new_row jsonb := to_jsonb(NEW);
BEGIN
  INSERT INTO customer_changes (customer_id, version, actor, at, changes)
  SELECT NEW.id, NEW.version, 'postgraphile', NEW.date_modified,
    coalesce(jsonb_agg(jsonb_build_object(
      'field', f.field,
      'from', CASE WHEN f.as_text THEN to_jsonb(old_row ->> f.name) ELSE old_row -> f.name END,
      'to', CASE WHEN f.as_text THEN to_jsonb(new_row ->> f.name) ELSE new_row -> f.name END
    ) ORDER BY f.ord), '[]')
  FROM (VALUES ${CUSTOMER_COLUMNS.map((c, ord) => `(${ord}, '${c.field}', '${c.column}', ${c.historyAsText})`).join(', ')}) AS f (ord, field, name, as_text)
  WHERE old_row -> f.name IS DISTINCT FROM new_row -> f.name;
  RETURN NULL;
END $$;
CREATE TRIGGER bench_audit_customer AFTER UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION bench_audit_customer();`,
    drop: `
DROP TRIGGER bench_audit_customer ON customers;
DROP FUNCTION bench_audit_customer();`,
  },
};

export type Trigger = keyof typeof TRIGGERS;

export interface BenchDatabase {
  url: string;
  postmasterPid: number;
  /** A connection of the bench's own, for seeding and checks. */
  client: pg.Client;
  stop(): Promise<void>;
}

export async function startDatabase(folder: string, log: (message: string) => void): Promise<BenchDatabase> {
  const server = await startEmbeddedPostgres({ dataDir: path.join(folder, 'pg'), settings: POSTGRES_SETTINGS });
  try {
    await ensureDatabase(server.connectionString(), 'bench');
    const url = server.connectionString('bench');
    log('applying migrations');
    await applyMigrations(url);
    const client = new pg.Client({ connectionString: url, application_name: 'bench' });
    await client.connect();
    const postmasterPid = Number(readFileSync(path.join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return {
      url,
      postmasterPid,
      client,
      stop: async () => {
        await client.end().catch(() => {});
        await server.stop();
      },
    };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** Inserts `count` customers in one statement; returns the id range they got and how long each step took. */
export async function seedCustomers(client: pg.Client, count: number): Promise<{ min: number; max: number; insertMs: number; vacuumMs: number }> {
  const start = performance.now();
  await client.query(SEED, [SEEDED_PASSWORD_HASH, count]);
  const inserted = performance.now();
  await client.query('VACUUM (ANALYZE) customers');
  const vacuumed = performance.now();
  const { rows } = await client.query<{ min: number; max: number }>('SELECT min(id) AS min, max(id) AS max FROM customers');
  const range = rows[0]!;
  if (range.max - range.min + 1 !== count) throw new Error(`expected ${count} consecutive customer ids, got ${range.min}..${range.max}`);
  // The search variant derives its terms from seededLastName: it must agree with the SQL.
  const last = await client.query<{ last_name: string }>('SELECT last_name FROM customers WHERE id = $1', [range.max]);
  if (last.rows[0]?.last_name !== seededLastName(count)) throw new Error(`seeded last name ${last.rows[0]?.last_name} is not seededLastName(${count})`);
  return { min: range.min, max: range.max, insertMs: Math.round(inserted - start), vacuumMs: Math.round(vacuumed - inserted) };
}

/** Every write so far: each one adds 1 to one customer's version, which starts at 1. */
export async function appliedWrites(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ writes: string }>('SELECT coalesce(sum(version - 1), 0)::bigint AS writes FROM customers');
  return Number(rows[0]!.writes);
}

/** History rows so far (the seed writes none). */
export async function historyRows(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ rows: string }>('SELECT count(*) AS rows FROM customer_changes');
  return Number(rows[0]!.rows);
}

/** Each run starts from a vacuumed table and a fresh checkpoint, not from the previous run's debris. */
export async function settle(client: pg.Client): Promise<void> {
  await client.query('VACUUM (ANALYZE) customers');
  await client.query('CHECKPOINT');
}

/** Runs `work` with the given triggers on `customers`, dropping them afterwards. */
export async function withTriggers<T>(client: pg.Client, triggers: readonly Trigger[], work: () => Promise<T>): Promise<T> {
  const installed: Trigger[] = [];
  try {
    for (const trigger of triggers) {
      await client.query(TRIGGERS[trigger].create);
      installed.push(trigger);
    }
    return await work();
  } finally {
    for (const trigger of installed.reverse()) await client.query(TRIGGERS[trigger].drop);
  }
}
