/**
 * `/readyz` follows the database: 503 soon after it stops, 200 again once it is back, and its answer is cached so that a flood
 * of probes costs at most one query per cache period. Its own embedded PostgreSQL, so stopping
 * it disturbs no other test.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/infra/database/embedded-postgres.ts';
import { applyMigrations } from '../../src/infra/database/migrate.ts';
import { createDatabase } from '../../src/infra/database/prisma.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitFor } from '../support/wait-for.ts';

let folder: string;
let postgres: EmbeddedPostgres | undefined;
let server: TestServer;
let close: () => Promise<void>;

const SETTINGS = { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' };

beforeAll(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'cgw-readyz-'));
  await chmod(folder, 0o755);
  postgres = await startEmbeddedPostgres({ dataDir: path.join(folder, 'pg'), settings: SETTINGS });
  const url = postgres.connectionString();
  await applyMigrations(url);
  const db = createDatabase({ connectionString: url, poolSize: 3 });
  const sql = new pg.Pool({ connectionString: url, max: 1 });
  server = await startTestServer({ database: { url, name: 'postgres', connection: { databaseUrl: url }, db, sql, close: async () => {} }, readinessTimeoutMs: 500 });
  close = async () => {
    await server.close();
    await db.$disconnect();
    await sql.end();
  };
});

afterAll(async () => {
  await close?.();
  await postgres?.stop();
  await rm(folder, { recursive: true, force: true });
});

async function readiness(): Promise<number> {
  const response = await fetch(`${server.url}/readyz`);
  await response.arrayBuffer();
  return response.status;
}

describe('/readyz', () => {
  it('is 503 while the database is down, and 200 again when it is back', async () => {
    expect(await readiness()).toBe(200);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const port = postgres!.port;
    await postgres!.stop();
    postgres = undefined;

    await waitFor(async () => (await readiness()) === 503, { what: '/readyz to answer 503' });
    // the process itself is still alive
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    // and GraphQL answers a retryable error instead of hanging
    const query = await server.graphql('{ customer(id: "1") { id } }');
    expect(query.status).toBe(503);
    expect(query.body.errors![0]!.extensions!.code).toBe('SERVICE_UNAVAILABLE');

    postgres = await startEmbeddedPostgres({ dataDir: path.join(folder, 'pg'), settings: SETTINGS, port });
    await waitFor(async () => (await readiness()) === 200, { what: '/readyz to answer 200 again' });
    const after = await server.graphql('{ customer(id: "1") { id } }');
    expect(after.status).toBe(200);
  });

  it('answers from its cache: a flood of probes while the database is down makes no query', async () => {
    const cached = await startTestServer({ database: server.database, readinessCacheMs: 60_000 });
    try {
      expect((await fetch(`${cached.url}/readyz`)).status).toBe(200);
      const port = postgres!.port;
      await postgres!.stop();
      postgres = undefined;
      // any query now fails, and a failed check is a 503: 200s can only come from the cache
      const flood = await Promise.all(Array.from({ length: 50 }, () => fetch(`${cached.url}/readyz`).then((response) => response.status)));
      expect(flood).toEqual(Array.from({ length: 50 }, () => 200));
      // the default cache is short: the other server notices
      await waitFor(async () => (await readiness()) === 503, { what: 'the other server\'s /readyz to answer 503' });
      postgres = await startEmbeddedPostgres({ dataDir: path.join(folder, 'pg'), settings: SETTINGS, port });
      await waitFor(async () => (await readiness()) === 200, { what: '/readyz to answer 200 again' });
    } finally {
      await cached.close();
    }
  });

  it('is 503 once shutdown has begun, while the database still answers, whatever the cache holds', async () => {
    let shuttingDown = false;
    const draining = await startTestServer({ database: server.database, isShuttingDown: () => shuttingDown, readinessCacheMs: 60_000 });
    try {
      expect((await fetch(`${draining.url}/readyz`)).status).toBe(200);
      shuttingDown = true;
      expect((await fetch(`${draining.url}/readyz`)).status).toBe(503);
      expect((await fetch(`${draining.url}/healthz`)).status).toBe(200);
    } finally {
      await draining.close();
    }
  });
});
