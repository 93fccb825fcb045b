/**
 * Webhook delivery under faults, end to end: two gateway processes share one database and its
 * deliveries; updates go through both; one gateway is killed with SIGKILL while attempts are in
 * flight, and the database is stopped and started again once. The receiver is a real HTTP
 * server that verifies every signature with the `standardwebhooks` library, and answers some
 * attempts 500 and leaves others without an answer until the sender times out. Afterwards every
 * committed event must have been delivered, each customer's versions in order with no gap, any
 * duplicate with the same webhook-id, and nothing for a write that rolled back.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/domain/tokens.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/infra/database/embedded-postgres.ts';
import { applyMigrations } from '../../src/infra/database/migrate.ts';
import { createDatabase } from '../../src/infra/database/prisma.ts';
import { startGateway, stopGateways, type GatewayProcess } from '../support/processes.ts';
import { startWebhookReceiver, type ReceivedDelivery, type WebhookReceiver } from '../support/webhook-receiver.ts';
import { waitFor } from '../support/wait-for.ts';

const SETTINGS = { fsync: 'off', full_page_writes: 'off' };
const CUSTOMERS = 8;
const UPDATES = 240;
const ROLLED_BACK = 'rolled-back';
/** Shortened so retries and lost leases resolve within the test; the order of the schedule is kept. */
const GATEWAY_ENV = {
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
  WEBHOOK_RETRY_SCHEDULE: '0.1,0.2,0.4,0.8,1,1,2,2,2,2',
  WEBHOOK_TIMEOUT_MS: '400',
  EVENTS_POLL_MS: '250',
};

let folder: string;
let postgres: EmbeddedPostgres | undefined;
let url: string;
let port: number;
let sql: pg.Pool;
let token: string;
let receiver: WebhookReceiver;
let attemptNumber = 0;

beforeAll(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'cgw-webhook-faults-'));
  await chmod(folder, 0o755);
  postgres = await startEmbeddedPostgres({ dataDir: path.join(folder, 'pg'), settings: SETTINGS });
  url = postgres.connectionString();
  port = postgres.port;
  await applyMigrations(url);
  sql = new pg.Pool({ connectionString: url, max: 2 });
  sql.on('error', () => {});
  const db = createDatabase({ connectionString: url, poolSize: 1 });
  try {
    token = (await createToken(db, 'webhook-faults', ['customers:write', 'webhooks:manage'])).secret;
  } finally {
    await db.$disconnect();
  }
  // Every 7th attempt refused, every 11th left unanswered (the sender times out): retried.
  receiver = await startWebhookReceiver(() => {
    attemptNumber += 1;
    if (attemptNumber % 11 === 0) return 'hang';
    if (attemptNumber % 7 === 0) return 500;
    return 204;
  });
});

afterAll(async () => {
  await stopGateways();
  await receiver?.close();
  await sql?.end().catch(() => {});
  await postgres?.stop();
  if (folder) await rm(folder, { recursive: true, force: true });
});

const CREATE_ENDPOINT = /* GraphQL */ `
  mutation ($url: URL!) { createWebhookEndpoint(input: { url: $url }) { endpoint { id } secret errors { code message } } }
`;
const CREATE = /* GraphQL */ `
  mutation ($input: CreateCustomerInput!) { createCustomer(input: $input) { customer { id } errors { __typename } } }
`;
const UPDATE = /* GraphQL */ `
  mutation ($id: ID!, $notes: String) { updateCustomer(id: $id, input: { notes: $notes }) { customer { version } errors { __typename } } }
`;

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

describe('webhook delivery under faults', () => {
  it('delivers every committed event, in order per customer, through a SIGKILL and a database restart', async () => {
    const a = await startGateway({ databaseUrl: url, token, env: GATEWAY_ENV });
    let b: GatewayProcess | null = await startGateway({ databaseUrl: url, token, env: GATEWAY_ENV });
    const registered = await a.graphql(CREATE_ENDPOINT, { url: receiver.url });
    const { endpoint, secret, errors } = registered.body.data.createWebhookEndpoint;
    expect(errors).toEqual([]);
    receiver.setSecret(secret);

    const customerIds: string[] = [];
    for (let n = 0; n < CUSTOMERS; n++) {
      const made = await a.graphql(CREATE, { input: { firstName: 'Fault', lastName: `Hook ${n}`, email: `fault.hook.${n}@example.com` } });
      expect(made.body?.data?.createCustomer?.customer, made.text).toBeTruthy();
      customerIds.push(made.body.data.createCustomer.customer.id);
    }
    // A write that takes its history id and rolls back: no event may come of it.
    const client = await sql.connect();
    await client.query('BEGIN');
    await client.query("UPDATE customers SET notes = $2, version = version + 1 WHERE id = $1", [customerIds[0], ROLLED_BACK]);
    await client.query(
      `INSERT INTO customer_changes (customer_id, version, actor, changes)
       SELECT id, version, 'test', jsonb_build_array(jsonb_build_object('field', 'notes', 'from', null, 'to', $2::text)) FROM customers WHERE id = $1`,
      [customerIds[0], ROLLED_BACK],
    );
    await client.query('ROLLBACK');
    client.release();

    // Four clients, each update to the next customer through the next live gateway; a refused
    // update (the database is down) is not retried: it simply made no event.
    let sent = 0;
    let killed = false;
    let restarted = false;
    const gateways = () => (b ? [a, b] : [a]);
    const clients = Array.from({ length: 4 }, async () => {
      while (sent < UPDATES) {
        const n = sent++;
        const target = gateways()[n % gateways().length]!;
        await target.graphql(UPDATE, { id: customerIds[n % CUSTOMERS], notes: `update-${n}` }, { timeoutMs: 10_000 });
      }
    });

    // SIGKILL the second gateway once deliveries are under way and attempts are in flight.
    await waitFor(() => receiver.received.length >= 40, { what: 'deliveries to be under way', timeoutMs: 30_000 });
    await waitFor(
      async () => (await sql.query("SELECT count(*)::int AS n FROM webhook_deliveries WHERE locked_until > now()")).rows[0].n > 0,
      { intervalMs: 5, what: 'attempts in flight' },
    );
    b!.child.kill('SIGKILL');
    await new Promise((resolve) => (b!.alive() ? b!.child.once('exit', resolve) : resolve(undefined)));
    b = null;
    killed = true;

    // Stop the database and start it again while updates and deliveries go on.
    await waitFor(() => sent >= (UPDATES * 2) / 3, { what: 'two thirds of the updates', timeoutMs: 60_000 });
    await postgres!.stop();
    postgres = await startEmbeddedPostgres({ dataDir: path.join(folder, 'pg'), settings: SETTINGS, port });
    restarted = true;
    await Promise.all(clients);

    // Every committed event delivered: nothing pending, and each event id seen answered 2xx.
    await waitFor(
      async () => {
        const pending = (await sql.query("SELECT count(*)::int AS n FROM webhook_deliveries WHERE status <> 'delivered'")).rows[0].n;
        const delivered = new Set(receiver.delivered().map((delivery) => delivery.webhookId));
        const { rows: all } = await sql.query<{ id: string }>('SELECT id::text FROM customer_changes');
        return pending === 0 && all.every((event) => delivered.has(event.id));
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'every committed event to be delivered' },
    );
    const { rows: committed } = await sql.query<{ id: string; customer_id: number; version: number; at: Date }>(
      'SELECT id::text, customer_id, version, at FROM customer_changes ORDER BY id',
    );
    expect(committed.length).toBeGreaterThan(CUSTOMERS + UPDATES / 2);

    const attempts = receiver.received;
    const delivered = receiver.delivered();
    // every delivery signed correctly
    expect(attempts.filter((attempt) => !attempt.verified)).toEqual([]);
    // nothing for the write that rolled back
    expect(attempts.filter((attempt) => JSON.stringify(attempt.body).includes(ROLLED_BACK))).toEqual([]);
    // every committed event delivered, and no delivery that is not a committed event
    const deliveredIds = new Set(delivered.map((delivery) => delivery.webhookId));
    expect(committed.filter((event) => !deliveredIds.has(event.id))).toEqual([]);
    const committedIds = new Set(committed.map((event) => event.id));
    expect(attempts.filter((attempt) => !committedIds.has(attempt.webhookId))).toEqual([]);
    // a duplicate is the same event: same webhook-id, same body
    const bodies = new Map<string, string>();
    for (const attempt of attempts) {
      const body = JSON.stringify(attempt.body);
      expect(bodies.get(attempt.webhookId) ?? body).toBe(body);
      bodies.set(attempt.webhookId, body);
      expect(attempt.webhookId).toBe(attempt.body.data.eventId);
    }
    // per customer: delivered versions 1, 2, 3... in order, and no version tried before the one
    // before it was delivered
    for (const customerId of customerIds) {
      const mine = attempts.filter((attempt) => attempt.body.data.customerId === customerId);
      const firstDelivered = new Map<number, ReceivedDelivery>();
      for (const attempt of mine) {
        if (attempt.answered !== null && attempt.answered < 300 && !firstDelivered.has(attempt.body.data.version)) {
          firstDelivered.set(attempt.body.data.version, attempt);
        }
      }
      const versions = [...firstDelivered.keys()];
      expect(versions).toEqual(versions.map((_, index) => index + 1));
      for (const attempt of mine) {
        const previous = firstDelivered.get(attempt.body.data.version - 1);
        if (attempt.body.data.version > 1) expect(previous && previous.receivedAt <= attempt.receivedAt, `customer ${customerId} v${attempt.body.data.version}`).toBe(true);
      }
    }

    const duplicates = delivered.length - deliveredIds.size;
    const commitTimes = new Map(committed.map((event) => [event.id, new Date(event.at).getTime()]));
    const firstAttempt = new Map<string, number>();
    for (const attempt of attempts) if (!firstAttempt.has(attempt.webhookId)) firstAttempt.set(attempt.webhookId, attempt.receivedAt);
    const latencies = [...firstAttempt].map(([id, at]) => at - commitTimes.get(id)!);
    console.log(
      `[webhook-faults] ${committed.length} events committed (${CUSTOMERS} creations, ${committed.length - CUSTOMERS} updates of ${UPDATES} sent), ` +
        `${attempts.length} attempts received, ${delivered.length} answered 2xx, ${duplicates} duplicate deliveries, ` +
        `${attempts.filter((attempt) => attempt.answered === 500).length} refused with 500, ${attempts.filter((attempt) => attempt.answered === null).length} left unanswered; ` +
        `commit to first attempt p50 ${Math.round(percentile(latencies, 50))} ms, p95 ${Math.round(percentile(latencies, 95))} ms, max ${Math.round(Math.max(...latencies))} ms ` +
        `(gateway killed: ${killed}, database restarted: ${restarted}, endpoint ${endpoint.id})`,
    );
    expect(a.alive(), a.output().slice(-3000)).toBe(true);
  }, 180_000);
});
