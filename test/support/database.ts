/**
 * A fresh, migrated database for one test file, cloned from the run's template. In the PgBouncer
 * project the code under test reaches it through PgBouncer (pgbouncer-setup.ts); the test's own
 * checks always go to PostgreSQL itself.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createDatabase, type Database } from '../../src/infra/database/prisma.ts';

export interface TestDatabase {
  /** PostgreSQL itself. */
  url: string;
  name: string;
  /** What a gateway process is given: `DATABASE_URL`, and `DIRECT_DATABASE_URL` through PgBouncer. */
  connection: { databaseUrl: string; directDatabaseUrl?: string };
  /** The code under test's client: through PgBouncer in the PgBouncer project. */
  db: Database;
  /** A plain pg client, for checks that must not go through the code under test. */
  sql: pg.Pool;
  close(): Promise<void>;
}

export function databaseUrl(name: string, base = inject('adminUrl')): string {
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function createTestDatabase(options: { poolSize?: number } = {}): Promise<TestDatabase> {
  const name = `${inject('databasePrefix')}${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: inject('adminUrl') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${inject('templateDatabase')}`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(name);
  const pgbouncer = inject('pgbouncerUrl');
  const connection = pgbouncer ? { databaseUrl: databaseUrl(name, pgbouncer), directDatabaseUrl: url } : { databaseUrl: url };
  const db = createDatabase({ connectionString: connection.databaseUrl, directConnectionString: url, poolSize: options.poolSize ?? 5 });
  const sql = new pg.Pool({ connectionString: url, max: 2 });
  return {
    url,
    name,
    connection,
    db,
    sql,
    close: async () => {
      await db.$disconnect();
      await sql.end();
    },
  };
}
