/**
 * API.md "Federation and tracing", with real federation tools: our subgraph (the real HTTP server
 * on a test database) composed with a small "orders" subgraph written here, by
 * @theguild/federation-composition, behind a real Apollo Gateway in this process, all over HTTP.
 * The gateway forwards the client's X-Auth-Token, so the subgraph enforces the same scopes.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { composeServices, type CompositionResult } from '@theguild/federation-composition';
import { parse } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSupergraphGateway, CUSTOMERS_SUBGRAPH } from '../../examples/supergraph/gateway.ts';
import { createToken } from '../../src/domain/tokens.ts';
import { MemoryRateLimitStore } from '../../src/http/rate-limit.ts';
import { insertCustomer, type CustomerFixture } from '../support/customers.ts';
import { startTestServer, type GraphQLResponse, type TestServer } from '../support/server.ts';

/** Requests per token and minute on our subgraph: more than any test here sends with one token but the last. */
const QUOTA = 20;

/** The second subgraph: orders, each referencing a customer of ours by id. */
const ORDERS_SDL = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.6", import: ["@key"])

  type Query {
    order(id: ID!): Order
  }

  type Order @key(fields: "id") {
    id: ID!
    total: String!
    customer: Customer!
  }

  type Customer @key(fields: "id", resolvable: false) {
    id: ID!
  }
`;

let customers: TestServer;
let orders: Server;
let gateway: YogaServerInstance<{}, {}>;
let gatewayHttp: Server;
let gatewayUrl: string;
let composition: CompositionResult;
let jane: CustomerFixture;
let john: CustomerFixture;
const ORDERS = new Map<string, { total: string; customerId: () => string }>([
  ['o-1', { total: '129.90', customerId: () => jane.id }],
  ['o-2', { total: '15.00', customerId: () => john.id }],
]);

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function close(server: Server | undefined): Promise<void> {
  if (!server) return;
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** POSTs one operation to the gateway, as a client of the supergraph would. */
async function throughGateway(query: string, variables: Record<string, unknown>, token: string | null): Promise<GraphQLResponse> {
  const response = await fetch(`${gatewayUrl}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...(token ? { 'x-auth-token': token } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: JSON.parse(text), text };
}

beforeAll(async () => {
  customers = await startTestServer({ rateLimit: { requests: QUOTA, windowMs: 60_000, store: new MemoryRateLimitStore() } });
  jane = await insertCustomer(customers, { first_name: 'Jane' });
  john = await insertCustomer(customers, { first_name: 'John' });

  const ordersSchema = buildSubgraphSchema({
    typeDefs: parse(ORDERS_SDL),
    resolvers: {
      Query: {
        order: (_root: unknown, { id }: { id: string }) => {
          const order = ORDERS.get(id);
          return order && { id, total: order.total, customer: { __typename: 'Customer', id: order.customerId() } };
        },
      },
    },
  });
  orders = createHttpServer(createYoga({ schema: ordersSchema, logging: false }));
  const ordersUrl = `${await listen(orders)}/graphql`;

  // Our SDL as a router fetches it: `_service { sdl }` over HTTP.
  const sdl = (await customers.graphql('{ _service { sdl } }', undefined, { token: null })).body.data!._service.sdl as string;
  composition = composeServices([
    { name: CUSTOMERS_SUBGRAPH, typeDefs: parse(sdl), url: `${customers.url}/graphql` },
    { name: 'orders', typeDefs: parse(ORDERS_SDL), url: ordersUrl },
  ]);
  if (composition.errors) throw new AggregateError(composition.errors, 'composition failed');

  // The gateway README's "Use it in a supergraph" shows.
  gateway = await createSupergraphGateway(composition.supergraphSdl);
  gatewayHttp = createHttpServer(gateway);
  gatewayUrl = await listen(gatewayHttp);
});

afterAll(async () => {
  await close(gatewayHttp);
  await gateway?.dispose();
  await close(orders);
  await customers?.close();
});

const ORDER = 'query Order($id: ID!) { order(id: $id) { total customer { email firstName } } }';
const UPDATE = /* GraphQL */ `
  mutation Update($id: ID!, $input: UpdateCustomerInput!) {
    updateCustomer(id: $id, input: $input) {
      customer { id company }
      errors { __typename ... on Error { code path message } }
    }
  }
`;

describe('composition', () => {
  it('composes our subgraph, as _service gives it, with a subgraph that references Customer', () => {
    expect(composition.errors).toBeUndefined();
    const supergraph = composition.supergraphSdl!;
    expect(supergraph).toMatch(/CUSTOMERS @join__graph\(name: "customers", url: "http:\/\/127\.0\.0\.1:\d+\/graphql"\)/);
    expect(supergraph).toMatch(/type Customer @join__type\(graph: CUSTOMERS, key: "id"\) @join__type\(graph: ORDERS, key: "id", resolvable: false\)/);
    // the client-facing supergraph: Order.customer is our Customer, with all of its fields
    const api = composition.publicSdl!;
    expect(api).toMatch(/type Order \{[^}]*customer: Customer!/);
    expect(api).toMatch(/type Customer \{[^}]*email: EmailAddress!/);
    expect(api).toMatch(/updateCustomer\(/);
    expect(api).not.toMatch(/_entities|_service|@key/);
  });
});

describe('through the gateway', () => {
  it('an order\'s customer comes from our subgraph when the client\'s token is forwarded', async () => {
    const response = await throughGateway(ORDER, { id: 'o-1' }, customers.tokens.read);
    expect(response.body).toEqual({ data: { order: { total: '129.90', customer: { email: jane.email, firstName: 'Jane' } } } });
    expect(response.status).toBe(200);
    // our rate-limit figures reach the client too
    expect(response.headers.get('x-rate-limit-requests-quota')).toBe(String(QUOTA));
    const other = await throughGateway(ORDER, { id: 'o-2' }, customers.tokens.write);
    expect(other.body.data).toEqual({ order: { total: '15.00', customer: { email: john.email, firstName: 'John' } } });
  });

  it('without a token the customer is refused as customer(id) refuses it: 401 UNAUTHENTICATED', async () => {
    const response = await throughGateway(ORDER, { id: 'o-1' }, null);
    expect(response.status).toBe(401);
    expect(response.body.data).toEqual({ order: null });
    // the path as the gateway tells it: where in the client's query the customer was refused
    expect(response.body.errors!.map((error) => [error.extensions!.code, error.path!.slice(0, 2)])).toEqual([['UNAUTHENTICATED', ['order', 'customer']]]);
  });

  it('a read token cannot run a mutation: 403 FORBIDDEN, as the API answers directly, and nothing is written', async () => {
    const variables = { id: jane.id, input: { company: 'Through The Gateway Ltd' } };
    const direct = await customers.graphql(UPDATE, variables, { token: customers.tokens.read });
    const response = await throughGateway(UPDATE, variables, customers.tokens.read);
    for (const each of [direct, response]) {
      expect(each.status).toBe(403);
      expect(each.body.data ?? null).toBeNull();
      expect(each.body.errors!.map((error) => [error.extensions!.code, error.path, error.message])).toEqual([
        ['FORBIDDEN', ['updateCustomer'], 'This token does not have the scope this field needs'],
      ]);
    }
    const { rows } = await customers.database.sql.query('SELECT company FROM customers WHERE id = $1', [jane.id]);
    expect(rows[0].company).not.toBe('Through The Gateway Ltd');
  });

  it('our typed errors come through intact: a taken email is an EmailAlreadyInUseError in the payload', async () => {
    const variables = { id: jane.id, input: { email: john.email.toUpperCase() } };
    const response = await throughGateway(UPDATE, variables, customers.tokens.write);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      data: {
        updateCustomer: {
          customer: null,
          errors: [{ __typename: 'EmailAlreadyInUseError', code: 'TAKEN', path: ['input', 'email'], message: `Another customer already uses ${john.email.toUpperCase()}` }],
        },
      },
    });
    // the same answer as the API gives directly
    expect(response.body).toEqual((await customers.graphql(UPDATE, variables, { token: customers.tokens.write })).body);
  });

  it('a write through the gateway is what the next read through it sees', async () => {
    const written = await throughGateway(UPDATE, { id: john.id, input: { firstName: 'Johnny' } }, customers.tokens.write);
    expect(written.body.data!.updateCustomer.errors).toEqual([]);
    const read = await throughGateway(ORDER, { id: 'o-2' }, customers.tokens.read);
    expect(read.body.data!.order.customer.firstName).toBe('Johnny');
  });

  it('the rate limit counts the client\'s token as it does directly: 429 RATE_LIMITED past the quota, with Retry-After', async () => {
    const token = (await createToken(customers.database.db, 'through-gateway', ['customers:read'])).secret;
    for (let sent = 1; sent <= QUOTA; sent++) {
      const response = await throughGateway(ORDER, { id: 'o-1' }, token);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-rate-limit-requests-left')).toBe(String(QUOTA - sent));
    }
    const refused = await throughGateway(ORDER, { id: 'o-1' }, token);
    expect(refused.status).toBe(429);
    expect(refused.body.errors!.map((error) => error.extensions!.code)).toEqual(['RATE_LIMITED']);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
