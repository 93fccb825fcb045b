/**
 * The main pool's statement timeout (DATABASE_STATEMENT_TIMEOUT_MS): a statement that runs or
 * waits longer is cancelled by PostgreSQL, and the request answers a masked error instead of
 * holding a connection.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, databasePool, type Database } from '../../src/infra/database/prisma.ts';
import { insertCustomer } from '../support/customers.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let database: TestDatabase;
let timed: Database;
beforeAll(async () => {
  database = await createTestDatabase();
  timed = createDatabase({ connectionString: database.url, poolSize: 2, statementTimeoutMs: 200 });
});
afterAll(async () => {
  await timed.$disconnect();
  await database.close();
});

describe('a statement over the timeout', () => {
  it('fails with PostgreSQL\'s statement timeout (57014), through the pool and through Prisma', async () => {
    await expect(databasePool(timed).query('SELECT pg_sleep(3)')).rejects.toMatchObject({
      code: '57014',
      message: expect.stringMatching(/statement timeout/),
    });
    await expect(timed.$queryRaw`SELECT pg_sleep(3)`).rejects.toThrow(/57014|statement timeout/);
    // the connection is still good afterwards
    expect((await databasePool(timed).query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('answers a request with a masked error, not a hang, while a lock holds its statement', async () => {
    const server: TestServer = await startTestServer({ database: { ...database, db: timed } });
    const locker = new pg.Client({ connectionString: database.url });
    await locker.connect();
    try {
      const { id } = await insertCustomer(server);
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE customers IN ACCESS EXCLUSIVE MODE');
      const response = await server.graphql('query ($id: ID!) { customer(id: $id) { id email } }', { id });
      expect(response.body.errors).toHaveLength(1);
      expect(response.body.errors![0]!.message).toBe('Unexpected error.');
      expect(response.body.errors![0]!.extensions!.code).toBe('INTERNAL_SERVER_ERROR');
      expect(response.text).not.toMatch(/statement|timeout|57014|pg_|prisma/i);
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      await locker.end();
      await server.close();
    }
  }, 15_000);

  it('is five seconds by default: a statement of a second goes through', async () => {
    await expect(databasePool(database.db).query('SELECT pg_sleep(1)')).resolves.toBeDefined();
    const { rows } = await databasePool(database.db).query<{ statement_timeout: string }>('SHOW statement_timeout');
    expect(rows[0]!.statement_timeout).toBe('5s');
  });
});
