/**
 * Automatic persisted queries, Apollo's protocol: a hash alone first (PersistedQueryNotFound),
 * then the hash with the query, then the hash alone works. Driven by hand and by Apollo Client.
 */
import { createHash } from 'node:crypto';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/http/logging.ts';
import { seedDemoCustomers } from '../../src/domain/demo-customers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const lines: Array<Record<string, any>> = [];
let server: TestServer;
let customerId: string;

beforeAll(async () => {
  server = await startTestServer({ logger: createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) }) });
  await seedDemoCustomers(server.database.db);
  const { rows } = await server.database.sql.query('SELECT id FROM customers ORDER BY id LIMIT 1');
  customerId = String(rows[0].id);
});
afterAll(() => server.close());

async function post(body: unknown, { to = server, token = to.tokens.read }: { to?: TestServer; token?: string | null } = {}) {
  const response = await fetch(`${to.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...(token ? { 'x-auth-token': token } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

const persisted = (query: string) => ({ persistedQuery: { version: 1, sha256Hash: sha256(query) } });
/** The status of running a query by its hash alone: 404 when the server did not store it. */
const byHash = async (query: string, to = server) => (await post({ extensions: persisted(query) }, { to })).status;

describe('automatic persisted queries, by hand', () => {
  const query = 'query PersistedCustomer($id: ID!) { customer(id: $id) { id email } }';
  const extensions = { persistedQuery: { version: 1, sha256Hash: sha256(query) } };

  it('answers an unknown hash with PersistedQueryNotFound, stores the query sent with it, then runs the hash alone', async () => {
    const variables = { id: customerId };
    const unknown = await post({ extensions, variables });
    expect(unknown.status).toBe(404);
    expect(unknown.body.errors[0]).toMatchObject({ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } });

    const registered = await post({ query, extensions, variables });
    expect(registered.status).toBe(200);
    expect(registered.body.data.customer.id).toBe(customerId);

    const byHash = await post({ extensions, variables });
    expect(byHash.status).toBe(200);
    expect(byHash.body).toEqual(registered.body);

    // and by GET, with a header that proves it is not a cross-site form (see CSRF prevention)
    const url = new URL(`${server.url}/graphql`);
    url.searchParams.set('extensions', JSON.stringify(extensions));
    url.searchParams.set('variables', JSON.stringify(variables));
    const get = await fetch(url, { headers: { 'x-auth-token': server.tokens.read, 'x-graphql-yoga-csrf': '1' } });
    expect(get.status).toBe(200);
    expect(await get.json()).toEqual(registered.body);
  });

  it('refuses a query whose hash does not match', async () => {
    const mismatch = await post({ query: '{ __typename }', extensions });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.errors[0].extensions.code).toBe('PERSISTED_QUERY_MISMATCH');
  });
});

describe('what is stored', () => {
  it('only queries sent by an authenticated caller', async () => {
    const query = 'query AnonymousRegistration { passwordPolicy { minLength } }';
    const anonymous = await post({ query, extensions: persisted(query) }, { token: null });
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.data.passwordPolicy.minLength).toBeGreaterThan(0);
    expect(await byHash(query)).toBe(404);
    // the same query from a token is stored
    expect((await post({ query, extensions: persisted(query) })).status).toBe(200);
    expect(await byHash(query)).toBe(200);
  });

  it('only queries that validate, document limits included', async () => {
    const invalid = '{ customer(id: "1") { nope } }';
    expect((await post({ query: invalid, extensions: persisted(invalid) })).status).toBe(400);
    expect(await byHash(invalid)).toBe(404);
    const tooDeep = `{ customer(id: "1") { ${'history { edges { node { '.repeat(3)}id${' } } }'.repeat(3)} } }`;
    const refused = await post({ query: tooDeep, extensions: persisted(tooDeep) });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].extensions.code).toBe('QUERY_TOO_COMPLEX');
    expect(await byHash(tooDeep)).toBe(404);
  });

  it('only queries of at most 20 KB by default, and at most as many as the store holds', async () => {
    const large = `{ __typename } # ${'x'.repeat(20_000)}`;
    expect((await post({ query: large, extensions: persisted(large) })).status).toBe(200);
    expect(await byHash(large)).toBe(404);

    const small = await startTestServer({ database: server.database, limits: { maxPersistedQueryBytes: 100, maxPersistedQueries: 2 } });
    try {
      const sized = (bytes: number, name: string) => `query ${name} { __typename } #`.padEnd(bytes, 'x');
      for (const query of [sized(100, 'AtCap'), sized(101, 'OverCap')]) expect((await post({ query, extensions: persisted(query) }, { to: small })).status).toBe(200);
      expect(await byHash(sized(100, 'AtCap'), small)).toBe(200);
      expect(await byHash(sized(101, 'OverCap'), small)).toBe(404);
      // two more: the least recently used one (AtCap) leaves
      for (const name of ['Second', 'Third']) {
        const query = sized(50, name);
        expect((await post({ query, extensions: persisted(query) }, { to: small })).status).toBe(200);
      }
      expect(await byHash(sized(100, 'AtCap'), small)).toBe(404);
      expect(await byHash(sized(50, 'Third'), small)).toBe(200);
    } finally {
      await small.close();
    }
  });
});

describe('automatic persisted queries with Apollo Client', () => {
  const CUSTOMER = gql`
    query ApolloCustomer($id: ID!) {
      customer(id: $id) {
        id
        email
      }
    }
  `;
  const client = (useGETForHashedQueries: boolean) =>
    new ApolloClient({
      cache: new InMemoryCache(),
      link: new PersistedQueryLink({ sha256, useGETForHashedQueries }).concat(
        new HttpLink({ uri: `${server.url}/graphql`, headers: { 'x-auth-token': server.tokens.read } }),
      ),
    });
  const requestsFor = (operation: string) => lines.filter((line) => line.msg === 'request' && line.operation === operation);

  it('registers the query on first use and then sends only its hash, by POST and by GET', async () => {
    const first = await client(false).query({ query: CUSTOMER, variables: { id: customerId } });
    expect(first.data).toEqual({ customer: { __typename: 'Customer', id: customerId, email: expect.any(String) } });
    expect(requestsFor('ApolloCustomer').map((line) => [line.method, line.status])).toEqual([
      ['POST', 404],
      ['POST', 200],
    ]);

    lines.length = 0;
    // new clients (empty caches): the server already knows the hash
    const again = await client(false).query({ query: CUSTOMER, variables: { id: customerId } });
    expect(again.data).toEqual(first.data);
    const viaGet = await client(true).query({ query: CUSTOMER, variables: { id: customerId } });
    expect(viaGet.data).toEqual(first.data);
    expect(requestsFor('ApolloCustomer').map((line) => [line.method, line.status])).toEqual([
      ['POST', 200],
      ['GET', 200],
    ]);
  });
});
