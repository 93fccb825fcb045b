/**
 * Read replicas against a real streaming standby of the test cluster that applies each commit
 * 2 s late (recovery_min_apply_delay): queries read from it and writes stay on the primary; a
 * token reads its own write at once while another token still reads the standby's older state;
 * a standby that stops hands its reads to the primary, said once, and takes them back when it
 * answers again. Which server answered is read from the standby's own pg_stat_statements. The
 * routing counts are printed at the end.
 */
import { createClient } from 'graphql-sse';
import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createToken } from '../../src/domain/tokens.ts';
import { createMetricsRegistry } from '../../src/http/metrics.ts';
import { ReadReplicas } from '../../src/infra/database/read-replicas.ts';
import { insertCustomer, updateCustomer } from '../support/customers.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { canMakeStandby, startStandby, type Standby } from '../support/standby.ts';
import { waitFor } from '../support/wait-for.ts';

const DELAY_MS = 2_000;
const CUSTOMER = 'query ($id: ID!) { customer(id: $id) { id firstName version formFields { name } } }';
const HISTORY = 'query ($id: ID!) { customer(id: $id) { version history(first: 1) { edges { node { version } } } } }';
const LIST = 'query ($email: String) { customers(first: 5, filter: { email: $email }) { edges { node { id firstName version } } } }';

/** Without a local data folder (TEST_DATABASE_URL), there is nothing to copy a standby from. */
const available = await canMakeStandby(inject('adminUrl'));

let database: TestDatabase;
let standby: Standby;
let replicas: ReadReplicas;
let server: TestServer;
/** The test's own view of the standby, for checks that must not go through the gateway. */
let onStandby: pg.Pool;
const metrics = createMetricsRegistry();
const said: string[] = [];
/** Requests by who answered them, for the closing figures. */
const answered = { standby: 0, primary: 0 };

type Served = 'standby' | 'primary';

/** Calls of the gateway's read statements on the standby, from its pg_stat_statements; null while it is down. */
async function standbyReads(): Promise<number | null> {
  const result = await onStandby.query<{ calls: string }>(
    `SELECT coalesce(sum(calls), 0) AS calls FROM pg_stat_statements
      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND (query LIKE '%FROM customers WHERE id = $1%' OR query LIKE '%CROSS JOIN LATERAL%' OR query LIKE '%"public"."customers"%')
        AND query NOT LIKE '%observed%'`,
  ).catch(() => null);
  return result && Number(result.rows[0]!.calls);
}

/** Runs one GraphQL request and says which server its reads ran on. */
async function served<T>(query: string, variables: Record<string, unknown>, token: string, through = server): Promise<{ data: T; by: Served }> {
  const before = await standbyReads();
  const response = await through.graphql<T>(query, variables, { token });
  expect(response.body.errors, response.text).toBeUndefined();
  const after = await standbyReads();
  // A standby that cannot be asked answered nothing.
  const by: Served = before !== null && after !== null && after > before ? 'standby' : 'primary';
  answered[by] += 1;
  return { data: response.body.data!, by };
}

async function versionOnStandby(id: string): Promise<number | undefined> {
  const { rows } = await onStandby.query<{ observed: number }>('SELECT version AS observed FROM customers WHERE id = $1', [Number(id)]);
  return rows[0]?.observed;
}

describe.skipIf(!available)('read replicas on a streaming standby', () => {
  let reader: string;
  let writer: string;
  let customer: { id: string; email: string };

  beforeAll(async () => {
    database = await createTestDatabase();
    // Created on the primary, so the standby has it too; counting needs it loaded there only.
    await database.sql.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    standby = await startStandby(inject('adminUrl'), {
      recovery_min_apply_delay: `${DELAY_MS}ms`,
      shared_preload_libraries: 'pg_stat_statements',
    });
    onStandby = new pg.Pool({ connectionString: standby.url(database.name), max: 2, application_name: 'test-observer' });
    onStandby.on('error', () => {}); // its connections end with the standby, in the last test
    replicas = new ReadReplicas(database.db, {
      urls: [standby.url(database.name)],
      poolSize: 3,
      statementTimeoutMs: 5_000,
      onUnavailable: (name) => said.push(`unavailable ${name}`),
      onAvailable: (name) => said.push(`available ${name}`),
      onNotStandby: (name) => said.push(`not a standby ${name}`),
    });
    server = await startTestServer({ database, readReplicas: replicas, metrics });
    reader = server.tokens.read;
    writer = server.tokens.write;
    customer = await insertCustomer(server, { first_name: 'First' });
  });

  afterAll(async () => {
    await server?.close();
    await replicas?.close();
    await onStandby?.end();
    await standby?.remove();
    await database?.close();
    if (replicas) {
      console.log(
        `read routing: ${JSON.stringify(replicas.counts)}; requests answered by the standby ${answered.standby}, by the primary ${answered.primary}; said: ${JSON.stringify(said)}`,
      );
    }
  });

  it('queries read from the standby once it has what the gateway found at start; its connections say customer-gateway-replica', async () => {
    // 2 s of delay and more: the standby first replays the customer and the tokens.
    await waitFor(async () => {
      const { data, by } = await served<{ customer: { id: string } | null }>(CUSTOMER, { id: customer.id }, reader);
      return by === 'standby' && data.customer?.id === customer.id;
    }, { timeoutMs: 20_000, intervalMs: 100, what: 'a read answered by the standby' });

    for (let i = 0; i < 10; i++) {
      expect((await served(CUSTOMER, { id: customer.id }, reader)).by).toBe('standby');
      expect((await served(LIST, { email: customer.email }, reader)).by).toBe('standby');
      expect((await served(HISTORY, { id: customer.id }, reader)).by).toBe('standby');
    }
    const { rows } = await onStandby.query<{ application_name: string }>(
      'SELECT DISTINCT application_name FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    expect(rows.map((row) => row.application_name)).toContain('customer-gateway-replica');
    const scraped = await metrics.metrics();
    expect(scraped).toMatch(/^db_read_routes_total\{route="replica"\} [1-9]\d*$/m);
    expect(scraped).toMatch(/^db_read_replica_lag_seconds\{replica="127\.0\.0\.1:\d+\/cgw_test_\w+"\} \d/m);
  });

  it('a token reads its own write at once, never older, while another token still reads the standby\'s older state', async () => {
    const written = await updateCustomer(server, customer.id, { firstName: 'Second' }, { token: writer });
    expect(written.customer).toMatchObject({ firstName: 'Second', version: 2 });
    // The standby has not applied the write yet...
    expect(await versionOnStandby(customer.id)).toBe(1);
    // ...so the writer's read comes from the primary,
    const own = await served<{ customer: { firstName: string; version: number } }>(CUSTOMER, { id: customer.id }, writer);
    expect(own).toMatchObject({ by: 'primary', data: { customer: { firstName: 'Second', version: 2 } } });
    // and another token's read from the standby, a version behind.
    const other = await served<{ customer: { firstName: string; version: number } }>(CUSTOMER, { id: customer.id }, reader);
    expect(other).toMatchObject({ by: 'standby', data: { customer: { firstName: 'First', version: 1 } } });

    // The writer reads on, by id, in a list and through history, until the standby has the write:
    // every answer holds version 2, whoever gives it.
    const started = performance.now();
    const writerReads = { primary: 0, standby: 0 };
    let last: Served = 'primary';
    while (last === 'primary') {
      const byId = await served<{ customer: { version: number } }>(CUSTOMER, { id: customer.id }, writer);
      expect(byId.data.customer.version).toBe(2);
      const list = await served<{ customers: { edges: Array<{ node: { version: number } }> } }>(LIST, { email: customer.email }, writer);
      expect(list.data.customers.edges[0]!.node.version).toBe(2);
      const history = await served<{ customer: { history: { edges: Array<{ node: { version: number } }> } } }>(HISTORY, { id: customer.id }, writer);
      expect(history.data.customer.history.edges[0]!.node.version).toBe(2);
      for (const by of [byId.by, list.by, history.by]) writerReads[by] += 1;
      last = history.by;
      expect(performance.now() - started, 'the writer never came back to the standby').toBeLessThan(15_000);
    }
    const switchedAfterMs = Math.round(performance.now() - started);
    console.log(`read-your-writes: the writer read ${writerReads.primary} times from the primary, then the standby after ${switchedAfterMs} ms (apply delay ${DELAY_MS} ms)`);
    // Not before the standby applied the write.
    expect(await versionOnStandby(customer.id)).toBe(2);
    expect(switchedAfterMs).toBeGreaterThan(DELAY_MS / 2);
  });

  it('a token that only read keeps reading the standby; one that writes goes to the primary for its next read, whatever token wrote last', async () => {
    const second = (await createToken(database.db, 'second-writer', ['customers:write'])).secret;
    await updateCustomer(server, customer.id, { firstName: 'Third' }, { token: second });
    // The reader was not given version 3: it may read the standby's older state.
    expect((await served(CUSTOMER, { id: customer.id }, reader)).by).toBe('standby');
    const own = await served<{ customer: { version: number } }>(CUSTOMER, { id: customer.id }, second);
    expect(own).toMatchObject({ by: 'primary', data: { customer: { version: 3 } } });
  });

  it('an event of the live feed counts as given: the subscriber\'s next read has at least its version', async () => {
    const listener = (await createToken(database.db, 'feed-reader', ['customers:read'])).secret;
    await waitFor(async () => (await served(CUSTOMER, { id: customer.id }, listener)).by === 'standby', {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: 'the listener to read from the standby',
    });
    let started!: () => void;
    const streaming = new Promise<void>((resolve) => (started = resolve));
    const versions: number[] = [];
    const client = createClient({
      url: `${server.url}/graphql`,
      headers: { 'x-auth-token': listener },
      retryAttempts: 0,
      fetchFn: async (input: RequestInfo | URL, init?: RequestInit) => {
        const response = await fetch(input, init);
        started();
        return response;
      },
    });
    const unsubscribe = client.subscribe<{ customerChanges: { change: { version: number } } }>(
      { query: 'subscription ($id: ID) { customerChanges(customerId: $id) { change { version } } }', variables: { id: customer.id } },
      { next: (result) => versions.push(result.data!.customerChanges.change.version), error: () => {}, complete: () => {} },
    );
    try {
      await streaming;
      const written = await updateCustomer(server, customer.id, { firstName: 'Fourth' }, { token: writer });
      const version = written.customer!.version as number;
      await waitFor(() => versions.includes(version), { what: `the event of version ${version}` });
      const read = await served<{ customer: { version: number } }>(CUSTOMER, { id: customer.id }, listener);
      expect(read).toMatchObject({ by: 'primary', data: { customer: { version } } });
    } finally {
      unsubscribe();
      client.dispose();
    }
  });

  it('several standby URLs take reads in turn; one that is down leaves its share to the others, not to the primary', async () => {
    // Two pools on the one standby, told apart by their application names, and a URL where
    // nothing listens between them.
    const named = (application: string) => {
      const url = new URL(standby.url(database.name));
      url.searchParams.set('application_name', application);
      return url.toString();
    };
    const closedPort = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const down: string[] = [];
    const several = new ReadReplicas(database.db, {
      urls: [named('replica-a'), `postgresql://postgres@127.0.0.1:${closedPort}/${database.name}`, named('replica-b')],
      poolSize: 2,
      statementTimeoutMs: 5_000,
      onUnavailable: (name) => down.push(name),
    });
    const spread = await startTestServer({ database, readReplicas: several });
    try {
      // A token keeps to the standby it read from while it reads on; the turn is taken per
      // token's first read. Six readers, two reads each.
      const readers = await Promise.all(Array.from({ length: 6 }, async (_, i) => (await createToken(database.db, `spread-${i}`, ['customers:read'])).secret));
      await waitFor(async () => (await served(CUSTOMER, { id: customer.id }, readers[0]!, spread)).by === 'standby', {
        timeoutMs: 20_000,
        intervalMs: 100,
        what: 'the first read answered by a standby',
      });
      // Before the first probes answer, no replica is up yet: reads until then went to the primary.
      const { ...before } = several.counts;
      for (const reader of readers) {
        for (let i = 0; i < 2; i++) expect((await served(CUSTOMER, { id: customer.id }, reader, spread)).by).toBe('standby');
      }
      const { rows } = await onStandby.query<{ application_name: string; connections: string }>(
        // Connections of a pool that served reads (their last statement, a customer's form
        // fields here); the replica's probe last ran its position query.
        `SELECT application_name, count(*) AS connections FROM pg_stat_activity
          WHERE datname = current_database() AND application_name LIKE 'replica-%' AND query <> '' AND query NOT LIKE '%pg_last_wal_replay_lsn%'
          GROUP BY 1 ORDER BY 1`,
      );
      expect(rows.map((row) => row.application_name)).toEqual(['replica-a', 'replica-b']);
      expect(several.counts).toEqual({ ...before, replica: before.replica + readers.length * 2 });
      expect(down).toEqual([`127.0.0.1:${closedPort}/${database.name}`]);
      console.log(`several standbys: ${JSON.stringify(several.counts)}; connections ${JSON.stringify(rows)}; down ${JSON.stringify(down)}`);
    } finally {
      await spread.close();
      await several.close();
    }
  });

  it('a stopped standby: reads go to the primary and nothing fails, said once; when it is back, they return to it', async () => {
    await standby.stop();
    for (let i = 0; i < 5; i++) {
      const { data, by } = await served<{ customer: { id: string } }>(CUSTOMER, { id: customer.id }, reader);
      expect(data.customer.id).toBe(customer.id);
      expect(by).toBe('primary');
    }
    // The reads above may all have gone to the primary before the probe noticed the stop.
    await waitFor(() => said.some((line) => line.startsWith('unavailable')), { what: 'the stop to be logged' });
    expect(said.filter((line) => line.startsWith('unavailable'))).toHaveLength(1);
    expect(replicas.counts.fallback + replicas.counts.primaryUnavailable).toBeGreaterThanOrEqual(5);

    await standby.start();
    await waitFor(() => said.some((line) => line.startsWith('available')), { timeoutMs: 10_000, what: 'the standby to answer again' });
    await waitFor(async () => (await served(CUSTOMER, { id: customer.id }, reader)).by === 'standby', {
      timeoutMs: 20_000,
      intervalMs: 100,
      what: 'reads to return to the standby',
    });
    expect(said.filter((line) => line.startsWith('unavailable'))).toHaveLength(1);
  });
});
