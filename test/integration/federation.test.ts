/**
 * API.md "Federation and tracing": the service as a Federation v2 subgraph, asked directly as a
 * router asks it. `_entities` is guarded and counted as `customer(id)` is.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/domain/tokens.ts';
import { MemoryRateLimitStore } from '../../src/http/rate-limit.ts';
import { SUBGRAPH_FILE } from '../../src/schema/print.ts';
import { insertCustomer, type CustomerFixture } from '../support/customers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { statementsFor } from '../support/statements.ts';

// As Hive Gateway and Apollo Router send it.
const ENTITIES = /* GraphQL */ `
  query ($representations: [_Any!]!) {
    _entities(representations: $representations) { __typename ... on Customer { id email firstName } }
  }
`;
const CUSTOMER = 'query ($id: ID!) { customer(id: $id) { id email firstName } }';
const reference = (id: string | number) => ({ __typename: 'Customer', id });

let server: TestServer;
let jane: CustomerFixture;
let john: CustomerFixture;
beforeAll(async () => {
  server = await startTestServer();
  jane = await insertCustomer(server, { first_name: 'Jane' });
  john = await insertCustomer(server, { first_name: 'John' });
});
afterAll(() => server.close());

describe('_service', () => {
  it('answers the SDL of subgraph.graphql, with no token needed (as introspection)', async () => {
    const response = await server.graphql('{ _service { sdl } }', undefined, { token: null });
    expect(response.status).toBe(200);
    expect(response.body.data!._service.sdl).toBe(readFileSync(SUBGRAPH_FILE, 'utf8'));
  });

  it('is refused where introspection is off (production), before anything runs', async () => {
    const production = await startTestServer({ database: server.database, production: true });
    try {
      const response = await production.graphql('{ _service { sdl } }', undefined, { token: null });
      expect(response.status).toBe(400);
      expect(response.body.errors![0]!.extensions!.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(response.text).not.toContain('@key');
    } finally {
      await production.close();
    }
  });
});

describe('_entities', () => {
  it('loads the referenced customers in order, null for an id that names none', async () => {
    const response = await server.graphql(
      ENTITIES,
      { representations: [reference(john.id), reference('999999'), reference(Number(jane.id)), reference('not-an-id')] },
      { token: server.tokens.read },
    );
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      data: {
        _entities: [
          { __typename: 'Customer', id: john.id, email: john.email, firstName: 'John' },
          null,
          { __typename: 'Customer', id: jane.id, email: jane.email, firstName: 'Jane' },
          null,
        ],
      },
    });
  });

  it('reads all the references of one request in one statement, and their form fields in one more', async () => {
    const WITH_FIELDS = `query ($representations: [_Any!]!) {
      _entities(representations: $representations) { ... on Customer { id email formFields { name value } } }
    }`;
    const others = await Promise.all(Array.from({ length: 8 }, () => insertCustomer(server)));
    await server.database.sql.query(
      `INSERT INTO customer_form_fields (customer_id, name, value) VALUES ($1, 'accepts_sms', 'true'), ($1, 'a_first', '"x"')`,
      [Number(others[0]!.id)],
    );
    const send = (ids: string[]) => server.graphql(WITH_FIELDS, { representations: ids.map(reference) }, { token: server.tokens.read });
    await send([jane.id]); // the token's first use: its lookup and its last-use mark

    const many = [...others.map((c) => c.id), jane.id, '999999', others[0]!.id];
    const response = await send(many);
    expect(response.body.errors).toBeUndefined();
    const entities = response.body.data!._entities as Array<{ id: string; formFields: Array<{ name: string; value: unknown }> } | null>;
    expect(entities.map((entity) => entity?.id ?? null)).toEqual([...others.map((c) => c.id), jane.id, null, others[0]!.id]);
    // by name, as customer(id) gives them
    expect(entities[0]!.formFields).toEqual([
      { name: 'a_first', value: 'x' },
      { name: 'accepts_sms', value: true },
      { name: 'newsletter_topics', value: ['offers'] },
    ]);
    const single = await server.graphql('query ($id: ID!) { customer(id: $id) { formFields { name value } } }', { id: others[0]!.id }, { token: server.tokens.read });
    expect(single.body.data!.customer.formFields).toEqual(entities[0]!.formFields);
    for (const entity of entities.slice(1, 9)) expect(entity!.formFields).toEqual([{ name: 'newsletter_topics', value: ['offers'] }]);

    const one = await statementsFor(server, () => send([jane.id]));
    const eleven = await statementsFor(server, () => send(many));
    expect(one).toBeLessThanOrEqual(3); // 2, the customers and their form fields, but for a stray background read
    expect(eleven).toBeLessThanOrEqual(one);
  });

  it('needs customers:read as customer(id) does: 401 without a token, 403 with a token lacking it', async () => {
    const webhooksOnly = (await createToken(server.database.db, 'webhooks-only', ['webhooks:manage'])).secret;
    for (const [token, status, code] of [
      [null, 401, 'UNAUTHENTICATED'],
      [webhooksOnly, 403, 'FORBIDDEN'],
    ] as const) {
      const entities = await server.graphql(ENTITIES, { representations: [reference(jane.id)] }, { token });
      const customer = await server.graphql(CUSTOMER, { id: jane.id }, { token });
      for (const response of [entities, customer]) {
        expect(response.status).toBe(status);
        // nothing read: `customer` is null, `_entities` (non-null) nulls the whole data
        expect(Object.values(response.body.data ?? {}).filter((value) => value !== null)).toEqual([]);
        expect(response.body.errors!.map((error) => error.extensions!.code)).toEqual([code]);
      }
      expect(entities.body.errors![0]!.message).toBe(customer.body.errors![0]!.message);
    }
  });

  it('refuses a representation that names no customer with 400 BAD_USER_INPUT', async () => {
    for (const representation of [{ __typename: 'Order', id: '1' }, { __typename: 'Customer' }, { id: '1' }, 'Customer:1']) {
      const response = await server.graphql(ENTITIES, { representations: [reference(jane.id), representation] }, { token: server.tokens.read });
      expect(response.status, JSON.stringify(representation)).toBe(400);
      expect(response.body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
      expect(response.body.errors![0]!.message).toContain('representations[1]');
    }
  });
});

describe('_entities and the rate limit', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({ database: server.database, rateLimit: { requests: 5, windowMs: 60_000, store: new MemoryRateLimitStore() } });
  });
  afterAll(() => limited.close());

  it('counts as customer(id) does, by cost: 1 plus 1 per representation, one request per 100 points', async () => {
    const left = (response: { headers: Headers }) => response.headers.get('x-rate-limit-requests-left');
    const token = limited.tokens.read;
    expect(left(await limited.graphql(CUSTOMER, { id: jane.id }, { token }))).toBe('4');
    expect(left(await limited.graphql(ENTITIES, { representations: [reference(jane.id)] }, { token }))).toBe('3');
    // 150 references cost 151 points: two requests of the quota (the same document as before,
    // so a cost kept for one representation must not be reused for 150)
    const many = Array.from({ length: 150 }, (_, index) => reference(index % 2 ? jane.id : john.id));
    const big = await limited.graphql(ENTITIES, { representations: many }, { token });
    expect(big.status).toBe(200);
    expect(big.body.data!._entities).toHaveLength(150);
    expect(left(big)).toBe('1');
    const refused = await limited.graphql(ENTITIES, { representations: many }, { token });
    expect(refused.status).toBe(429);
    expect(refused.body.errors![0]!.extensions!.code).toBe('RATE_LIMITED');
  });
});
