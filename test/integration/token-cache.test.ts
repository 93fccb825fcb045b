/**
 * Tokens served from memory: a revocation or a change of scopes still takes effect on every
 * server at once, because the database announces it; while a server cannot hear the
 * announcements it looks every token up again; and whatever happens to the announcements, no
 * cached token outlives the cache's lifetime.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createToken, hashToken, revokeToken } from '../../src/domain/tokens.ts';
import { createDatabase, type Database } from '../../src/infra/database/prisma.ts';
import { tokenLookups } from '../../src/infra/database/token-statements.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { startStallingProxy, type StallingProxy } from '../support/stalling-proxy.ts';

const CUSTOMERS = '{ customers(first: 1) { edges { node { id } } } }';

let one: TestServer;
let two: TestServer;
beforeAll(async () => {
  one = await startTestServer();
  // a second replica on the same database
  two = await startTestServer({ database: one.database });
});
afterAll(async () => {
  await two.close();
  await one.close();
});

async function status(server: TestServer, token: string): Promise<number> {
  return (await server.graphql(CUSTOMERS, {}, { token })).status;
}

/** Waits until the cache of each server is listening: a request after the first is served from it. */
async function warm(token: string): Promise<void> {
  for (const server of [one, two]) {
    await expect.poll(() => status(server, token)).toBe(200);
    expect(await status(server, token)).toBe(200);
  }
}

describe('cached tokens', () => {
  it('a revoked token is refused by every replica, though both had it in memory', async () => {
    const { secret, record } = await createToken(one.database.db, 'cached-revoked', ['customers:read']);
    await warm(secret);
    expect(await revokeToken(one.database.db, String(record.id))).toBe(true);
    for (const server of [one, two]) await expect.poll(() => status(server, secret), { timeout: 1_000 }).toBe(401);
  });

  it('a scope taken away applies at once', async () => {
    const { secret, record } = await createToken(one.database.db, 'cached-scopes', ['customers:read']);
    await warm(secret);
    await one.database.sql.query("UPDATE api_tokens SET scopes = '{}' WHERE id = $1", [record.id]);
    for (const server of [one, two]) await expect.poll(() => status(server, secret), { timeout: 1_000 }).toBe(403);
  });

  it('while a server cannot hear the announcements, it forgets its cache; once it hears again, revocations apply', async () => {
    const { secret, record } = await createToken(one.database.db, 'cached-deaf', ['customers:read']);
    await warm(secret);
    const { rowCount } = await one.database.sql.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'customer-gateway-listener' AND datname = current_database()",
    );
    expect(rowCount).toBe(2);
    // revoked while both listeners are gone or coming back
    await revokeToken(one.database.db, String(record.id));
    for (const server of [one, two]) await expect.poll(() => status(server, secret), { timeout: 1_000 }).toBe(401);
    // the listeners come back, and a later revocation of a cached token is heard again
    const later = await createToken(one.database.db, 'cached-after-reconnect', ['customers:read']);
    await expect
      .poll(async () => (await one.database.sql.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'customer-gateway-listener' AND datname = current_database()")).rows[0].n, { timeout: 5_000 })
      .toBe(2);
    await warm(later.secret);
    await revokeToken(one.database.db, String(later.record.id));
    for (const server of [one, two]) await expect.poll(() => status(server, later.secret), { timeout: 1_000 }).toBe(401);
  });
});

/** Waits until `server` answers `token` from memory (with `expected`): a request that sends no lookup. */
async function servedFromMemory(server: TestServer, token: string, { timeout = 5_000, expected = 200 } = {}): Promise<void> {
  await expect
    .poll(
      async () => {
        const before = tokenLookups(server.database.db);
        expect(await status(server, token)).toBe(expected);
        return tokenLookups(server.database.db) - before;
      },
      { timeout },
    )
    .toBe(0);
}

function unknownSecret(): string {
  return `cgw_${randomBytes(32).toString('base64url')}`;
}

describe('a revocation is refused within the cache lifetime, whatever happens to notifications', () => {
  // The server reaches PostgreSQL through a proxy that can stall its listener's connection: no
  // error, no end, the notifications just stop arriving. The test revokes directly.
  let database: TestDatabase;
  let proxy: StallingProxy;
  const opened: Array<{ server: TestServer; db: Database }> = [];
  beforeAll(async () => {
    database = await createTestDatabase();
    proxy = await startStallingProxy(database.url, 'customer-gateway-listener');
  });
  afterEach(async () => {
    proxy.resume();
    for (const { server, db } of opened.splice(0)) {
      await server.close();
      await db.$disconnect();
    }
  });
  afterAll(async () => {
    await proxy.close();
    await database.close();
  });

  async function serverBehindProxy(options: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
    const db = createDatabase({ connectionString: proxy.url, poolSize: 3 });
    const server = await startTestServer({ ...options, database: { ...database, db } });
    opened.push({ server, db });
    return server;
  }

  it('with heartbeats, a stalled listener is noticed within a few of them: the cache stops serving, and serves again once LISTEN is back', async () => {
    // the default lifetime (30 s): only the heartbeat can notice within the poll below
    const server = await serverBehindProxy({ listenerHeartbeat: { intervalMs: 200, timeoutMs: 500 } });
    const { secret, record } = await createToken(database.db, 'stalled-heartbeat', ['customers:read']);
    await servedFromMemory(server, secret);

    proxy.stall();
    expect(await revokeToken(database.db, String(record.id))).toBe(true);
    await expect.poll(() => status(server, secret), { timeout: 3_000 }).toBe(401);
    // deaf: every request looks its token up
    const other = await createToken(database.db, 'stalled-heartbeat-other', ['customers:read']);
    const before = tokenLookups(server.database.db);
    for (let i = 0; i < 3; i++) expect(await status(server, other.secret)).toBe(200);
    expect(tokenLookups(server.database.db) - before).toBe(3);

    proxy.resume();
    await servedFromMemory(server, other.secret, { timeout: 15_000 });
    await revokeToken(database.db, String(other.record.id));
    await expect.poll(() => status(server, other.secret), { timeout: 1_000 }).toBe(401);
  });

  it('without heartbeats, a revoked token is refused once the lifetime has passed', async () => {
    const server = await serverBehindProxy({ listenerHeartbeat: false, tokenCacheTtlMs: 1_500 });
    const { secret, record } = await createToken(database.db, 'stalled-lifetime', ['customers:read']);
    await servedFromMemory(server, secret);

    proxy.stall();
    expect(await revokeToken(database.db, String(record.id))).toBe(true);
    await expect.poll(() => status(server, secret), { timeout: 10_000 }).toBe(401);
  });
});

describe('unknown tokens', () => {
  it('a flood of one unknown token costs one lookup', async () => {
    const unknown = unknownSecret();
    const before = tokenLookups(one.database.db);
    for (let i = 0; i < 20; i++) expect(await status(one, unknown)).toBe(401);
    expect(tokenLookups(one.database.db) - before).toBe(1);
  });

  it('so does a revoked one', async () => {
    const { secret, record } = await createToken(one.database.db, 'flood-revoked', ['customers:read']);
    await revokeToken(one.database.db, String(record.id));
    // the lookup that races the revocation's announcement is not kept; the next one is
    await servedFromMemory(one, secret, { expected: 401 });
    const before = tokenLookups(one.database.db);
    for (let i = 0; i < 20; i++) expect(await status(one, secret)).toBe(401);
    expect(tokenLookups(one.database.db) - before).toBe(0);
  });

  it('a token created after it was refused is accepted at once: the database announces new tokens', async () => {
    await servedFromMemory(one, one.tokens.read); // listening
    const secret = unknownSecret();
    expect(await status(one, secret)).toBe(401);
    expect(await status(one, secret)).toBe(401);
    await one.database.sql.query('INSERT INTO api_tokens (name, token_hash, scopes) VALUES ($1, $2, $3)', [
      'created-after-refusal',
      hashToken(secret),
      ['customers:read'],
    ]);
    // well within the few seconds an unknown token is remembered
    await expect.poll(() => status(one, secret), { timeout: 1_000 }).toBe(200);
  });
});
