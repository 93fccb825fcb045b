/**
 * The benchmark's own PostgreSQL: a new embedded cluster in a temporary folder, migrated and
 * seeded with many customers, plus the queries that check each run's writes.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
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

const SEED = `
INSERT INTO customers (first_name, last_name, email, company, phone, store_credit, customer_group_id, password_hash)
SELECT 'First' || i, 'Last' || i, 'customer' || i || '@bench.example',
       CASE WHEN i % 3 = 0 THEN 'Company ' || i END,
       '+1 512 555 ' || lpad((i % 10000)::text, 4, '0'),
       (i % 400) * 1.25,
       CASE WHEN i % 4 = 0 THEN i % 10 END,
       $1
FROM generate_series(1, $2::int) AS i`;

// PostGraphile's generated patch can only set values, not `version = version + 1`: for its
// variant, a trigger makes the same write the other variants make in their UPDATE.
const VERSION_TRIGGER = `
CREATE FUNCTION bench_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.version := OLD.version + 1;
  NEW.date_modified := now();
  RETURN NEW;
END $$;
CREATE TRIGGER bench_bump_version BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION bench_bump_version();`;
const DROP_VERSION_TRIGGER = `
DROP TRIGGER bench_bump_version ON customers;
DROP FUNCTION bench_bump_version();`;

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

/** Inserts `count` customers in one statement; returns the id range they got. */
export async function seedCustomers(client: pg.Client, count: number): Promise<{ min: number; max: number }> {
  await client.query(SEED, [SEEDED_PASSWORD_HASH, count]);
  await client.query('VACUUM (ANALYZE) customers');
  const { rows } = await client.query<{ min: number; max: number }>('SELECT min(id) AS min, max(id) AS max FROM customers');
  const range = rows[0]!;
  if (range.max - range.min + 1 !== count) throw new Error(`expected ${count} consecutive customer ids, got ${range.min}..${range.max}`);
  return range;
}

/** Every write so far: each one adds 1 to one customer's version, which starts at 1. */
export async function appliedWrites(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ writes: string }>('SELECT coalesce(sum(version - 1), 0)::bigint AS writes FROM customers');
  return Number(rows[0]!.writes);
}

/** Each run starts from a vacuumed table and a fresh checkpoint, not from the previous run's debris. */
export async function settle(client: pg.Client): Promise<void> {
  await client.query('VACUUM (ANALYZE) customers');
  await client.query('CHECKPOINT');
}

export async function withVersionTrigger<T>(client: pg.Client, work: () => Promise<T>): Promise<T> {
  await client.query(VERSION_TRIGGER);
  try {
    return await work();
  } finally {
    await client.query(DROP_VERSION_TRIGGER);
  }
}
