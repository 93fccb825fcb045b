import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, writeFile, rm, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, MIGRATIONS_DIR, readMigrations } from '../../src/infra/database/migrate.ts';
import { diffDatabaseToSchema } from '../../src/infra/database/schema-engine.ts';
import { createTestDatabase, databaseUrl, type TestDatabase } from '../support/database.ts';
import { inject } from 'vitest';

const SCHEMA = fileURLToPath(new URL('../../prisma/schema.prisma', import.meta.url));

async function emptyDatabase(): Promise<{ url: string; sql: pg.Pool }> {
  const name = `${inject('databasePrefix')}empty_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: inject('adminUrl') });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = databaseUrl(name);
  return { url, sql: new pg.Pool({ connectionString: url, max: 2 }) };
}

describe('migrations', () => {
  let migrated: TestDatabase;
  beforeAll(async () => {
    migrated = await createTestDatabase();
  });
  afterAll(() => migrated.close());

  it('are recorded in _prisma_migrations as `prisma migrate deploy` records them', async () => {
    const { rows } = await migrated.sql.query(
      'SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name',
    );
    const onDisk = await readMigrations();
    expect(onDisk.length).toBeGreaterThan(0);
    expect(rows.map((row) => row.migration_name)).toEqual(onDisk.map((m) => m.name));
    for (const [index, migration] of onDisk.entries()) {
      const sql = await readFile(path.join(MIGRATIONS_DIR, migration.name, 'migration.sql'));
      expect(rows[index].checksum).toBe(createHash('sha256').update(sql).digest('hex'));
      expect(rows[index].finished_at).toBeInstanceOf(Date);
      expect(rows[index].rolled_back_at).toBeNull();
      expect(rows[index].applied_steps_count).toBe(1);
    }
  });

  it('apply nothing the second time', async () => {
    expect(await applyMigrations(migrated.url)).toEqual([]);
  });

  it('agree with prisma/schema.prisma (no drift; run `npm run db:diff -- <name>` after changing the schema)', async () => {
    const report = await diffDatabaseToSchema(migrated.url, SCHEMA);
    expect(report.script).not.toMatch(/CREATE|ALTER|DROP/);
    expect(report.drift).toBe(false);
  });

  it('are applied once when two processes start together (advisory lock)', async () => {
    const { url, sql } = await emptyDatabase();
    try {
      const [first, second] = await Promise.all([applyMigrations(url), applyMigrations(url)]);
      const names = (await readMigrations()).map((m) => m.name);
      expect([...first, ...second].sort()).toEqual(names);
      const { rows } = await sql.query('SELECT count(*)::int AS n FROM "_prisma_migrations"');
      expect(rows[0].n).toBe(names.length);
    } finally {
      await sql.end();
    }
  });

  it('leave nothing behind when one fails: neither its changes nor a record', async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'cgw-migrations-'));
    const { url, sql } = await emptyDatabase();
    try {
      await mkdir(path.join(folder, '1_good'));
      await writeFile(path.join(folder, '1_good', 'migration.sql'), 'CREATE TABLE good (id int);');
      await mkdir(path.join(folder, '2_bad'));
      await writeFile(path.join(folder, '2_bad', 'migration.sql'), 'CREATE TABLE half (id int);\nSELECT no_such_function();');
      await expect(applyMigrations(url, { migrationsDir: folder })).rejects.toThrow(/2_bad failed/);
      const tables = await sql.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
      expect(tables.rows.map((row) => row.tablename)).toEqual(['_prisma_migrations', 'good']);
      const recorded = await sql.query('SELECT migration_name FROM "_prisma_migrations"');
      expect(recorded.rows.map((row) => row.migration_name)).toEqual(['1_good']);
    } finally {
      await sql.end();
      await rm(folder, { recursive: true, force: true });
    }
  });
});
