/**
 * One PostgreSQL for the whole run (embedded, or TEST_DATABASE_URL when set) with a migrated
 * template database; each test file clones the template into a database of its own.
 */
import { mkdtemp, chmod, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/infra/database/embedded-postgres.ts';
import { applyMigrations } from '../../src/infra/database/migrate.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    templateDatabase: string;
    databasePrefix: string;
  }
}

export default async function setup(project: TestProject) {
  let adminUrl = process.env.TEST_DATABASE_URL;
  let stop = async () => {};
  if (!adminUrl) {
    // Below the system temporary folder and traversable by all, so that as root the `postgres`
    // user can reach it; removed at teardown.
    const folder = await mkdtemp(path.join(os.tmpdir(), 'customer-gateway-test-'));
    await chmod(folder, 0o755);
    const server = await startEmbeddedPostgres({
      dataDir: path.join(folder, 'pg'),
      // Durability buys nothing in a throw-away test cluster.
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '300' },
    });
    adminUrl = server.connectionString();
    stop = async () => {
      await server.stop();
      await rm(folder, { recursive: true, force: true });
    };
  }
  const prefix = `cgw_test_${process.pid}_`;
  const template = `${prefix}template`;
  await admin(adminUrl, (client) => client.query(`CREATE DATABASE ${template}`));
  const templateUrl = new URL(adminUrl);
  templateUrl.pathname = `/${template}`;
  await applyMigrations(templateUrl.toString());

  project.provide('adminUrl', adminUrl);
  project.provide('templateDatabase', template);
  project.provide('databasePrefix', prefix);

  return async () => {
    await admin(adminUrl, async (client) => {
      const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${prefix}%`]);
      for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    });
    await stop();
  };
}

async function admin<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
