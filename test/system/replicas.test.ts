/**
 * Three gateway processes through one PgBouncer (transaction mode, `pgbouncer=true`), as a
 * scaled-out service runs: writers with `expectedVersion` lose nothing, idempotent retries sent
 * to different replicas write once, a revoked token is refused everywhere, webhooks go out once,
 * the shared rate limit holds across replicas, the statement timeout holds through PgBouncer,
 * and PgBouncer killed and restarted under load costs 503s for the gap and nothing else.
 * Real processes, real HTTP, real PostgreSQL; each test prints its figures.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createToken, revokeToken } from '../../src/domain/tokens.ts';
import { historyProblems, missingAcknowledged, type Acknowledged } from '../support/consistency.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { PGBOUNCER_MISSING, requirePgBouncer, startPgBouncer, type PgBouncer } from '../support/pgbouncer.ts';
import { startGateway, stopGateways, type GatewayProcess, type HttpResult } from '../support/processes.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';
import { waitFor } from '../support/wait-for.ts';
import { seedCustomerWithHistory } from '../support/customers.ts';

const REPLICAS = 3;
/** Per token and window, counted by all replicas together in PostgreSQL. */
const QUOTA = 120;
/** Set by PgBouncer on its server connections, and expected by the gateways. */
const STATEMENT_TIMEOUT_MS = 2_000;
const TOKEN_CACHE_TTL_MS = 30_000;
const GATEWAY_ENV = {
  RATE_LIMIT_STORE: 'postgres',
  RATE_LIMIT_REQUESTS: String(QUOTA),
  // One window for the whole test: a burst crossing a window's end would count twice.
  RATE_LIMIT_WINDOW_MS: '86400000',
  DATABASE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS),
  DATABASE_POOL_SIZE: '4',
  TOKEN_CACHE_TTL_MS: String(TOKEN_CACHE_TTL_MS),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  WEBHOOK_RETRY_SCHEDULE: '0.1,0.2,0.4',
  EVENTS_POLL_MS: '250',
};

const binary = requirePgBouncer();
if (!binary) console.warn(`[replicas] ${PGBOUNCER_MISSING}: skipped`);

let database: TestDatabase;
let bouncer: PgBouncer;
let receiver: WebhookReceiver;
let gateways: GatewayProcess[];
let writer: string;

/** Tokens of their own for each part, so that only the rate-limit test meets the quota. */
async function tokens(label: string, count: number, scopes = ['customers:write']): Promise<string[]> {
  return Promise.all(Array.from({ length: count }, async (_, n) => (await createToken(database.db, `${label}-${n}`, scopes)).secret));
}

const seedCustomer = (label: string) => seedCustomerWithHistory(database.sql, 'Replica', label);

/** Request n goes to replica n mod 3. */
const via = (n: number) => gateways[n % REPLICAS]!;

const READ = /* GraphQL */ `query Read($id: ID!) { customer(id: $id) { version } }`;
const UPDATE = /* GraphQL */ `
  mutation Update($id: ID!, $notes: String, $firstName: String, $expectedVersion: Int, $key: String) {
    updateCustomer(id: $id, input: { notes: $notes, firstName: $firstName }, expectedVersion: $expectedVersion, idempotencyKey: $key) {
      customer { id version notes firstName dateModified }
      errors { __typename ... on Error { code path } }
    }
  }
`;

function expectAnswered(result: HttpResult): void {
  expect(result.failure, 'every request gets an answer').toBeUndefined();
  expect(result.status, result.text).toBe(200);
  expect(result.body?.errors, result.text).toBeUndefined();
}

describe.skipIf(!binary)(`${REPLICAS} gateways through one PgBouncer`, () => {
  beforeAll(async () => {
    database = await createTestDatabase({ poolSize: 2 });
    bouncer = await startPgBouncer(inject('adminUrl'), { poolSize: 10, statementTimeoutMs: STATEMENT_TIMEOUT_MS });
    receiver = await startWebhookReceiver();
    writer = (await tokens('writer', 1, ['customers:write', 'webhooks:manage']))[0]!;
    gateways = await Promise.all(
      Array.from({ length: REPLICAS }, () =>
        startGateway({ databaseUrl: bouncer.url(database.name), directDatabaseUrl: database.url, token: writer, env: GATEWAY_ENV }),
      ),
    );
    const registered = await gateways[0]!.graphql(
      /* GraphQL */ `mutation ($url: URL!) { createWebhookEndpoint(input: { url: $url }) { secret errors { code } } }`,
      { url: receiver.url },
    );
    expect(registered.body?.data?.createWebhookEndpoint?.errors, registered.text).toEqual([]);
    receiver.setSecret(registered.body.data.createWebhookEndpoint.secret);
  }, 60_000);

  afterAll(async () => {
    await stopGateways();
    await receiver?.close();
    await bouncer?.stop();
    await database?.close();
  });

  it('the pools go through PgBouncer; LISTEN goes to PostgreSQL itself', async () => {
    const throughBouncer = (await bouncer.show('CLIENTS')).filter((client) => client.database === database.name);
    const names = new Set(throughBouncer.map((client) => client.application_name));
    const servers = (await bouncer.show('SERVERS')).filter((server) => server.database === database.name);
    const listening = async () =>
      (
        await database.sql.query<{ name: string; n: number }>(
          `SELECT application_name AS name, count(*)::int AS n FROM pg_stat_activity
            WHERE datname = $1 AND application_name LIKE 'customer-gateway-%' GROUP BY 1 ORDER BY 1`,
          [database.name],
        )
      ).rows;
    // A gateway answers before its events listener has connected: wait for all of them.
    const listeners = await waitFor(
      async () => {
        const rows = await listening();
        if (rows.length !== 2 || rows.some((row) => row.n !== REPLICAS)) throw new Error(JSON.stringify(rows));
        return rows;
      },
      { what: `${REPLICAS} listeners of each kind connected directly` },
    );
    console.log(
      `[replicas] connections: ${throughBouncer.length} clients of PgBouncer (${[...names].sort().join(', ')}) over ${servers.length} server connections; ` +
        `direct: ${listeners.map((row) => `${row.n} ${row.name}`).join(', ')}`,
    );
    expect(names).toEqual(new Set(['customer-gateway', 'customer-gateway rate limit']));
    expect(listeners).toEqual([
      { name: 'customer-gateway-events', n: REPLICAS },
      { name: 'customer-gateway-listener', n: REPLICAS },
    ]);
  });

  it('concurrent writers with expectedVersion, spread over the replicas, lose nothing', async () => {
    const id = String(await seedCustomer('versions'));
    const writers = await tokens('versioned', 24);
    let requests = 0;
    let conflicts = 0;
    const landed = await Promise.all(
      writers.map(async (token, client) => {
        const notes = `writer-${client}`;
        for (let attempt = 0; attempt < 200; attempt++) {
          const read = await via(requests++).graphql(READ, { id }, { token });
          expectAnswered(read);
          const expectedVersion: number = read.body.data.customer.version;
          const result = await via(requests++).graphql(UPDATE, { id, notes, expectedVersion }, { token });
          expectAnswered(result);
          const payload = result.body.data.updateCustomer;
          if (payload.errors.length === 0) return { notes, version: payload.customer.version as number };
          expect(payload.errors.map((error: { code: string }) => error.code)).toEqual(['VERSION_CONFLICT']);
          conflicts++;
          // A well-behaved client backs off with jitter before it reads again.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(400, 25 * 2 ** attempt)));
        }
        throw new Error(`writer ${client} never got its change in`);
      }),
    );
    const { rows: history } = await database.sql.query<{ version: number; changes: Array<{ to: unknown }> }>(
      'SELECT version, changes FROM customer_changes WHERE customer_id = $1 AND version > 1 ORDER BY version',
      [Number(id)],
    );
    const lost = landed.filter((write) => !history.some((row) => row.version === write.version && row.changes[0]?.to === write.notes));
    console.log(
      `[replicas] expectedVersion: ${writers.length} writers, ${requests} requests over ${REPLICAS} replicas through PgBouncer, ` +
        `${conflicts} conflicts retried, ${landed.length} writes acknowledged, ${history.length} recorded, lost ${lost.length}`,
    );
    expect(history.map((row) => row.version)).toEqual(Array.from({ length: writers.length }, (_, index) => index + 2));
    expect(lost).toEqual([]);
    expect(await historyProblems(database.sql)).toEqual([]);
  }, 60_000);

  it('idempotent retries sent to different replicas write once and get identical answers', async () => {
    const id = String(await seedCustomer('idempotent'));
    const key = `retry-${Date.now()}`;
    const send = (n: number) => via(n).graphql(UPDATE, { id, notes: 'written once', key });
    // A burst at once on every replica, then one late retry per replica.
    const burst = await Promise.all(Array.from({ length: 12 }, (_, n) => send(n)));
    const late = [];
    for (let n = 0; n < REPLICAS; n++) late.push(await send(n));
    const results = [...burst, ...late];
    for (const result of results) expectAnswered(result);
    const distinct = new Set(results.map((result) => JSON.stringify(result.body)));
    const { rows: history } = await database.sql.query('SELECT version FROM customer_changes WHERE customer_id = $1 ORDER BY version', [Number(id)]);
    console.log(`[replicas] idempotency: ${results.length} retries over ${REPLICAS} replicas, ${distinct.size} distinct answers, ${history.length - 1} writes`);
    expect(results[0]!.body.data.updateCustomer).toMatchObject({ customer: { id, version: 2, notes: 'written once' }, errors: [] });
    expect(distinct.size).toBe(1);
    expect(history).toEqual([{ version: 1 }, { version: 2 }]);
  });

  it('a revoked token is refused on every replica within the token cache\'s lifetime', async () => {
    const [secret] = await tokens('revoked', 1, ['customers:read']);
    const PING = /* GraphQL */ `{ __typename }`;
    // Cached on every replica first.
    for (const gateway of gateways) expectAnswered(await gateway.graphql(PING, {}, { token: secret }));
    const revokedAt = performance.now();
    expect(await revokeToken(database.db, 'revoked-0')).toBe(true);
    const refusedAfter = await Promise.all(
      gateways.map(async (gateway) => {
        await waitFor(async () => (await gateway.graphql(PING, {}, { token: secret })).status === 401, {
          timeoutMs: TOKEN_CACHE_TTL_MS + 5_000,
          what: 'the revoked token to be refused',
        });
        return Math.round(performance.now() - revokedAt);
      }),
    );
    console.log(`[replicas] revocation: refused on each replica after ${refusedAfter.join(', ')} ms (cache lifetime ${TOKEN_CACHE_TTL_MS} ms)`);
    for (const ms of refusedAfter) expect(ms).toBeLessThan(TOKEN_CACHE_TTL_MS);
  }, TOKEN_CACHE_TTL_MS + 15_000);

  it('the replicas together admit at most the quota (plus 5%) with RATE_LIMIT_STORE=postgres', async () => {
    const [secret] = await tokens('limited', 1, ['customers:read']);
    const tokenId = (await database.sql.query<{ id: number }>(`SELECT id FROM api_tokens WHERE name = 'limited-0'`)).rows[0]!.id;
    const PING = /* GraphQL */ `{ __typename }`;
    const statuses: number[] = [];
    let sent = 0;
    const total = QUOTA * REPLICAS;
    await Promise.all(
      Array.from({ length: 24 }, async () => {
        while (sent < total) statuses.push((await via(sent++).graphql(PING, {}, { token: secret })).status);
      }),
    );
    const admitted = statuses.filter((status) => status === 200).length;
    const { rows: windows } = await database.sql.query(`SELECT count FROM rate_limit_windows WHERE bucket = $1`, [`token:${tokenId}`]);
    console.log(
      `[replicas] rate limit: ${total} requests over ${REPLICAS} replicas, ${admitted} admitted against a quota of ${QUOTA} ` +
        `(${statuses.filter((status) => status === 429).length} refused with 429, ${windows.length} window)`,
    );
    expect(statuses.filter((status) => status !== 200 && status !== 429)).toEqual([]);
    expect(admitted).toBeGreaterThanOrEqual(QUOTA * windows.length);
    expect(admitted).toBeLessThanOrEqual(Math.floor(QUOTA * 1.05) * windows.length);
  });

  it('webhooks: every event delivered once, though every replica sends', async () => {
    const { rows: events } = await database.sql.query<{ id: string }>('SELECT id::text FROM customer_changes');
    await waitFor(() => events.every((event) => receiver.delivered().some((delivery) => delivery.webhookId === event.id)), {
      timeoutMs: 20_000,
      what: 'every event to be delivered',
    });
    const delivered = receiver.delivered();
    const ids = delivered.map((delivery) => delivery.webhookId);
    console.log(`[replicas] webhooks: ${events.length} events, ${delivered.length} deliveries, ${ids.length - new Set(ids).size} doubled`);
    expect(delivered.filter((delivery) => !delivery.verified)).toEqual([]);
    expect(ids.length).toBe(new Set(ids).size);
    expect(new Set(ids)).toEqual(new Set(events.map((event) => event.id)));
  }, 30_000);

  it('the statement timeout holds through PgBouncer: a write stuck on a lock answers a masked error', async () => {
    const id = await seedCustomer('locked');
    const locker = new pg.Client({ connectionString: database.url });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('SELECT 1 FROM customers WHERE id = $1 FOR UPDATE', [id]);
      const result = await via(0).graphql(UPDATE, { id: String(id), notes: 'waits' });
      console.log(`[replicas] statement timeout: a write waiting on a lock answered after ${Math.round(result.ms)} ms (timeout ${STATEMENT_TIMEOUT_MS} ms)`);
      expect(result.body?.errors?.map((error: { message: string }) => error.message), result.text).toEqual(['Unexpected error.']);
      expect(result.ms).toBeGreaterThanOrEqual(STATEMENT_TIMEOUT_MS - 100);
      expect(result.ms).toBeLessThan(STATEMENT_TIMEOUT_MS + 3_000);
    } finally {
      await locker.query('ROLLBACK').catch(() => {});
      await locker.end();
    }
  }, 20_000);

  it('PgBouncer killed and restarted under load: 503s for the gap, then 200s, no crash, no acknowledged write lost', async () => {
    const customers = await Promise.all(Array.from({ length: 6 }, (_, n) => seedCustomer(`load-${n}`)));
    // Many tokens, so that no load client meets the rate limit.
    const loadTokens = await tokens('load', 30);
    const answers: Array<{ at: number; replica: number; status: number; failure?: string | undefined }> = [];
    const acknowledged: Acknowledged[] = [];
    let sent = 0;
    let stop = false;
    const clients = customers.map(async (customerId, client) => {
      while (!stop) {
        const n = sent++;
        const firstName = `load-${client}-${n}`;
        const result = await via(n).graphql(UPDATE, { id: String(customerId), firstName }, { token: loadTokens[n % loadTokens.length], timeoutMs: 15_000 });
        answers.push({ at: performance.now(), replica: n % REPLICAS, status: result.status, failure: result.failure });
        const customer = result.body?.data?.updateCustomer?.customer;
        if (result.status === 200 && customer) acknowledged.push({ customerId, version: customer.version, field: 'firstName', value: firstName });
      }
    });
    const since = (at: number, status: number) => (replica: number) => answers.some((a) => a.at > at && a.replica === replica && a.status === status);
    const everyReplica = (check: (replica: number) => boolean) => gateways.every((_, replica) => check(replica));

    await waitFor(() => acknowledged.length >= 60, { timeoutMs: 30_000, what: 'writes to go through before the kill' });
    const killedAt = performance.now();
    await bouncer.kill();
    await waitFor(() => everyReplica(since(killedAt, 503)), { timeoutMs: 15_000, what: 'a 503 from every replica' });
    const restartedAt = performance.now();
    await bouncer.restart();
    await waitFor(() => everyReplica(since(restartedAt, 200)), { timeoutMs: 15_000, what: 'every replica to answer 200 again' });
    const ackedAfter = acknowledged.length;
    await waitFor(() => acknowledged.length >= ackedAfter + 60, { timeoutMs: 15_000, what: 'writes to go on after the restart' });
    stop = true;
    await Promise.all(clients);

    const unavailable = answers.filter((a) => a.status === 503);
    const lastFailure = Math.max(...unavailable.map((a) => a.at));
    const recovered = Math.min(...answers.filter((a) => a.status === 200 && a.at > restartedAt).map((a) => a.at));
    const missing = await missingAcknowledged(database.sql, acknowledged);
    console.log(
      `[replicas] PgBouncer kill: ${answers.length} writes sent over ${REPLICAS} replicas, ${acknowledged.length} acknowledged, ` +
        `${unavailable.length} answered 503 between ${Math.round(Math.min(...unavailable.map((a) => a.at)) - killedAt)} and ` +
        `${Math.round(lastFailure - killedAt)} ms after the kill; PgBouncer down ${Math.round(restartedAt - killedAt)} ms, ` +
        `first 200 ${Math.round(recovered - restartedAt)} ms after its restart (gap ${Math.round(recovered - killedAt)} ms); ` +
        `other answers: ${answers.filter((a) => a.status !== 200 && a.status !== 503).length}; acknowledged writes lost ${missing.length}`,
    );
    expect(answers.filter((a) => a.status !== 200 && a.status !== 503)).toEqual([]);
    expect(missing).toEqual([]);
    expect(await historyProblems(database.sql)).toEqual([]);
    for (const gateway of gateways) {
      expect(gateway.alive(), gateway.output().slice(-3000)).toBe(true);
      expect(gateway.output()).not.toMatch(/statement timeout through PgBouncer/);
    }
  }, 90_000);
});
