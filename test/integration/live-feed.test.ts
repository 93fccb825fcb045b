/**
 * The live feed (API.md, "Change events: webhooks and a live feed"): `customerChanges` over
 * GraphQL over SSE, driven with the graphql-sse client against the real server. Every committed
 * write once, in log order, live or resumed from a cursor; through every plugin of the server.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createClient, type ExecutionResult, type RequestParams } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRateLimitStore } from '../../src/http/rate-limit.ts';
import { encodeCursor } from '../../src/domain/paging.ts';
import { hashToken } from '../../src/domain/tokens.ts';
import { uniqueEmail } from '../support/customers.ts';
import { openWrite } from '../support/held-write.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitFor } from '../support/wait-for.ts';

const FEED = /* GraphQL */ `
  subscription Feed($after: String, $customerId: ID) {
    customerChanges(after: $after, customerId: $customerId) {
      cursor
      type
      customerId
      change { id version actor changes { field from to } }
    }
  }
`;

interface FeedEvent {
  cursor: string;
  type: 'CUSTOMER_CREATED' | 'CUSTOMER_UPDATED';
  customerId: string;
  change: { id: string; version: number; actor: string; changes: Array<{ field: string; from: unknown; to: unknown }> };
}

interface Subscription {
  /** Every result the server sent, in order. */
  results: Array<ExecutionResult<{ customerChanges: FeedEvent }, unknown>>;
  /** The events among them. */
  readonly events: FeedEvent[];
  /** The `extensions.code` of each error received. */
  readonly errorCodes: string[];
  /** The server completed the stream (a refusal completes it at once). */
  completed: boolean;
  /** What the client reported as a failure of the connection itself; none expected. */
  failure: unknown;
  /** The HTTP response, once its headers arrived: the subscription has started. */
  response: Promise<Response>;
  close(): void;
}

interface SubscribeOptions {
  token?: string | null;
  headers?: Record<string, string>;
  request?: Partial<RequestParams>;
  fetchFn?: typeof fetch;
}

/** Subscribes with the graphql-sse client, as the README shows, and collects what arrives. */
function subscribe(to: TestServer, variables: Record<string, unknown> = {}, options: SubscribeOptions = {}): Subscription {
  const { token = to.tokens.read, headers = {}, request = {}, fetchFn = fetch } = options;
  let answered!: (response: Response) => void;
  const client = createClient({
    url: `${to.url}/graphql`,
    headers: { ...(token ? { 'x-auth-token': token } : {}), ...headers },
    // A refusal must arrive as a result: a retry would hide it.
    retryAttempts: 0,
    fetchFn: async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await fetchFn(input, init);
      answered(response);
      return response;
    },
  });
  const subscription: Subscription = {
    results: [],
    get events() {
      return this.results.flatMap((result) => (result.data ? [result.data.customerChanges] : []));
    },
    get errorCodes() {
      return this.results.flatMap((result) => (result.errors ?? []).map((error) => String((error.extensions as Record<string, unknown> | undefined)?.['code'])));
    },
    completed: false,
    failure: undefined,
    response: new Promise((resolve) => (answered = resolve)),
    close: () => client.dispose(),
  };
  client.subscribe<{ customerChanges: FeedEvent }>(
    { query: FEED, variables, ...request } as RequestParams,
    {
      next: (result) => void subscription.results.push(result),
      error: (error) => void (subscription.failure = error),
      complete: () => void (subscription.completed = true),
    },
  );
  return subscription;
}

/** Waits for a refusal: one result with errors, then the end of the stream. */
async function refusal(subscription: Subscription): Promise<{ codes: string[]; response: Response }> {
  await waitFor(() => subscription.completed || subscription.failure, { what: 'the stream to end' });
  expect(subscription.failure).toBeUndefined();
  expect(subscription.events).toEqual([]);
  const response = await subscription.response;
  // GraphQL over SSE: refusals come inside an accepted stream, never as an HTTP error.
  expect(response.status).toBe(200);
  return { codes: subscription.errorCodes, response };
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.close());

async function write(query: string, variables: Record<string, unknown>, to = server) {
  const response = await to.graphql(query, variables);
  expect(response.body.errors).toBeUndefined();
  return response.body.data!;
}

async function createCustomer(to = server): Promise<string> {
  const data = await write(
    'mutation ($input: CreateCustomerInput!) { createCustomer(input: $input) { customer { id } errors { ... on Error { code } } } }',
    { input: { firstName: 'Live', lastName: 'Feed', email: uniqueEmail('feed') } },
    to,
  );
  return data['createCustomer'].customer.id;
}

async function updateCustomer(id: string, input: Record<string, unknown>, to = server) {
  const data = await write(
    'mutation ($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { customer { version } errors { ... on Error { code } } } }',
    { id, input },
    to,
  );
  expect(data['updateCustomer'].errors).toEqual([]);
}

async function updateCustomers(items: Array<{ id: string; input: Record<string, unknown> }>) {
  const data = await write(
    'mutation ($items: [UpdateCustomersItem!]!) { updateCustomers(items: $items) { customers { id } errors { ... on Error { code } } } }',
    { items },
  );
  expect(data['updateCustomers'].errors).toEqual([]);
}

/** The event ids after `after`, as the database has them, in order. */
async function eventIdsAfter(after: string): Promise<string[]> {
  const { rows } = await server.database.sql.query<{ event: string }>('SELECT id::text AS event FROM customer_changes WHERE id > $1 ORDER BY id', [after]);
  return rows.map((row) => row.event);
}

const ids = (events: FeedEvent[]) => events.map((event) => event.change.id);

describe('without after: the writes committed once it started', () => {
  it('sends a creation, an update with its field changes, and one event per item of a batch, in order', async () => {
    const before = await createCustomer();
    const feed = subscribe(server);
    await feed.response;

    const id = await createCustomer();
    await waitFor(() => feed.events.length === 1, { what: 'the creation' });
    expect(feed.events[0]).toMatchObject({ type: 'CUSTOMER_CREATED', customerId: id, change: { version: 1, actor: expect.stringMatching(/^writer-/) } });
    expect(feed.events[0]!.change.changes.map((change) => change.field)).toEqual(expect.arrayContaining(['firstName', 'lastName', 'email']));

    await updateCustomer(id, { company: 'Feedco', storeCredit: '12.5' });
    await waitFor(() => feed.events.length === 2, { what: 'the update' });
    expect(feed.events[1]).toMatchObject({
      type: 'CUSTOMER_UPDATED',
      customerId: id,
      change: {
        version: 2,
        changes: [
          { field: 'company', from: null, to: 'Feedco' },
          { field: 'storeCredit', from: '0.0000', to: '12.5000' },
        ],
      },
    });

    await updateCustomers([
      { id: before, input: { notes: 'batch' } },
      { id, input: { notes: 'batch' } },
    ]);
    await waitFor(() => feed.events.length === 4, { what: 'one event per item of the batch' });
    expect(feed.events.slice(2).map((event) => [event.customerId, event.type, event.change.version])).toEqual(
      expect.arrayContaining([
        [before, 'CUSTOMER_UPDATED', 2],
        [id, 'CUSTOMER_UPDATED', 3],
      ]),
    );

    // Nothing from before it started, nothing twice, in the log's order; each cursor names its event.
    expect(ids(feed.events)).toEqual(await eventIdsAfter(String(BigInt(feed.events[0]!.change.id) - 1n)));
    for (const event of feed.events) expect(event.cursor).toBe(encodeCursor('event', BigInt(event.change.id)));
    expect(feed.completed).toBe(false);
    feed.close();
  });

  it('sends nothing for a write that rolled back, nor for a refused one', async () => {
    const id = await createCustomer();
    const feed = subscribe(server, { customerId: id });
    await feed.response;
    const rolledBack = await openWrite(server.database.sql, id);
    await rolledBack.end('ROLLBACK');
    const refused = await server.graphql('mutation ($id: ID!) { updateCustomer(id: $id, input: { firstName: " " }) { errors { ... on Error { code } } } }', { id });
    expect(refused.body.data?.['updateCustomer'].errors).toEqual([{ code: 'REQUIRED' }]);
    await updateCustomer(id, { notes: 'kept' });
    await waitFor(() => feed.events.length === 1, { what: 'the committed write' });
    expect(feed.events[0]!.change).toMatchObject({ version: 2, changes: [{ field: 'notes', to: 'kept' }] });
    expect(BigInt(feed.events[0]!.change.id)).toBeGreaterThan(rolledBack.id);
    feed.close();
  });

  it('holds back a write that committed first until one that took a lower id has committed, then sends both in id order', async () => {
    const [held, other] = [await createCustomer(), await createCustomer()];
    const feed = subscribe(server);
    await feed.response;

    const lower = await openWrite(server.database.sql, held);
    await updateCustomer(other, { notes: 'committed first, with the higher id' });
    await lower.end('COMMIT');

    await waitFor(() => feed.events.length === 2, { what: 'both writes' });
    expect(feed.events.map((event) => [event.customerId, event.change.version])).toEqual([
      [held, 2],
      [other, 2],
    ]);
    expect(BigInt(feed.events[0]!.change.id)).toBe(lower.id);
    feed.close();
  });
});

describe('with after: replay, then live', () => {
  it('sends every event after the cursor in order, then the live ones, with no gap and no repeat, while writes go on', async () => {
    const customers: string[] = [];
    for (let i = 0; i < 10; i++) customers.push(await createCustomer());
    const batch = (round: number) => updateCustomers(customers.map((id) => ({ id, input: { notes: `round ${round}` } })));

    const first = subscribe(server);
    await first.response;
    await batch(0);
    await waitFor(() => first.events.length === 10, { what: 'the first batch' });
    const resumeFrom = first.events[4]!;
    first.close();

    // Written while nobody follows: the replay reads them from the log, over more than one page.
    for (let round = 1; round <= 29; round++) await batch(round);

    const resumed = subscribe(server, { after: resumeFrom.cursor });
    // and written while it replays
    for (let round = 30; round < 50; round++) await batch(round);
    const expected = await eventIdsAfter(resumeFrom.change.id);
    expect(expected).toHaveLength(5 + 49 * 10);
    await waitFor(() => resumed.events.length >= expected.length, { what: `${expected.length} events`, timeoutMs: 20_000 });

    // one more, live, to see that nothing else came in between
    await updateCustomer(customers[0]!, { notes: 'the last one' });
    await waitFor(() => resumed.events.length > expected.length, { what: 'the live event' });
    const last = await eventIdsAfter(expected.at(-1)!);
    expect(ids(resumed.events)).toEqual([...expected, ...last]);
    expect(resumed.events.at(-1)!.change.changes).toEqual([{ field: 'notes', from: 'round 49', to: 'the last one' }]);
    resumed.close();
  });

  it('refuses an after that is not a cursor this API gave out, as a bad page cursor', async () => {
    for (const after of ['garbage', encodeCursor('customer', 1), encodeCursor('event', 2n ** 63n)]) {
      const { codes } = await refusal(subscribe(server, { after }));
      expect(codes, after).toEqual(['BAD_USER_INPUT']);
    }
  });
});

describe('customerId', () => {
  it('sends only that customer\'s events; an id that names no customer gets none, as customer(id) gets null', async () => {
    const [mine, theirs] = [await createCustomer(), await createCustomer()];
    const all = subscribe(server);
    const one = subscribe(server, { customerId: mine });
    const none = subscribe(server, { customerId: 'abc' });
    await Promise.all([all.response, one.response, none.response]);

    await updateCustomer(theirs, { notes: 'theirs' });
    await updateCustomer(mine, { notes: 'mine' });
    await updateCustomer(theirs, { notes: 'theirs again' });
    await waitFor(() => all.events.length === 3 && one.events.length === 1, { what: 'the events' });
    expect(one.events[0]).toMatchObject({ customerId: mine, change: { version: 2 } });
    expect(none.results).toEqual([]);
    expect(none.completed).toBe(false);
    for (const feed of [all, one, none]) feed.close();
  });
});

describe('scopes', () => {
  it('without a token: UNAUTHENTICATED, as a GraphQL error in the stream', async () => {
    expect((await refusal(subscribe(server, {}, { token: null }))).codes).toEqual(['UNAUTHENTICATED']);
    expect((await refusal(subscribe(server, {}, { token: 'cgw_unknown' }))).codes).toEqual(['UNAUTHENTICATED']);
  });

  it('a token without customers:read: FORBIDDEN', async () => {
    const secret = `cgw_${randomBytes(32).toString('base64url')}`;
    await server.database.sql.query('INSERT INTO api_tokens (name, token_hash, scopes) VALUES ($1, $2, $3)', [
      `other-scope-${randomBytes(3).toString('hex')}`,
      hashToken(secret),
      ['webhooks:manage'],
    ]);
    expect((await refusal(subscribe(server, {}, { token: secret }))).codes).toEqual(['FORBIDDEN']);
  });

  it('a write token may follow it too, and Authorization: Bearer works as X-Auth-Token does', async () => {
    const id = await createCustomer();
    const byWriter = subscribe(server, { customerId: id }, { token: server.tokens.write });
    const byBearer = subscribe(server, { customerId: id }, { token: null, headers: { authorization: `Bearer ${server.tokens.read}` } });
    await Promise.all([byWriter.response, byBearer.response]);
    await updateCustomer(id, { notes: 'seen by both' });
    await waitFor(() => byWriter.events.length === 1 && byBearer.events.length === 1, { what: 'the event on both' });
    byWriter.close();
    byBearer.close();
  });
});

describe('subscriptions per token (MAX_SUBSCRIPTIONS_PER_TOKEN)', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({ database: server.database, maxSubscriptionsPerToken: 2 });
  });
  afterAll(() => limited?.close());

  it('refuses one more with TOO_MANY_SUBSCRIPTIONS, other tokens unaffected, and gives the place back when one ends', async () => {
    const probed = await createCustomer();
    const open = [subscribe(limited), subscribe(limited)];
    await Promise.all(open.map((feed) => feed.response));

    const { codes, response } = await refusal(subscribe(limited));
    expect(codes).toEqual(['TOO_MANY_SUBSCRIPTIONS']);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);

    const otherToken = subscribe(limited, { customerId: probed }, { token: limited.tokens.write });
    await otherToken.response;
    await updateCustomer(probed, { notes: 'another token still follows' });
    await waitFor(() => otherToken.events.length === 1, { what: 'the other token\'s event' });
    otherToken.close();

    open[0]!.close();
    // Accepted once the server has seen the client leave: a probe gets an event, not a refusal.
    let round = 0;
    const accepted = await waitFor(
      async () => {
        const probe = subscribe(limited, { customerId: probed });
        await probe.response;
        await updateCustomer(probed, { notes: `probe ${++round}` });
        await waitFor(() => probe.results.length > 0, { what: 'the probe\'s answer' });
        probe.close();
        return probe.events.length > 0 ? probe : null;
      },
      { what: 'the place to be given back' },
    );
    expect(accepted!.errorCodes).toEqual([]);
    open[1]!.close();
  });
});

describe('through the server\'s plugins', () => {
  it('answers with the usual headers: no caching, no sniffing, the request id', async () => {
    const feed = subscribe(server);
    const response = await feed.response;
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('vary')).toMatch(/X-Auth-Token/);
    expect(response.headers.get('x-request-id')).toBeTruthy();
    feed.close();
  });

  it('counts a subscription once, when it starts, however many events it sends; past the quota, RATE_LIMITED in the stream', async () => {
    // A clock that stands still: the window never turns over during the test.
    const counted = await startTestServer({ database: server.database, rateLimit: { requests: 3, windowMs: 60_000, store: new MemoryRateLimitStore(() => 0) } });
    try {
      const id = await createCustomer(counted);
      const feed = subscribe(counted, { customerId: id });
      expect((await feed.response).headers.get('x-rate-limit-requests-left')).toBe('2');
      await updateCustomer(id, { notes: 'one' }, counted);
      await updateCustomer(id, { notes: 'two' }, counted);
      await waitFor(() => feed.events.length === 2, { what: 'two events' });
      const query = await counted.graphql('{ __typename }', {}, { token: counted.tokens.read });
      expect(query.headers.get('x-rate-limit-requests-left')).toBe('1');

      expect((await subscribe(counted, { customerId: id }).response).headers.get('x-rate-limit-requests-left')).toBe('0');
      const { codes, response } = await refusal(subscribe(counted, { customerId: id }));
      expect(codes).toEqual(['RATE_LIMITED']);
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
      feed.close();
    } finally {
      await counted.close();
    }
  });

  it('refuses a GET event stream without a CSRF header (any web page could open one), and serves it with one', async () => {
    const id = await createCustomer();
    /** The client's POST sent as a GET with the operation in the URL, as EventSource would, without a content type. */
    const asGet = (csrf: boolean) => (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new URL(String(input));
      for (const [key, value] of Object.entries(JSON.parse(String(init!.body)) as Record<string, unknown>)) {
        url.searchParams.set(key, typeof value === 'string' ? value : JSON.stringify(value));
      }
      const headers = new Headers(init!.headers);
      headers.delete('content-type');
      if (csrf) headers.set('x-graphql-yoga-csrf', '1');
      return fetch(url, { ...init, method: 'GET', body: undefined, headers });
    };
    const refused = subscribe(server, { customerId: id }, { fetchFn: asGet(false) });
    await refusal(refused);
    expect(refused.results[0]!.errors![0]!.message).toMatch(/CSRF/);

    const allowed = subscribe(server, { customerId: id }, { fetchFn: asGet(true) });
    await allowed.response;
    await updateCustomer(id, { notes: 'over GET' });
    await waitFor(() => allowed.events.length === 1, { what: 'the event over GET' });
    allowed.close();
  });

  it('runs one root field per subscription, like one write per mutation', async () => {
    const twice = subscribe(server, {}, { request: { query: 'subscription { a: customerChanges { cursor } b: customerChanges { cursor } }' } });
    const { codes } = await refusal(twice);
    expect(codes).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it('measures a subscription\'s cost and refuses one over MAX_COST', async () => {
    const costly = await startTestServer({ database: server.database, limits: { maxCost: 2 } });
    try {
      const { codes } = await refusal(subscribe(costly));
      expect(codes).toEqual(['QUERY_TOO_COMPLEX']);
      const cheap = subscribe(costly, {}, { request: { query: 'subscription { customerChanges { cursor } }' } });
      await cheap.response;
      await createCustomer();
      await waitFor(() => cheap.events.length === 1, { what: 'an event on the cheap subscription' });
      expect(cheap.errorCodes).toEqual([]);
      cheap.close();
    } finally {
      await costly.close();
    }
  });

  it('runs a persisted subscription by its hash alone', async () => {
    const id = await createCustomer();
    const extensions = { persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(FEED).digest('hex') } };
    const registering = subscribe(server, { customerId: id }, { request: { extensions } });
    await registering.response;
    registering.close();

    const byHash = subscribe(server, { customerId: id }, { request: { query: undefined, extensions } });
    await byHash.response;
    await updateCustomer(id, { notes: 'by hash' });
    await waitFor(() => byHash.events.length === 1, { what: 'the event of the persisted subscription' });
    expect(byHash.errorCodes).toEqual([]);
    byHash.close();
  });
});

describe('shutdown', () => {
  it('ends every live subscription as it begins: the client sees its stream complete, and nothing holds the connection', async () => {
    const stopping = new AbortController();
    const closing = await startTestServer({ database: server.database, shutdownSignal: stopping.signal });
    try {
      const feed = subscribe(closing);
      await feed.response;
      stopping.abort();
      await waitFor(() => feed.completed, { what: 'the stream to complete' });
      expect(feed.failure).toBeUndefined();
      expect(feed.results).toEqual([]);
    } finally {
      await closing.close();
    }
  });
});
