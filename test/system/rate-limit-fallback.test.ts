/**
 * The shared (PostgreSQL) rate-limit store failing does not lift the limit: the real process
 * counts in memory meanwhile, logs it, and goes back to the shared counters once they answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/domain/tokens.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startGateway, stopGateways, type GatewayProcess } from '../support/processes.ts';

let database: TestDatabase;
let gateway: GatewayProcess;
let token: string;

beforeAll(async () => {
  database = await createTestDatabase();
  token = (await createToken(database.db, 'fallback', ['customers:read'])).secret;
  gateway = await startGateway({
    databaseUrl: database.url,
    token,
    // A day-long window: the test does not straddle a window's end (but for a midnight UTC).
    env: { RATE_LIMIT_STORE: 'postgres', RATE_LIMIT_REQUESTS: '3', RATE_LIMIT_WINDOW_MS: '86400000', LOG_LEVEL: 'info' },
  });
});
afterAll(async () => {
  await stopGateways();
  await database?.close();
});

async function ask() {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-auth-token': token },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  await response.arrayBuffer();
  return { status: response.status, quota: response.headers.get('x-rate-limit-requests-quota') };
}

const storedHits = async () =>
  Number((await database.sql.query("SELECT coalesce(sum(count), 0) AS hits FROM rate_limit_windows WHERE bucket LIKE 'token:%'")).rows[0].hits);

describe('a failing PostgreSQL rate-limit store', () => {
  it('falls back to counting in memory, logged, and the limit still holds', async () => {
    expect(await ask()).toEqual({ status: 200, quota: '3' });
    expect(await storedHits()).toBe(1);

    // every hit now fails ("relation does not exist")
    await database.sql.query('ALTER TABLE rate_limit_windows RENAME TO rate_limit_windows_away');
    const answers = [];
    for (let i = 0; i < 8 && answers.at(-1)?.status !== 429; i++) answers.push(await ask());
    expect(answers.at(-1)).toEqual({ status: 429, quota: '3' });
    expect(answers.slice(0, -1).every((answer) => answer.status === 200 && answer.quota === '3')).toBe(true);
    await expect.poll(() => gateway.output(), { timeout: 10_000 }).toMatch(/rate limit store failed/);
  });

  it('goes back to the shared counters once they answer again', async () => {
    await database.sql.query('ALTER TABLE rate_limit_windows_away RENAME TO rate_limit_windows');
    await expect
      .poll(
        async () => {
          await ask();
          return storedHits();
        },
        { timeout: 20_000, interval: 250 },
      )
      .toBeGreaterThan(1);
    // the log line travels through the child's stdout: wait for it rather than race it
    await expect.poll(() => gateway.output(), { timeout: 10_000 }).toMatch(/rate limit store answers again/);
  });
});
