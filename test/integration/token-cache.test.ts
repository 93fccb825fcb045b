/**
 * Tokens served from memory: a revocation or a change of scopes still takes effect on every
 * server at once, because the database announces it; while a server cannot hear the
 * announcements it looks every token up again. The cache alone: test/unit/token-cache.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, revokeToken } from '../../src/domain/tokens.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitFor } from '../support/wait-for.ts';

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
    await waitFor(async () => (await status(server, token)) === 200, { what: 'the token to be accepted' });
    expect(await status(server, token)).toBe(200);
  }
}

describe('cached tokens', () => {
  it('a revoked token is refused by every replica, though both had it in memory', async () => {
    const { secret, record } = await createToken(one.database.db, 'cached-revoked', ['customers:read']);
    await warm(secret);
    expect(await revokeToken(one.database.db, String(record.id))).toBe(true);
    for (const server of [one, two]) await waitFor(async () => (await status(server, secret)) === 401, { what: 'the change to reach every server' });
  });

  it('a scope taken away applies at once', async () => {
    const { secret, record } = await createToken(one.database.db, 'cached-scopes', ['customers:read']);
    await warm(secret);
    await one.database.sql.query("UPDATE api_tokens SET scopes = '{}' WHERE id = $1", [record.id]);
    for (const server of [one, two]) await waitFor(async () => (await status(server, secret)) === 403, { what: 'the change to reach every server' });
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
    for (const server of [one, two]) await waitFor(async () => (await status(server, secret)) === 401, { what: 'the change to reach every server' });
    // the listeners come back, and a later revocation of a cached token is heard again
    const later = await createToken(one.database.db, 'cached-after-reconnect', ['customers:read']);
    await waitFor(
      async () =>
        (await one.database.sql.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'customer-gateway-listener' AND datname = current_database()")).rows[0].n === 2,
      { what: 'both listeners to reconnect' },
    );
    await warm(later.secret);
    await revokeToken(one.database.db, String(later.record.id));
    for (const server of [one, two]) await waitFor(async () => (await status(server, later.secret)) === 401, { what: 'the change to reach every server' });
  });
});
