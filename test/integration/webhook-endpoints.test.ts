/** API.md "Change events: webhooks and a live feed": managing webhook endpoints, over HTTP and real PostgreSQL. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/domain/paging.ts';
import { createToken } from '../../src/domain/tokens.ts';
import { createCustomer, uniqueEmail, updateCustomer } from '../support/customers.ts';
import { startTestServer } from '../support/server.ts';

const ENDPOINT_FIELDS = 'id url eventTypes enabled createdAt createdBy';

const CREATE = /* GraphQL */ `
  mutation ($input: CreateWebhookEndpointInput!) {
    createWebhookEndpoint(input: $input) { endpoint { ${ENDPOINT_FIELDS} } secret errors { __typename code path message } }
  }
`;
const LIST = /* GraphQL */ `{ webhookEndpoints { ${ENDPOINT_FIELDS} } }`;
const DELETE = /* GraphQL */ `
  mutation ($id: ID!) { deleteWebhookEndpoint(id: $id) { deletedId errors { __typename code path message } } }
`;
const REDELIVER = /* GraphQL */ `
  mutation ($endpointId: ID!, $afterEventId: ID) {
    redeliverWebhookEvents(endpointId: $endpointId, afterEventId: $afterEventId) { queued lastQueuedEventId errors { __typename code path message } }
  }
`;
const DELIVERIES = /* GraphQL */ `
  query ($first: Int, $after: String, $status: WebhookDeliveryStatus) {
    webhookEndpoints {
      id
      deliveries(first: $first, after: $after, status: $status) {
        edges { cursor node { id eventId eventType status attempts lastStatusCode lastError lastAttemptAt nextAttemptAt deliveredAt } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  }
`;

interface Endpoint {
  id: string;
  url: string;
  eventTypes: string[];
  enabled: boolean;
  createdAt: string;
  createdBy: string;
}
interface PayloadError {
  __typename: string;
  code: string;
  path: string[];
  message: string;
}
interface CreatePayload {
  endpoint: Endpoint | null;
  secret: string | null;
  errors: PayloadError[];
}

/**
 * A server with a webhooks:manage token, and the calls these tests make with it. It sends no
 * webhooks (WEBHOOKS=off), so what is queued stays as the management calls left it; sending is
 * webhook-delivery.test.ts's.
 */
async function webhookServer(options: Parameters<typeof startTestServer>[0] = {}) {
  const server = await startTestServer({ webhookDelivery: { enabled: false }, ...options });
  const name = `hooks-${Math.random().toString(36).slice(2, 8)}`;
  const token = (await createToken(server.database.db, name, ['webhooks:manage'])).secret;
  const ok = async <T,>(query: string, variables?: Record<string, unknown>): Promise<T> => {
    const response = await server.graphql<T>(query, variables, { token });
    if (response.status !== 200 || response.body.errors) throw new Error(`${response.status}: ${response.text}`);
    return response.body.data!;
  };
  return {
    server,
    token,
    tokenName: name,
    create: async (input: Record<string, unknown>) => (await ok<{ createWebhookEndpoint: CreatePayload }>(CREATE, { input })).createWebhookEndpoint,
    list: async () => (await ok<{ webhookEndpoints: Endpoint[] }>(LIST)).webhookEndpoints,
    remove: async (id: string) => (await ok<{ deleteWebhookEndpoint: { deletedId: string | null; errors: PayloadError[] } }>(DELETE, { id })).deleteWebhookEndpoint,
    redeliver: async (endpointId: string, afterEventId?: string | null) =>
      (
        await ok<{ redeliverWebhookEvents: { queued: number; lastQueuedEventId: string | null; errors: PayloadError[] } }>(REDELIVER, {
          endpointId,
          afterEventId,
        })
      ).redeliverWebhookEvents,
    ok,
  };
}
type WebhookServer = Awaited<ReturnType<typeof webhookServer>>;

const errorsOf = (payload: { errors: PayloadError[] }) => payload.errors.map((error) => [error.code, error.path.join('.')]);

let strict: WebhookServer;
let open: WebhookServer;
beforeAll(async () => {
  [strict, open] = await Promise.all([webhookServer(), webhookServer({ webhookAllowPrivateNetworks: true })]);
});
afterAll(async () => {
  await Promise.all([strict?.server.close(), open?.server.close()]);
});

describe('scopes', () => {
  const operations = [
    [LIST, {}],
    [CREATE, { input: { url: 'https://8.8.8.8/hook' } }],
    [DELETE, { id: '1' }],
    [REDELIVER, { endpointId: '1' }],
  ] as const;

  it('no token: 401 UNAUTHENTICATED', async () => {
    for (const [query, variables] of operations) {
      const response = await strict.server.graphql(query, variables, { token: null });
      expect(response.status).toBe(401);
      expect(response.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    }
  });

  it('a customers:write token: 403 FORBIDDEN, nothing created', async () => {
    for (const [query, variables] of operations) {
      const response = await strict.server.graphql(query, variables, { token: strict.server.tokens.write });
      expect(response.status, query).toBe(403);
      expect(response.body.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    }
    const { rows } = await strict.server.database.sql.query('SELECT count(*)::int AS n FROM webhook_endpoints');
    expect(rows[0].n).toBe(0);
  });

  it('the token CLI creates webhooks:manage tokens', async () => {
    const created = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli/token.ts', 'create', '--name', `cli-${Date.now()}`, '--scopes', 'webhooks:manage'],
      {
        cwd: path.resolve(import.meta.dirname, '..', '..'),
        env: { ...process.env, DATABASE_URL: strict.server.database.url, MIGRATE_ON_START: 'false' },
        encoding: 'utf8',
      },
    );
    expect(created.status, created.stderr).toBe(0);
    const response = await strict.server.graphql(LIST, undefined, { token: created.stdout.trim() });
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual({ webhookEndpoints: [] });
  });

  it('a webhooks:manage token lists endpoints, but cannot read customers', async () => {
    expect(await strict.list()).toEqual([]);
    const response = await strict.server.graphql('{ customer(id: "1") { id } }', undefined, { token: strict.token });
    expect(response.status).toBe(403);
    expect(response.body.errors![0]!.extensions!.code).toBe('FORBIDDEN');
  });
});

describe('createWebhookEndpoint', () => {
  it('returns the endpoint and its secret once: whsec_ and the base64 of 32 bytes, never listed again', async () => {
    const { endpoint, secret, errors } = await strict.create({ url: 'https://8.8.8.8/hooks/customers?source=gateway' });
    expect(errors).toEqual([]);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret!.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(endpoint).toMatchObject({
      url: 'https://8.8.8.8/hooks/customers?source=gateway',
      eventTypes: ['CUSTOMER_CREATED', 'CUSTOMER_UPDATED'],
      enabled: true,
      createdBy: strict.tokenName,
    });
    expect(Date.now() - Date.parse(endpoint!.createdAt)).toBeLessThan(60_000);
    const { rows } = await strict.server.database.sql.query('SELECT secret, event_types FROM webhook_endpoints WHERE id = $1', [Number(endpoint!.id)]);
    expect(rows[0]).toEqual({ secret, event_types: ['customer.created', 'customer.updated'] });

    const listed = await strict.server.graphql(LIST, undefined, { token: strict.token });
    expect(listed.body.data!.webhookEndpoints).toContainEqual(endpoint);
    expect(listed.text).not.toContain(secret!.slice('whsec_'.length, 20));
    // There is no field to ask for it.
    const asked = await strict.server.graphql('{ webhookEndpoints { id secret } }', undefined, { token: strict.token });
    expect(asked.status).toBe(400);
    await strict.remove(endpoint!.id);
  });

  it('gives every endpoint its own secret', async () => {
    const [a, b] = [await strict.create({ url: 'https://8.8.8.8/a' }), await strict.create({ url: 'https://8.8.8.8/b' })];
    expect(a.secret).not.toBe(b.secret);
    await Promise.all([strict.remove(a.endpoint!.id), strict.remove(b.endpoint!.id)]);
  });

  it('stores the event types asked for, every type for null or none, and refuses an empty list', async () => {
    const some = await strict.create({ url: 'https://1.1.1.1/', eventTypes: ['CUSTOMER_UPDATED', 'CUSTOMER_UPDATED'] });
    expect(some.endpoint!.eventTypes).toEqual(['CUSTOMER_UPDATED']);
    const all = await strict.create({ url: 'https://1.1.1.1/', eventTypes: null });
    expect(all.endpoint!.eventTypes).toEqual(['CUSTOMER_CREATED', 'CUSTOMER_UPDATED']);
    const none = await strict.create({ url: 'https://1.1.1.1/', eventTypes: [] });
    expect(errorsOf(none)).toEqual([['INVALID', 'input.eventTypes']]);
    expect(none).toMatchObject({ endpoint: null, secret: null });
    await Promise.all([strict.remove(some.endpoint!.id), strict.remove(all.endpoint!.id)]);
  });

  it('takes http and https URLs only, at most 2048 characters', async () => {
    for (const url of ['ftp://8.8.8.8/hook', 'mailto:hooks@example.com', 'file:///etc/passwd', 'data:text/plain,hi']) {
      const payload = await strict.create({ url });
      expect(errorsOf(payload), url).toEqual([['INVALID', 'input.url']]);
      expect(payload.errors[0]!.__typename).toBe('ValidationError');
      expect(payload.errors[0]!.message).toMatch(/http:\/\/ or https:\/\//);
    }
    const long = `https://8.8.8.8/${'a'.repeat(2048 - 'https://8.8.8.8/'.length)}`;
    const fits = await strict.create({ url: long });
    expect(fits.errors).toEqual([]);
    await strict.remove(fits.endpoint!.id);
    expect(errorsOf(await strict.create({ url: `${long}a` }))).toEqual([['TOO_LONG', 'input.url']]);
    // Not a URL at all: the URL scalar refuses it before anything runs.
    const response = await strict.server.graphql(CREATE, { input: { url: 'not a url' } }, { token: strict.token });
    expect(response.status).toBe(400);
  });

  it('refuses hosts that are or resolve to loopback, private, link-local or unspecified addresses, without naming what a name resolved to', async () => {
    const refused = {
      'http://127.0.0.1/hook': 'loopback',
      'http://[::1]:8080/hook': 'loopback',
      'http://localhost:3000/hook': 'loopback',
      'http://LOCALHOST./hook': 'loopback',
      'http://api.localhost/hook': 'loopback',
      'http://2130706433/hook': 'loopback',
      'http://10.0.0.1/hook': 'private',
      'http://192.168.1.1/hook': 'private',
      'http://[fd00::1]/hook': 'private',
      'http://169.254.169.254/latest/meta-data/': 'link-local',
      'http://[fe80::1]/hook': 'link-local',
      'http://0.0.0.0/hook': 'unspecified',
      'http://[::]/hook': 'unspecified',
      'http://[::ffff:127.0.0.1]/hook': 'loopback',
      'http://100.64.0.1/hook': 'carrier-grade NAT',
      'http://224.0.0.1/hook': 'multicast',
      'http://255.255.255.255/hook': 'broadcast',
    };
    for (const [url, kind] of Object.entries(refused)) {
      const payload = await strict.create({ url });
      expect(errorsOf(payload), url).toEqual([['INVALID', 'input.url']]);
      expect(payload.errors[0]!.message, url).toContain(kind);
      expect(payload.secret).toBeNull();
    }
    const byName = await strict.create({ url: 'http://localhost/hook' });
    expect(byName.errors[0]!.message).toBe('url must lead to a public address: localhost is a loopback name');
    expect(byName.errors[0]!.message).not.toContain('127.0.0.1');
    const { rows } = await strict.server.database.sql.query('SELECT count(*)::int AS n FROM webhook_endpoints');
    expect(rows[0].n).toBe(0);
  });

  it('refuses a host that does not resolve', async () => {
    const payload = await strict.create({ url: 'https://no-such-host.invalid/hook' });
    expect(errorsOf(payload)).toEqual([['INVALID', 'input.url']]);
    expect(payload.errors[0]!.message).toMatch(/does not resolve/);
  });

  it('accepts private receivers with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true', async () => {
    for (const url of ['http://127.0.0.1:9/hook', 'http://localhost:9/hook', 'http://[::1]:9/', 'http://192.168.1.1/', 'http://169.254.169.254/']) {
      const payload = await open.create({ url });
      expect(payload.errors, url).toEqual([]);
      expect(payload.endpoint!.url).toBe(new URL(url).href);
      await open.remove(payload.endpoint!.id);
    }
  });

  it('starts the endpoint at the change log\'s current position: it gets the events after its creation', async () => {
    const before = await createCustomer(open.server, { firstName: 'Ada', lastName: 'Early', email: uniqueEmail('early') });
    const { endpoint } = await open.create({ url: 'http://127.0.0.1:9/position' });
    const { rows } = await open.server.database.sql.query(
      `SELECT e.queued_through::text AS position, (SELECT max(id)::text FROM customer_changes) AS newest
         FROM webhook_endpoints e WHERE e.id = $1`,
      [Number(endpoint!.id)],
    );
    expect(rows[0].position).toBe(rows[0].newest);
    expect(before.customer).not.toBeNull();
    await open.remove(endpoint!.id);
  });
});

describe('the endpoint cap (WEBHOOK_MAX_ENDPOINTS)', () => {
  it('refuses one more endpoint than allowed with TOO_LONG on ["input"], and takes one again after a delete', async () => {
    const capped = await webhookServer({ webhookAllowPrivateNetworks: true, webhookMaxEndpoints: 2 });
    try {
      const first = await capped.create({ url: 'http://127.0.0.1:9/1' });
      await capped.create({ url: 'http://127.0.0.1:9/2' });
      const third = await capped.create({ url: 'http://127.0.0.1:9/3' });
      expect(errorsOf(third)).toEqual([['TOO_LONG', 'input']]);
      expect(third.errors[0]!.message).toMatch(/already 2 webhook endpoints/);
      // Every error at once: a bad URL too.
      expect(errorsOf(await capped.create({ url: 'ftp://127.0.0.1/' }))).toEqual([['INVALID', 'input.url'], ['TOO_LONG', 'input']]);
      expect(await capped.list()).toHaveLength(2);
      await capped.remove(first.endpoint!.id);
      expect((await capped.create({ url: 'http://127.0.0.1:9/3' })).errors).toEqual([]);
    } finally {
      await capped.server.close();
    }
  });
});

describe('deleteWebhookEndpoint', () => {
  it('deletes the endpoint and its deliveries; an unknown id is NOT_FOUND on ["id"]', async () => {
    const customer = await createCustomer(open.server, { firstName: 'Del', lastName: 'Ete', email: uniqueEmail('delete') });
    const { endpoint } = await open.create({ url: 'http://127.0.0.1:9/delete' });
    const { rows: events } = await open.server.database.sql.query('SELECT id FROM customer_changes WHERE customer_id = $1', [Number(customer.customer!.id)]);
    await open.server.database.db.$executeRawUnsafe(
      'INSERT INTO webhook_deliveries (endpoint_id, event_id, customer_id, status) VALUES ($1, $2, $3, $4)',
      Number(endpoint!.id),
      BigInt(events[0].id),
      Number(customer.customer!.id),
      'delivered',
    );
    expect(await open.remove(endpoint!.id)).toEqual({ deletedId: endpoint!.id, errors: [] });
    expect((await open.list()).map((each) => each.id)).not.toContain(endpoint!.id);
    const { rows } = await open.server.database.sql.query('SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1', [Number(endpoint!.id)]);
    expect(rows[0].n).toBe(0);

    for (const id of [endpoint!.id, '999999', 'abc', '-1', '99999999999']) {
      const again = await open.remove(id);
      expect(again.deletedId).toBeNull();
      expect(errorsOf(again), id).toEqual([['NOT_FOUND', 'id']]);
      expect(again.errors[0]!.__typename).toBe('ValidationError');
    }
  });
});

describe('redeliverWebhookEvents', () => {
  let hooks: WebhookServer;
  /** The events made before the endpoints, in id order, with their versions. */
  let events: Array<{ id: string; version: number; customerId: number }>;
  let all: Endpoint;
  let updatedOnly: Endpoint;
  let createdOnly: Endpoint;

  beforeAll(async () => {
    hooks = await webhookServer({ webhookAllowPrivateNetworks: true });
    const a = (await createCustomer(hooks.server, { firstName: 'Ann', lastName: 'A', email: uniqueEmail('a') })).customer!;
    await updateCustomer(hooks.server, a.id, { company: 'A1' });
    const b = (await createCustomer(hooks.server, { firstName: 'Bob', lastName: 'B', email: uniqueEmail('b') })).customer!;
    await updateCustomer(hooks.server, b.id, { company: 'B1' });
    await updateCustomer(hooks.server, a.id, { company: 'A2' });
    const { rows } = await hooks.server.database.sql.query('SELECT id::text, version, customer_id AS "customerId" FROM customer_changes ORDER BY id');
    events = rows;
    expect(events.map((event) => event.version)).toEqual([1, 2, 1, 2, 3]);
    all = (await hooks.create({ url: 'http://127.0.0.1:9/all' })).endpoint!;
    updatedOnly = (await hooks.create({ url: 'http://127.0.0.1:9/updated', eventTypes: ['CUSTOMER_UPDATED'] })).endpoint!;
    createdOnly = (await hooks.create({ url: 'http://127.0.0.1:9/created', eventTypes: ['CUSTOMER_CREATED'] })).endpoint!;
    // After the endpoints: already theirs to send, never queued again by a redelivery.
    await updateCustomer(hooks.server, b.id, { company: 'B2' });
  });
  afterAll(() => hooks?.server.close());

  async function queuedRows(endpoint: Endpoint) {
    const { rows } = await hooks.server.database.sql.query(
      `SELECT event_id::text AS "eventId", customer_id AS "customerId", status, attempts, next_attempt_at IS NOT NULL AS due
         FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY id`,
      [Number(endpoint.id)],
    );
    await hooks.server.database.sql.query('DELETE FROM webhook_deliveries WHERE endpoint_id = $1', [Number(endpoint.id)]);
    return rows;
  }

  it('queues every event up to the endpoint\'s creation, in order, as new pending deliveries due now', async () => {
    expect(await hooks.redeliver(all.id)).toEqual({ queued: 5, lastQueuedEventId: events[4]!.id, errors: [] });
    expect(await queuedRows(all)).toEqual(events.map((event) => ({ eventId: event.id, customerId: event.customerId, status: 'pending', attempts: 0, due: true })));
  });

  it('queues only the types the endpoint takes', async () => {
    expect(await hooks.redeliver(updatedOnly.id, null)).toMatchObject({ queued: 3, lastQueuedEventId: events[4]!.id });
    expect((await queuedRows(updatedOnly)).map((row) => row.eventId)).toEqual([events[1]!.id, events[3]!.id, events[4]!.id]);
    expect(await hooks.redeliver(createdOnly.id)).toMatchObject({ queued: 2, lastQueuedEventId: events[2]!.id });
    expect((await queuedRows(createdOnly)).map((row) => row.eventId)).toEqual([events[0]!.id, events[2]!.id]);
  });

  it('starts after afterEventId', async () => {
    expect(await hooks.redeliver(all.id, events[1]!.id)).toMatchObject({ queued: 3, lastQueuedEventId: events[4]!.id });
    expect((await queuedRows(all)).map((row) => row.eventId)).toEqual(events.slice(2).map((event) => event.id));
    expect(await hooks.redeliver(all.id, events[4]!.id)).toEqual({ queued: 0, lastQueuedEventId: null, errors: [] });
  });

  it('enables an endpoint a 410 had disabled', async () => {
    await hooks.server.database.sql.query('UPDATE webhook_endpoints SET enabled = false WHERE id = $1', [Number(createdOnly.id)]);
    expect((await hooks.list()).find((each) => each.id === createdOnly.id)!.enabled).toBe(false);
    expect((await hooks.redeliver(createdOnly.id, events[4]!.id)).queued).toBe(0);
    expect((await hooks.list()).find((each) => each.id === createdOnly.id)!.enabled).toBe(true);
  });

  it('refuses an unknown endpoint (NOT_FOUND on ["endpointId"]) and a malformed afterEventId (INVALID on ["afterEventId"]), queueing nothing', async () => {
    for (const id of ['999999', 'abc']) expect(errorsOf(await hooks.redeliver(id))).toEqual([['NOT_FOUND', 'endpointId']]);
    for (const after of ['abc', '-1', '1.5', '99999999999999999999', '']) {
      const payload = await hooks.redeliver(all.id, after);
      expect(errorsOf(payload), after).toEqual([['INVALID', 'afterEventId']]);
      expect(payload).toMatchObject({ queued: 0, lastQueuedEventId: null });
    }
    expect(errorsOf(await hooks.redeliver('999999', 'abc'))).toEqual([['NOT_FOUND', 'endpointId'], ['INVALID', 'afterEventId']]);
    const { rows } = await hooks.server.database.sql.query('SELECT count(*)::int AS n FROM webhook_deliveries');
    expect(rows[0].n).toBe(0);
  });

  it('queues at most 10,000 events a call; lastQueuedEventId goes on from there', async () => {
    const customerId = events[0]!.customerId;
    await hooks.server.database.sql.query(
      `INSERT INTO customer_changes (customer_id, version, actor, changes)
       SELECT $1, 100 + g, 'bulk', '[]'::jsonb FROM generate_series(1, 10005) AS g`,
      [customerId],
    );
    const bulk = (await hooks.create({ url: 'http://127.0.0.1:9/bulk' })).endpoint!;
    const { rows } = await hooks.server.database.sql.query('SELECT count(*)::int AS n FROM customer_changes');
    const first = await hooks.redeliver(bulk.id);
    expect(first.queued).toBe(10_000);
    const second = await hooks.redeliver(bulk.id, first.lastQueuedEventId);
    expect(second.queued).toBe(rows[0].n - 10_000);
    const { rows: queued } = await hooks.server.database.sql.query(
      'SELECT count(DISTINCT event_id)::int AS n, max(event_id)::text AS last FROM webhook_deliveries WHERE endpoint_id = $1',
      [Number(bulk.id)],
    );
    expect(queued[0]).toEqual({ n: rows[0].n, last: second.lastQueuedEventId });
  });
});

describe('WebhookEndpoint.deliveries', () => {
  let hooks: WebhookServer;
  let endpoint: Endpoint;
  /** Delivery ids, oldest first, with the status each was given. */
  let deliveries: Array<{ id: string; status: string; eventId: string }>;

  beforeAll(async () => {
    hooks = await webhookServer({ webhookAllowPrivateNetworks: true });
    const customer = (await createCustomer(hooks.server, { firstName: 'Log', lastName: 'Ged', email: uniqueEmail('log') })).customer!;
    for (let i = 0; i < 4; i++) await updateCustomer(hooks.server, customer.id, { company: `Company ${i}` });
    const { rows: events } = await hooks.server.database.sql.query('SELECT id::text, version FROM customer_changes ORDER BY id');
    endpoint = (await hooks.create({ url: 'http://127.0.0.1:9/log' })).endpoint!;
    const other = (await hooks.create({ url: 'http://127.0.0.1:9/other' })).endpoint!;
    const statuses = ['delivered', 'failed', 'pending'];
    deliveries = [];
    for (let i = 0; i < 25; i++) {
      const event = events[i % events.length];
      const status = statuses[i % 3]!;
      const [row] = await hooks.server.database.db.$queryRawUnsafe<Array<{ id: bigint }>>(
        `INSERT INTO webhook_deliveries (endpoint_id, event_id, customer_id, status, attempts, next_attempt_at, last_attempt_at,
                                         last_status_code, last_error, delivered_at)
         VALUES ($1, $2, $3, $4::text, $5,
                 CASE WHEN $4::text = 'pending' THEN now() + interval '5 minutes' END,
                 now() - interval '1 minute',
                 CASE $4::text WHEN 'delivered' THEN 204 WHEN 'failed' THEN 500 END,
                 CASE WHEN $4::text = 'pending' THEN 'timed out after 10000 ms' END,
                 CASE WHEN $4::text = 'delivered' THEN now() END)
         RETURNING id`,
        Number(endpoint.id),
        BigInt(event.id),
        Number(customer.id),
        status,
        i % 3 === 0 ? 1 : 3,
      );
      deliveries.push({ id: String(row!.id), status, eventId: event.id });
    }
    await hooks.server.database.db.$executeRawUnsafe(
      'INSERT INTO webhook_deliveries (endpoint_id, event_id, customer_id) VALUES ($1, $2, $3)',
      Number(other.id),
      BigInt(events[0].id),
      Number(customer.id),
    );
  });
  afterAll(() => hooks?.server.close());

  async function page(variables: { first?: number; after?: string; status?: string }) {
    const data = await hooks.ok<{ webhookEndpoints: Array<{ id: string; deliveries: any }> }>(DELIVERIES, variables);
    return data.webhookEndpoints.find((each) => each.id === endpoint.id)!.deliveries;
  }

  it('lists the endpoint\'s deliveries newest first, 20 by default, with their state', async () => {
    const first = await page({});
    const newest = [...deliveries].reverse();
    expect(first.edges.map((edge: any) => edge.node.id)).toEqual(newest.slice(0, 20).map((delivery) => delivery.id));
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const [delivered, failed, pending] = [0, 1, 2].map((i) => first.edges.find((edge: any) => edge.node.id === deliveries[i + 18]!.id).node);
    expect(delivered).toMatchObject({ status: 'DELIVERED', attempts: 1, lastStatusCode: 204, lastError: null, nextAttemptAt: null });
    expect(delivered.deliveredAt).not.toBeNull();
    expect(failed).toMatchObject({ status: 'FAILED', attempts: 3, lastStatusCode: 500, deliveredAt: null, nextAttemptAt: null });
    expect(pending).toMatchObject({ status: 'PENDING', lastStatusCode: null, lastError: 'timed out after 10000 ms', deliveredAt: null });
    expect(Date.parse(pending.nextAttemptAt)).toBeGreaterThan(Date.now());
    expect(Date.parse(pending.lastAttemptAt)).toBeLessThan(Date.now());
  });

  it('gives each delivery its event id and type: version 1 is CUSTOMER_CREATED, later ones CUSTOMER_UPDATED', async () => {
    const { rows } = await hooks.server.database.sql.query('SELECT id::text, version FROM customer_changes');
    const versions = new Map(rows.map((row) => [row.id, row.version]));
    const nodes = (await page({ first: 100 })).edges.map((edge: any) => edge.node);
    expect(nodes).toHaveLength(25);
    for (const node of nodes) {
      expect(node.eventId).toBe(deliveries.find((delivery) => delivery.id === node.id)!.eventId);
      expect(node.eventType).toBe(versions.get(node.eventId) === 1 ? 'CUSTOMER_CREATED' : 'CUSTOMER_UPDATED');
    }
    expect(new Set(nodes.map((node: any) => node.eventType))).toEqual(new Set(['CUSTOMER_CREATED', 'CUSTOMER_UPDATED']));
  });

  it('pages on with after, with no gap and no repeat', async () => {
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const { edges, pageInfo } = await page({ first: 7, after });
      seen.push(...edges.map((edge: any) => edge.node.id));
      expect(pageInfo.hasPreviousPage).toBe(after !== undefined);
      if (!pageInfo.hasNextPage) break;
      after = pageInfo.endCursor;
    }
    expect(seen).toEqual([...deliveries].reverse().map((delivery) => delivery.id));
  });

  it('filters by status, newest first', async () => {
    for (const status of ['PENDING', 'DELIVERED', 'FAILED']) {
      const want = deliveries.filter((delivery) => delivery.status === status.toLowerCase()).reverse();
      const first = await page({ status, first: 5 });
      expect(first.edges.map((edge: any) => edge.node.id), status).toEqual(want.slice(0, 5).map((delivery) => delivery.id));
      expect(first.edges.every((edge: any) => edge.node.status === status)).toBe(true);
      const rest = await page({ status, first: 100, after: first.pageInfo.endCursor });
      expect(rest.edges.map((edge: any) => edge.node.id)).toEqual(want.slice(5).map((delivery) => delivery.id));
      expect(rest.pageInfo.hasNextPage).toBe(false);
    }
  });

  it('refuses a cursor it did not give out with 400 BAD_USER_INPUT', async () => {
    for (const after of ['nonsense', encodeCursor('customer', 5)]) {
      const response = await hooks.server.graphql(DELIVERIES, { after }, { token: hooks.token });
      expect(response.status).toBe(400);
      expect(response.body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    }
  });
});
