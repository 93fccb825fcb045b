/** API.md: "Too many requests for one token": 429, RATE_LIMITED, BigCommerce's headers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, databasePool, type Database } from '../../src/infra/database/prisma.ts';
import { MemoryRateLimitStore } from '../../src/http/rate-limit.ts';
import { PostgresRateLimitStore } from '../../src/infra/database/rate-limit-store.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitFor } from '../support/wait-for.ts';

const QUERY = '{ __typename }';

function limitHeaders(headers: Headers) {
  return {
    quota: headers.get('x-rate-limit-requests-quota'),
    left: headers.get('x-rate-limit-requests-left'),
    resetMs: Number(headers.get('x-rate-limit-time-reset-ms')),
  };
}

describe('per-token rate limit, in memory', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ rateLimit: { requests: 3, windowMs: 60_000, store: new MemoryRateLimitStore() } });
  });
  afterAll(() => server.close());

  it('counts down on every authenticated response, then answers 429 RATE_LIMITED', async () => {
    const seen = [];
    for (let i = 0; i < 3; i++) {
      const response = await server.graphql(QUERY, undefined, { token: server.tokens.read });
      expect(response.status).toBe(200);
      seen.push(limitHeaders(response.headers));
    }
    expect(seen.map((h) => [h.quota, h.left])).toEqual([
      ['3', '2'],
      ['3', '1'],
      ['3', '0'],
    ]);
    for (const { resetMs } of seen) expect(resetMs).toBeGreaterThan(0), expect(resetMs).toBeLessThanOrEqual(60_000);

    const limited = await server.graphql(QUERY, undefined, { token: server.tokens.read });
    expect(limited.status).toBe(429);
    expect(limited.body.errors).toHaveLength(1);
    expect(limited.body.errors![0]!.extensions!.code).toBe('RATE_LIMITED');
    expect(limitHeaders(limited.headers)).toMatchObject({ quota: '3', left: '0' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // browsers may read them cross-origin only when exposed: see the CORS tests
  });

  it('counts each token on its own, and anonymous requests apart from tokens', async () => {
    const other = await server.graphql(QUERY, undefined, { token: server.tokens.write });
    expect(other.status).toBe(200);
    expect(limitHeaders(other.headers)).toMatchObject({ quota: '3', left: '2' });
    // by client address, with a quota of their own (120 by default)
    const anonymous = await server.graphql(QUERY, undefined, { token: null });
    expect(anonymous.status).toBe(200);
    expect(limitHeaders(anonymous.headers)).toMatchObject({ quota: '120', left: '119' });
  });

  it('lets the token through again when the window is over', async () => {
    // The store's clock is the test's: the window ends when the test moves it, not after a wait.
    let now = 1_000_000;
    const short = await startTestServer({ database: server.database, rateLimit: { requests: 1, windowMs: 1_000, store: new MemoryRateLimitStore(() => now) } });
    const send = () => short.graphql(QUERY, undefined, { token: short.tokens.read });
    try {
      const first = await send();
      expect(first.status).toBe(200);
      expect(limitHeaders(first.headers)).toMatchObject({ quota: '1', left: '0', resetMs: 1_000 });
      now += 400;
      const second = await send();
      expect(second.status).toBe(429);
      expect(limitHeaders(second.headers).resetMs).toBe(600);
      now += 599;
      expect((await send()).status).toBe(429);
      now += 1;
      const later = await send();
      expect(later.status).toBe(200);
      expect(limitHeaders(later.headers)).toMatchObject({ quota: '1', left: '0', resetMs: 1_000 });
    } finally {
      await short.close();
    }
  });
});

describe('charged by cost', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ rateLimit: { requests: 10, windowMs: 3_600_000, store: new MemoryRateLimitStore() } });
  });
  afterAll(() => server.close());

  const left = (response: { headers: Headers }) => Number(response.headers.get('x-rate-limit-requests-left'));

  it('a request uses one request of the quota per 100 points of its cost, at least one', async () => {
    const token = server.tokens.read;
    expect(left(await server.graphql(QUERY, undefined, { token }))).toBe(9);
    // 1 + 100 customers x (the customer and its form fields) = 201 points: 3 requests
    const page = await server.graphql('query ($n: Int) { customers(first: $n) { edges { node { id formFields { name } } } } }', { n: 100 }, { token });
    expect(page.status).toBe(200);
    expect(left(page)).toBe(6);
    // the same with the page size left out: 1 + 20 x 2 = 41 points, one request
    expect(left(await server.graphql('{ customers { edges { node { id formFields { name } } } } }', undefined, { token }))).toBe(5);
    // 1 + 100 x (1 + 1 + 20 x 2) = 4,201 points: 43 requests, more than are left
    const heavy = await server.graphql(
      'query ($n: Int) { customers(first: $n) { edges { node { id history { edges { node { version changes { field } } } } } } } }',
      { n: 100 },
      { token },
    );
    expect(heavy.status).toBe(429);
    expect(heavy.body.data ?? null).toBeNull();
    expect(heavy.body.errors![0]!.extensions!.code).toBe('RATE_LIMITED');
    expect(limitHeaders(heavy.headers)).toMatchObject({ quota: '10', left: '0' });
  });
});

describe('anonymous and refused-token requests, by client address', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.close());

  /** A server of its own (so its own counters) allowing 3 requests per address without a valid token. */
  async function withServer(options: { trustProxy?: boolean | number }, test: (server: TestServer) => Promise<void>) {
    const server = await startTestServer({
      database,
      rateLimit: { requests: 100, anonymousRequests: 3, windowMs: 3_600_000, store: new MemoryRateLimitStore() },
      ...options,
    });
    try {
      await test(server);
    } finally {
      await server.close();
    }
  }
  const anonymous = (server: TestServer, headers: Record<string, string> = {}) => server.graphql(QUERY, undefined, { token: null, headers });

  it('counts requests without a token by address, then answers 429 RATE_LIMITED with the headers', async () => {
    await withServer({}, async (server) => {
      const lefts = [];
      for (let i = 0; i < 3; i++) {
        const response = await anonymous(server);
        expect(response.status).toBe(200);
        lefts.push(limitHeaders(response.headers).left);
      }
      expect(lefts).toEqual(['2', '1', '0']);
      const limited = await anonymous(server);
      expect(limited.status).toBe(429);
      expect(limited.body.errors![0]!.extensions!.code).toBe('RATE_LIMITED');
      expect(limitHeaders(limited.headers)).toMatchObject({ quota: '3', left: '0' });
      expect(limitHeaders(limited.headers).resetMs).toBeGreaterThan(0);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    });
  });

  it('throttles a flood of bad tokens, while a valid token from the same address goes on', async () => {
    await withServer({}, async (server) => {
      const bad = () => server.graphql(QUERY, undefined, { token: 'cgw_not-a-real-token' });
      for (const expected of ['2', '1', '0']) {
        const refused = await bad();
        expect(refused.status).toBe(401);
        expect(refused.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
        expect(limitHeaders(refused.headers).left).toBe(expected);
      }
      for (let i = 0; i < 3; i++) {
        const limited = await bad();
        expect(limited.status).toBe(429);
        expect(limited.body.errors![0]!.extensions!.code).toBe('RATE_LIMITED');
      }
      expect((await anonymous(server)).status).toBe(429);
      const valid = await server.graphql(QUERY, undefined, { token: server.tokens.read });
      expect(valid.status).toBe(200);
      expect(limitHeaders(valid.headers)).toMatchObject({ quota: '100', left: '99' });
    });
  });

  it('ignores X-Forwarded-For unless TRUST_PROXY says so', async () => {
    await withServer({}, async (server) => {
      for (let i = 1; i <= 3; i++) expect((await anonymous(server, { 'x-forwarded-for': `203.0.113.${i}` })).status).toBe(200);
      expect((await anonymous(server, { 'x-forwarded-for': '203.0.113.9' })).status).toBe(429);
    });
  });

  it('with TRUST_PROXY=true, counts the left-most X-Forwarded-For address (IPv6 by its /64)', async () => {
    await withServer({ trustProxy: true }, async (server) => {
      for (let i = 0; i < 3; i++) expect((await anonymous(server, { 'x-forwarded-for': '198.51.100.7, 10.0.0.1' })).status).toBe(200);
      expect((await anonymous(server, { 'x-forwarded-for': '198.51.100.7' })).status).toBe(429);
      const other = await anonymous(server, { 'x-forwarded-for': '198.51.100.8' });
      expect(other.status).toBe(200);
      expect(limitHeaders(other.headers).left).toBe('2');
      for (const address of ['2001:db8:1:2::1', '2001:db8:1:2:ffff::9', '2001:0db8:0001:0002::7']) {
        expect((await anonymous(server, { 'x-forwarded-for': address })).status).toBe(200);
      }
      expect((await anonymous(server, { 'x-forwarded-for': '2001:db8:1:2::abcd' })).status).toBe(429);
      expect((await anonymous(server, { 'x-forwarded-for': '2001:db8:1:3::1' })).status).toBe(200);
    });
  });

  it('with TRUST_PROXY=1 (one proxy that appends), counts the address that proxy saw, whatever the client wrote before it', async () => {
    await withServer({ trustProxy: 1 }, async (server) => {
      for (let i = 1; i <= 3; i++) {
        expect((await anonymous(server, { 'x-forwarded-for': `192.0.2.${i}, 203.0.113.5` })).status).toBe(200);
      }
      expect((await anonymous(server, { 'x-forwarded-for': '192.0.2.99, 203.0.113.5' })).status).toBe(429);
      expect((await anonymous(server, { 'x-forwarded-for': '203.0.113.6' })).status).toBe(200);
    });
  });
});

describe('per-token rate limit in PostgreSQL, shared by replicas', () => {
  let database: TestDatabase;
  let replicas: TestServer[];
  let secondPool: Database;
  let ownStore: PostgresRateLimitStore;
  beforeAll(async () => {
    database = await createTestDatabase();
    // Two replicas: each its own server, pool and store object; one database between them.
    secondPool = createDatabase({ connectionString: database.url, poolSize: 3 });
    // The first replica counts through the application's pool, the second through a store with
    // a pool of its own, as `npm start` sets it up (RATE_LIMIT_STORE=postgres).
    ownStore = PostgresRateLimitStore.open(database.url);
    replicas = [
      await startTestServer({ database, rateLimit: { requests: 4, windowMs: 60_000, store: new PostgresRateLimitStore(databasePool(database.db)) } }),
      await startTestServer({ database: { ...database, db: secondPool }, rateLimit: { requests: 4, windowMs: 60_000, store: ownStore } }),
    ];
  });
  afterAll(async () => {
    for (const replica of replicas) await replica.close();
    await secondPool.$disconnect();
    await ownStore.close();
    await database.close();
  });

  it('counts one token across replicas: the fifth request is refused wherever it lands', async () => {
    const token = replicas[0]!.tokens.write;
    const lefts = [];
    for (let i = 0; i < 4; i++) {
      const response = await replicas[i % 2]!.graphql(QUERY, undefined, { token });
      expect(response.status).toBe(200);
      lefts.push(response.headers.get('x-rate-limit-requests-left'));
    }
    expect(lefts).toEqual(['3', '2', '1', '0']);
    for (const replica of replicas) {
      const response = await replica.graphql(QUERY, undefined, { token });
      expect(response.status).toBe(429);
      expect(response.body.errors![0]!.extensions!.code).toBe('RATE_LIMITED');
    }
    const { rows } = await database.sql.query('SELECT bucket, count FROM rate_limit_windows');
    expect(rows).toContainEqual({ bucket: expect.stringMatching(/^token:\d+$/), count: 6 });
  });

  it('counts a request that costs several as several, in one statement', async () => {
    const store = new PostgresRateLimitStore(databasePool(database.db));
    expect((await store.hit('token:weighted', 3_600_000, 5)).count).toBe(5);
    expect((await store.hit('token:weighted', 3_600_000)).count).toBe(6);
  });

  it('prunes windows that are over', async () => {
    const store = new PostgresRateLimitStore(databasePool(database.db));
    await database.sql.query(`INSERT INTO rate_limit_windows (bucket, window_start, count) VALUES ('token:old', now() - interval '1 hour', 9)`);
    const hit = await store.hit('token:fresh', 1_000);
    expect(hit.count).toBe(1);
    expect(hit.resetMs).toBeGreaterThan(0);
    expect(hit.resetMs).toBeLessThanOrEqual(1_000);
    await waitFor(async () => (await database.sql.query(`SELECT 1 FROM rate_limit_windows WHERE bucket = 'token:old'`)).rowCount === 0, {
      what: 'the window that is over to be pruned',
    });
  });
});
