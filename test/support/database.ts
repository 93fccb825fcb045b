/** A fresh, migrated database for one test file, cloned from the run's template. */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createDatabase, type Database } from '../../src/infra/database/prisma.ts';

export interface TestDatabase {
  url: string;
  name: string;
  db: Database;
  /** A plain pg client, for checks that must not go through the code under test. */
  sql: pg.Pool;
  close(): Promise<void>;
}

export function databaseUrl(name: string): string {
  const url = new URL(inject('adminUrl'));
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
  const db = createDatabase({ connectionString: url, poolSize: options.poolSize ?? 5 });
  const sql = new pg.Pool({ connectionString: url, max: 2 });
  return {
    url,
    name,
    db,
    sql,
    close: async () => {
      await db.$disconnect();
      await sql.end();
    },
  };
}
