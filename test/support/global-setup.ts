/**
 * One PostgreSQL for the whole run (embedded, or TEST_DATABASE_URL when set) with a migrated
 * template database; each test file clones the template into a database of its own. The
 * integration and system projects both list this file: the first to start creates the cluster,
 * the last to finish removes it. The unit project does not list it, so it never starts one.
 */
import { mkdtemp, chmod, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/infra/database/embedded-postgres.ts';
import { applyMigrations } from '../../src/infra/database/migrate.ts';
import { withClient } from './pg-client.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    adminUrl: string;
    templateDatabase: string;
    databasePrefix: string;
  }
}

interface Cluster {
  adminUrl: string;
  template: string;
  prefix: string;
  stop(): Promise<void>;
}

// Vitest loads this module once per project, in its own main process: the shared cluster lives
// on globalThis, not in a module variable.
const SHARED = Symbol.for('customer-gateway.test-postgres');
type Shared = { users: number; cluster: Promise<Cluster> };
const registry = globalThis as { [SHARED]?: Shared };

export default async function setup(project: TestProject) {
  const shared = (registry[SHARED] ??= { users: 0, cluster: startCluster() });
  shared.users += 1;
  const { adminUrl, template, prefix, stop } = await shared.cluster;
  project.provide('adminUrl', adminUrl);
  project.provide('templateDatabase', template);
  project.provide('databasePrefix', prefix);
  return async () => {
    shared.users -= 1;
    if (shared.users > 0) return;
    delete registry[SHARED];
    await stop();
  };
}

async function startCluster(): Promise<Cluster> {
  let adminUrl = process.env.TEST_DATABASE_URL;
  let stopServer = async () => {};
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
    stopServer = async () => {
      await server.stop();
      await rm(folder, { recursive: true, force: true });
    };
  }
  const url = adminUrl;
  const prefix = `cgw_test_${process.pid}_`;
  const template = `${prefix}template`;
  await withClient(url, (client) => client.query(`CREATE DATABASE ${template}`));
  const templateUrl = new URL(url);
  templateUrl.pathname = `/${template}`;
  await applyMigrations(templateUrl.toString());
  return {
    adminUrl: url,
    template,
    prefix,
    async stop() {
      await withClient(url, async (client) => {
        const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${prefix}%`]);
        for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
      });
      await stopServer();
    },
  };
}
