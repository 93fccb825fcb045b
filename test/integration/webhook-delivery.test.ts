/**
 * Webhook delivery as the contract pins it: Standard Webhooks headers and body, verified by the
 * `standardwebhooks` library; retries on the schedule, then FAILED; 410 disables the endpoint;
 * a customer's events in version order per endpoint, other customers never held up.
 */
import { ChangeFeed } from '../../src/domain/change-feed.ts';
import { createToken } from '../../src/domain/tokens.ts';
import { WebhookSender } from '../../src/domain/webhook-delivery.ts';
import { createMetricsRegistry } from '../../src/http/metrics.ts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';
import { startWebhookReceiver, type Answer, type ReceivedDelivery, type WebhookReceiver } from '../support/webhook-receiver.ts';
import { CREATE_CUSTOMER, UPDATE_CUSTOMER, uniqueEmail } from '../support/customers.ts';
import { openWrite } from '../support/held-write.ts';
import { waitFor } from '../support/wait-for.ts';

let server: TestServer;
let receiver: WebhookReceiver;
let answer: (delivery: ReceivedDelivery) => Answer = () => 204;
let manager: string;
const metrics = createMetricsRegistry();

beforeAll(async () => {
  server = await startTestServer({
    webhookDelivery: { retrySchedule: [0.2, 0.2], timeoutMs: 1_000 },
    // the receiver listens on 127.0.0.1
    webhookAllowPrivateNetworks: true,
    eventsPollMs: 200,
    metrics,
  });
  manager = (await createToken(server.database.db, 'hook-manager', ['webhooks:manage'])).secret;
  receiver = await startWebhookReceiver((delivery) => answer(delivery));
});
afterAll(async () => {
  await server.close();
  await receiver.close();
});
afterEach(async () => {
  answer = () => 204;
  await server.database.sql.query('DELETE FROM webhook_endpoints');
});

const CREATE_ENDPOINT = /* GraphQL */ `
  mutation ($input: CreateWebhookEndpointInput!) {
    createWebhookEndpoint(input: $input) { endpoint { id } secret errors { code path message } }
  }
`;

/** Registers the receiver through the API, for the events after now. */
async function registerEndpoint(eventTypes = ['CUSTOMER_CREATED', 'CUSTOMER_UPDATED'], path = ''): Promise<number> {
  const response = await server.graphql(CREATE_ENDPOINT, { input: { url: receiver.url + path, eventTypes } }, { token: manager });
  const { endpoint, secret, errors } = response.body.data!.createWebhookEndpoint;
  expect(errors).toEqual([]);
  receiver.setSecret(secret, path);
  return Number(endpoint.id);
}

async function createCustomer(): Promise<string> {
  const response = await server.graphql(CREATE_CUSTOMER, { input: { firstName: 'Hook', lastName: 'Target', email: uniqueEmail('hook') } });
  return response.body.data!.createCustomer.customer.id;
}

async function update(id: string, input: Record<string, unknown>): Promise<number> {
  const response = await server.graphql(UPDATE_CUSTOMER, { id, input });
  return response.body.data!.updateCustomer.customer.version;
}

/** What was delivered of a customer's events, to endpoints at `path` when given (customer ids repeat across databases). */
function deliveredFor(customerId: string, path?: string): ReceivedDelivery[] {
  return receiver.delivered().filter((delivery) => delivery.body.data.customerId === customerId && (path === undefined || delivery.path.endsWith(path)));
}

async function deliveryRows(endpointId: number) {
  const { rows } = await server.database.sql.query(
    'SELECT d.status, d.attempts, d.last_status_code, d.last_error, c.version FROM webhook_deliveries d JOIN customer_changes c ON c.id = d.event_id WHERE endpoint_id = $1 ORDER BY d.id',
    [endpointId],
  );
  return rows;
}

describe('webhook delivery', () => {
  it('refuses at delivery a receiver whose address is not public, unless private networks are allowed', async () => {
    // Registration refuses such a URL; a name can still resolve elsewhere later. Here the row is
    // written directly, as if 127.0.0.1 had been a public address when it was registered.
    const strict = await startTestServer({ eventsPollMs: 200, webhookDelivery: { retrySchedule: [60] } });
    try {
      const { rows } = await strict.database.sql.query<{ id: number }>(
        `INSERT INTO webhook_endpoints (url, event_types, secret, created_by, queued_through)
         VALUES ($1, '{customer.created}', 'whsec_${Buffer.alloc(32).toString('base64')}', 'test', 0) RETURNING id`,
        [`${receiver.url}?strict`],
      );
      const before = receiver.received.length;
      const created = await strict.graphql(CREATE_CUSTOMER, { input: { firstName: 'Strict', lastName: 'Server', email: uniqueEmail('strict') } });
      expect(created.body.data!.createCustomer.customer.version).toBe(1);
      const row = await waitFor(async () => {
        const found = await strict.database.sql.query('SELECT status, attempts, last_error, locked_until FROM webhook_deliveries WHERE endpoint_id = $1', [rows[0]!.id]);
        // taken (attempts counted) and its outcome recorded (no longer leased)
        return found.rows[0]?.attempts >= 1 && found.rows[0].locked_until === null ? found.rows[0] : null;
      }, { what: 'an attempt and its outcome' });
      expect(row).toMatchObject({ status: 'pending', attempts: 1, last_error: expect.stringMatching(/may not be sent to/), locked_until: null });
      expect(receiver.received.length).toBe(before);
    } finally {
      await strict.close();
    }
  });

  it('posts each event once, signed as Standard Webhooks says, with what changed', async () => {
    await registerEndpoint();
    const id = await createCustomer();
    await update(id, { storeCredit: '12.5', notes: 'VIP' });
    await waitFor(() => deliveredFor(id).length === 2, { what: 'two deliveries' });
    const [created, updated] = deliveredFor(id);
    expect(created!.verified && updated!.verified).toBe(true);
    expect(created!.body).toMatchObject({ type: 'customer.created', data: { customerId: id, version: 1 } });
    expect(updated!.body.type).toBe('customer.updated');
    expect(updated!.body.data).toMatchObject({ customerId: id, version: 2, actor: expect.stringMatching(/^writer-/) });
    expect(updated!.body.data.changes).toEqual([
      { field: 'notes', from: null, to: 'VIP' },
      { field: 'storeCredit', from: '0.0000', to: '12.5000' },
    ]);
    expect(updated!.body.timestamp).toBe(updated!.body.data.at);
    // the webhook-id is the event's id: the CustomerChange id of the history entry
    const history = await server.database.sql.query<{ id: string; version: number }>('SELECT id, version FROM customer_changes WHERE customer_id = $1 ORDER BY version', [id]);
    expect([created!.webhookId, updated!.webhookId]).toEqual(history.rows.map((row) => row.id));
    expect(created!.body.data.eventId).toBe(created!.webhookId);
    expect(Math.abs(updated!.timestamp - Date.now() / 1000)).toBeLessThan(60);
    // counted for /metrics
    const text = await metrics.metrics();
    expect(text).toMatch(/webhook_attempts_total\{outcome="delivered"\} [1-9]/);
    expect(text).toMatch(/webhook_first_attempt_delay_seconds_count [1-9]/);
    expect(text).toMatch(/change_feed_wait_seconds \d/);
  });

  it('retries a refused attempt with the same webhook-id, and holds the customer\'s next event until then', async () => {
    const endpoint = await registerEndpoint(['CUSTOMER_UPDATED']);
    const id = await createCustomer();
    let refusals = 0;
    answer = (delivery) => (delivery.body.data.customerId === id && delivery.body.data.version === 2 && refusals++ < 1 ? 500 : 204);
    await update(id, { notes: 'v2' });
    await update(id, { notes: 'v3' });
    await waitFor(() => deliveredFor(id).length === 2, { what: 'both updates delivered' });
    const attempts = receiver.received.filter((delivery) => delivery.body.data.customerId === id);
    // v2 refused, v2 again (same id), then v3: never v3 before v2 was delivered
    expect(attempts.map((delivery) => [delivery.body.data.version, delivery.answered])).toEqual([
      [2, 500],
      [2, 204],
      [3, 204],
    ]);
    expect(attempts[0]!.webhookId).toBe(attempts[1]!.webhookId);
    // the receiver's answer is recorded a moment after it is sent
    await waitFor(async () => (await deliveryRows(endpoint)).every((row) => row.status === 'delivered'), { what: 'the outcomes to be recorded' });
    expect(await deliveryRows(endpoint)).toEqual([
      expect.objectContaining({ version: 2, status: 'delivered', attempts: 2, last_status_code: 204 }),
      expect.objectContaining({ version: 3, status: 'delivered', attempts: 1 }),
    ]);
  });

  it('marks a delivery FAILED after the last retry, then sends the next event; a timeout counts as a failure', async () => {
    const endpoint = await registerEndpoint(['CUSTOMER_UPDATED']);
    const id = await createCustomer();
    answer = (delivery) => (delivery.body.data.customerId === id && delivery.body.data.version === 2 ? (delivery.timestamp % 2 === 0 ? 503 : 'hang') : 204);
    await update(id, { notes: 'never delivered' });
    await update(id, { notes: 'delivered after' });
    await waitFor(() => deliveredFor(id).length === 1, { what: 'the next event', timeoutMs: 15_000 });
    expect(deliveredFor(id)[0]!.body.data.version).toBe(3);
    const rows = await deliveryRows(endpoint);
    expect(rows[0]).toMatchObject({ version: 2, status: 'failed', attempts: 3 });
    expect(receiver.received.filter((delivery) => delivery.body.data.customerId === id && delivery.body.data.version === 2)).toHaveLength(3);
  });

  it('delivers both when a transaction that took a lower id commits after one that took a higher id', async () => {
    await registerEndpoint(['CUSTOMER_UPDATED']);
    const [a, b] = [await createCustomer(), await createCustomer()];
    // A takes its history id and stays open; B takes a later one and commits first.
    const held = await openWrite(server.database.sql, a);
    expect(await update(b, { notes: 'committed first' })).toBe(2);
    await held.end('COMMIT');
    await waitFor(() => deliveredFor(a).length === 1 && deliveredFor(b).length === 1, { what: 'both events delivered' });
    expect(deliveredFor(a)[0]!.webhookId).toBe(String(held.id));
    expect(deliveredFor(a)[0]!.verified && deliveredFor(b)[0]!.verified).toBe(true);
    expect(BigInt(deliveredFor(b)[0]!.webhookId)).toBeGreaterThan(held.id);
  });

  it('does not hold one customer\'s events back for another\'s failing ones', async () => {
    await registerEndpoint(['CUSTOMER_UPDATED']);
    const [stuck, flowing] = [await createCustomer(), await createCustomer()];
    answer = (delivery) => (delivery.body.data.customerId === stuck ? 500 : 204);
    await update(stuck, { notes: 'refused' });
    await update(flowing, { notes: 'one' });
    await update(flowing, { notes: 'two' });
    await waitFor(() => deliveredFor(flowing).length === 2, { what: 'the other customer\'s events' });
    expect(deliveredFor(flowing).map((delivery) => delivery.body.data.version)).toEqual([2, 3]);
  });

  it('prunes delivered and failed deliveries past the retention, never pending ones', async () => {
    const endpoint = await registerEndpoint(['CUSTOMER_UPDATED']);
    const id = await createCustomer();
    answer = () => 204;
    await update(id, { notes: 'old news' });
    await waitFor(async () => (await deliveryRows(endpoint)).some((row) => row.status === 'delivered'), { what: 'a delivery' });
    const { rows: events } = await server.database.sql.query<{ id: string }>('SELECT id FROM customer_changes WHERE customer_id = $1 ORDER BY id DESC LIMIT 1', [id]);
    // an old failed one, and a pending one (due in an hour) from long ago
    await server.database.sql.query(
      `INSERT INTO webhook_deliveries (endpoint_id, event_id, customer_id, status, attempts, last_attempt_at, next_attempt_at)
       VALUES ($1, $2, $3, 'failed', 9, now() - interval '40 days', NULL), ($1, $2, $3, 'pending', 3, now() - interval '40 days', now() + interval '1 hour')`,
      [endpoint, events[0]!.id, id],
    );
    await server.database.sql.query("UPDATE webhook_deliveries SET last_attempt_at = now() - interval '31 days' WHERE endpoint_id = $1 AND status = 'delivered'", [endpoint]);
    const feed = new ChangeFeed(server.database.db);
    const sender = new WebhookSender(server.database.db, feed, { retrySchedule: [1], timeoutMs: 1_000, concurrency: 1, pollMs: 60_000, allowPrivateNetworks: true });
    try {
      expect(await sender.prune()).toBe(2);
    } finally {
      await sender.stop();
      await feed.stop();
    }
    expect((await deliveryRows(endpoint)).map((row) => row.status)).toEqual(['pending']);
  });

  it('disables an endpoint that answers 410 Gone and sends it nothing more', async () => {
    const endpoint = await registerEndpoint(['CUSTOMER_UPDATED']);
    const id = await createCustomer();
    answer = () => 410;
    await update(id, { notes: 'gone' });
    await waitFor(async () => (await server.database.sql.query('SELECT enabled FROM webhook_endpoints WHERE id = $1', [endpoint])).rows[0]?.enabled === false, {
      what: 'the endpoint to be disabled',
    });
    expect(await deliveryRows(endpoint)).toEqual([expect.objectContaining({ status: 'failed', attempts: 1, last_status_code: 410 })]);
    const before = receiver.received.length;
    answer = () => 204;
    // another endpoint, still enabled, shows when the next event has been sent
    const other = await registerEndpoint(['CUSTOMER_UPDATED'], '?other');
    await update(id, { notes: 'after' });
    await waitFor(async () => (await deliveryRows(other)).some((row) => row.status === 'delivered'), { what: 'the other endpoint\'s delivery' });
    expect(await deliveryRows(endpoint)).toHaveLength(1);
    expect(receiver.received.length).toBe(before + 1);
  });
});

describe('waking the sender', () => {
  // Polling every 10 minutes: only the wake-ups can deliver within these tests' bounds.
  const NO_POLLING = 600_000;

  it('sends each write at once in the process that made it, without waiting for a poll', async () => {
    const quick = await startTestServer({ database: server.database, eventsPollMs: NO_POLLING, webhookAllowPrivateNetworks: true });
    try {
      // The shared server sends nothing here; this one's wake-ups must.
      await server.database.sql.query('DELETE FROM webhook_endpoints');
      const registered = await quick.graphql(CREATE_ENDPOINT, { input: { url: `${receiver.url}?quick`, eventTypes: ['CUSTOMER_UPDATED'] } }, { token: manager });
      receiver.setSecret(registered.body.data!.createWebhookEndpoint.secret, '?quick');
      const made = await quick.graphql(CREATE_CUSTOMER, { input: { firstName: 'Quick', lastName: 'Wake', email: uniqueEmail('wake') } });
      const id = made.body.data!.createCustomer.customer.id as string;
      for (let n = 1; n <= 5; n++) {
        await quick.graphql(UPDATE_CUSTOMER, { id, input: { notes: `wake ${n}` } });
        await waitFor(() => deliveredFor(id, '?quick').length === n, { what: `delivery ${n}`, timeoutMs: 5_000 });
      }
    } finally {
      await quick.close();
    }
  });

  it('wakes another replica with a notification when the writing one sends no webhooks', async () => {
    const sending = await startTestServer({ eventsPollMs: NO_POLLING, webhookAllowPrivateNetworks: true });
    const writing = await startTestServer({ database: sending.database, eventsPollMs: NO_POLLING, webhookDelivery: { enabled: false } });
    try {
      const token = (await createToken(sending.database.db, 'wake-manager', ['webhooks:manage'])).secret;
      const registered = await sending.graphql(CREATE_ENDPOINT, { input: { url: `${receiver.url}?replica`, eventTypes: ['CUSTOMER_UPDATED'] } }, { token });
      receiver.setSecret(registered.body.data!.createWebhookEndpoint.secret, '?replica');
      // the sending replica follows the log once it knows of the endpoint
      await waitFor(async () => (await sending.database.sql.query("SELECT 1 FROM pg_stat_activity WHERE application_name = 'customer-gateway-events' AND datname = current_database()")).rows.length === 2);
      const made = await writing.graphql(CREATE_CUSTOMER, { input: { firstName: 'Other', lastName: 'Replica', email: uniqueEmail('replica') } });
      const id = made.body.data!.createCustomer.customer.id as string;
      for (let n = 1; n <= 3; n++) {
        await writing.graphql(UPDATE_CUSTOMER, { id, input: { notes: `replica ${n}` } });
        await waitFor(() => deliveredFor(id, '?replica').length === n, { what: `delivery ${n} from the other replica`, timeoutMs: 5_000 });
      }
      expect(deliveredFor(id, '?replica').every((delivery) => delivery.verified)).toBe(true);
    } finally {
      await writing.close();
      await sending.close();
    }
  });
});
