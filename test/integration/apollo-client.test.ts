/**
 * Apollo Client 4, as frontends run it, from Node over real HTTP against the gateway: the
 * example operations (examples/operations), the normalized cache, typed errors through the Error
 * interface, and automatic persisted queries.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache, gql, type PossibleTypesMap, type TypedDocumentNode } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { buildSchema, isAbstractType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { customerRow, insertCustomer } from '../support/customers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

/**
 * An example operation with the fragment it spreads, as a client would load it. Untyped here:
 * the typed path is codegen's (test/system/codegen.test.ts).
 */
function operation(file: string): TypedDocumentNode<Record<string, any>, Record<string, unknown>> {
  return gql(read(`examples/operations/${file}`) + read('examples/operations/customer-fields.graphql'));
}
const CUSTOMER = operation('customer.graphql');
const CUSTOMERS = operation('customers.graphql');
const UPDATE_CUSTOMER = operation('update-customer.graphql');
const CREATE_CUSTOMER = operation('create-customer.graphql');

/** What Apollo's cache must be told about unions and interfaces, from schema.graphql (what codegen's fragment-matcher writes). */
function possibleTypesOf(sdl: string): PossibleTypesMap {
  const schema = buildSchema(sdl);
  const map: PossibleTypesMap = {};
  for (const type of Object.values(schema.getTypeMap())) {
    if (isAbstractType(type)) map[type.name] = schema.getPossibleTypes(type).map((member) => member.name);
  }
  return map;
}
const POSSIBLE_TYPES = possibleTypesOf(read('schema.graphql'));

/** The normalized cache's entries, by cache id (e.g. `Customer:7`). */
function cached(client: ApolloClient): Record<string, Record<string, unknown>> {
  return client.cache.extract() as Record<string, Record<string, unknown>>;
}

interface Exchange {
  method: string;
  /** The JSON body a POST carried, or the GET's query-string parameters, decoded. */
  params: Record<string, any>;
  /** The request's content type: on a GET, what lets it past the CSRF check. */
  contentType: string | null;
  status: number;
  response: Record<string, any>;
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

/** An Apollo Client whose every HTTP exchange with the gateway is recorded as sent and answered. */
function apollo(options: { token?: string; persisted?: { useGETForHashedQueries: boolean }; possibleTypes?: PossibleTypesMap | false } = {}) {
  const exchanges: Exchange[] = [];
  const recordingFetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const params =
      request.method === 'GET'
        ? Object.fromEntries([...new URL(request.url).searchParams].map(([key, value]) => [key, key === 'query' || key === 'operationName' ? value : JSON.parse(value)]))
        : JSON.parse(await request.clone().text());
    const response = await fetch(request);
    exchanges.push({ method: request.method, params, contentType: request.headers.get('content-type'), status: response.status, response: await response.clone().json() });
    return response;
  };
  const http = new HttpLink({ uri: `${server.url}/graphql`, headers: { 'X-Auth-Token': options.token ?? server.tokens.write }, fetch: recordingFetch });
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  const link = options.persisted ? ApolloLink.from([new PersistedQueryLink({ sha256, ...options.persisted }), http]) : http;
  const possibleTypes = options.possibleTypes === false ? undefined : (options.possibleTypes ?? POSSIBLE_TYPES);
  const client = new ApolloClient({ link, cache: new InMemoryCache(possibleTypes ? { possibleTypes } : {}) });
  return { client, exchanges };
}

describe('queries', () => {
  it('the Customer query reads a customer as stored', async () => {
    const { id, email } = await insertCustomer(server);
    const { client } = apollo();
    const { data } = await client.query({ query: CUSTOMER, variables: { id } });
    expect(data).toEqual({
      customer: {
        __typename: 'Customer',
        id,
        firstName: 'Jane',
        lastName: 'Doe',
        email,
        company: 'Acme Inc.',
        phone: '+1 512 555 0100',
        notes: 'Prefers email',
        storeCredit: '25.5000',
        registrationIpAddress: '203.0.113.7',
        customerGroupId: 1,
        taxExemptCategory: 'A',
        resetPassOnLogin: false,
        dateModified: ((await customerRow(server, id))!.date_modified as Date).toISOString(),
        version: 1,
      },
    });
  });

  it('an unknown id is customer: null, not an error', async () => {
    const { client } = apollo();
    expect((await client.query({ query: CUSTOMER, variables: { id: '987654' } })).data).toEqual({ customer: null });
  });

  it('the Customers query pages with endCursor, and its nodes land in the cache by id', async () => {
    const name = `Page${Date.now()}`;
    const ids = [];
    for (let index = 0; index < 3; index++) ids.push((await insertCustomer(server, { last_name: name })).id);
    const { client } = apollo();
    const first = await client.query({ query: CUSTOMERS, variables: { first: 2, filter: { name } } });
    expect(first.data!.customers.edges.map((edge: any) => edge.node.id)).toEqual(ids.slice(0, 2));
    expect(first.data!.customers.pageInfo.hasNextPage).toBe(true);
    const second = await client.query({ query: CUSTOMERS, variables: { first: 2, filter: { name }, after: first.data!.customers.pageInfo.endCursor } });
    expect(second.data!.customers.edges.map((edge: any) => edge.node.id)).toEqual(ids.slice(2));
    expect(second.data!.customers.pageInfo.hasNextPage).toBe(false);
    expect(cached(client)[`Customer:${ids[2]}`]).toMatchObject({ id: ids[2], lastName: name });
  });
});

describe('updateCustomer', () => {
  it("updates the cached customer by id: the earlier query reads the new values from the cache, with no request", async () => {
    const { id } = await insertCustomer(server);
    const { client, exchanges } = apollo();
    await client.query({ query: CUSTOMER, variables: { id } });
    const { data } = await client.mutate({ mutation: UPDATE_CUSTOMER, variables: { id, input: { firstName: 'Janet', company: null } } });
    expect(data!.updateCustomer).toMatchObject({ customer: { __typename: 'Customer', id, firstName: 'Janet', company: null, version: 2 }, errors: [] });
    const requests = exchanges.length;

    expect(client.readQuery({ query: CUSTOMER, variables: { id } })!.customer).toMatchObject({ firstName: 'Janet', company: null, version: 2 });
    const again = await client.query({ query: CUSTOMER, variables: { id } });
    expect(again.data!.customer).toMatchObject({ firstName: 'Janet', company: null, version: 2 });
    expect(exchanges).toHaveLength(requests);
    // One entity, under Apollo's default key.
    expect(Object.keys(cached(client)).filter((key) => key.startsWith('Customer:'))).toEqual([`Customer:${id}`]);
    expect((await customerRow(server, id))!.first_name).toBe('Janet');
  });

  it('reports TAKEN through ... on Error, with the path of the field, and leaves the cached customer as it was', async () => {
    const { id } = await insertCustomer(server);
    const other = await insertCustomer(server);
    const { client } = apollo();
    await client.query({ query: CUSTOMER, variables: { id } });
    const { data } = await client.mutate({
      mutation: UPDATE_CUSTOMER,
      variables: { id, input: { email: other.email.toUpperCase(), firstName: 'Changed' }, expectedVersion: 1 },
    });
    expect(data!.updateCustomer).toEqual({
      __typename: 'UpdateCustomerPayload',
      customer: null,
      errors: [{ __typename: 'EmailAlreadyInUseError', code: 'TAKEN', path: ['input', 'email'], message: expect.any(String) }],
    });
    expect(client.readQuery({ query: CUSTOMER, variables: { id } })!.customer).toMatchObject({ firstName: 'Jane', version: 1 });
    expect((await customerRow(server, id))!.version).toBe(1);
  });

  it('reports VERSION_CONFLICT with currentVersion, the member-specific field', async () => {
    const { id } = await insertCustomer(server);
    const { client } = apollo();
    await client.mutate({ mutation: UPDATE_CUSTOMER, variables: { id, input: { phone: '1' } } });
    const { data } = await client.mutate({ mutation: UPDATE_CUSTOMER, variables: { id, input: { phone: '2' }, expectedVersion: 1 } });
    expect(data!.updateCustomer.errors).toEqual([
      { __typename: 'VersionConflictError', code: 'VERSION_CONFLICT', path: ['expectedVersion'], message: expect.any(String), currentVersion: 2 },
    ]);
  });

  it("without possibleTypes Apollo's cache drops every field read through ... on Error: clients must configure them", async () => {
    const { id } = await insertCustomer(server);
    const other = await insertCustomer(server);
    const { client, exchanges } = apollo({ possibleTypes: false });
    const warnings: string[] = [];
    const spies = (['warn', 'error'] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void warnings.push(args.map(String).join(' '))),
    );
    const { data } = await client
      .mutate({ mutation: UPDATE_CUSTOMER, variables: { id, input: { email: other.email } } })
      .finally(() => spies.forEach((spy) => spy.mockRestore()));
    expect(warnings.join('\n')).toContain('missing `possibleTypes` entry');
    // The server sent code, path and message ...
    expect(exchanges[0]!.response.data.updateCustomer.errors[0]).toMatchObject({ code: 'TAKEN', path: ['input', 'email'] });
    // ... and the application never sees them.
    expect(data!.updateCustomer.errors).toEqual([{ __typename: 'EmailAlreadyInUseError' }]);
  });

  it('createCustomer creates, and reports its own errors through the same interface', async () => {
    const { client } = apollo();
    const email = `apollo.${Date.now()}@example.com`;
    const created = await client.mutate({ mutation: CREATE_CUSTOMER, variables: { input: { firstName: 'Ada', lastName: 'Lovelace', email } } });
    expect(created.data!.createCustomer).toMatchObject({ customer: { firstName: 'Ada', email, version: 1, storeCredit: '0.0000' }, errors: [] });
    const again = await client.mutate({ mutation: CREATE_CUSTOMER, variables: { input: { firstName: '', lastName: 'Lovelace', email } } });
    expect(again.data!.createCustomer.customer).toBeNull();
    expect(again.data!.createCustomer.errors.map((error: any) => [error.__typename, error.code, error.path.join('.')]).sort()).toEqual([
      ['EmailAlreadyInUseError', 'TAKEN', 'input.email'],
      ['ValidationError', 'REQUIRED', 'input.firstName'],
    ]);
  });
});

describe('errors outside the payload reach Apollo as CombinedGraphQLErrors with a code', () => {
  it('a bad token: UNAUTHENTICATED', async () => {
    const { client } = apollo({ token: 'cgw_not-a-token' });
    const failure = await client.query({ query: CUSTOMER, variables: { id: '1' } }).catch((error: unknown) => error);
    expect(CombinedGraphQLErrors.is(failure)).toBe(true);
    expect((failure as CombinedGraphQLErrors).errors.map((error) => error.extensions?.['code'])).toEqual(['UNAUTHENTICATED']);
  });

  it('a read token sending updateCustomer: FORBIDDEN', async () => {
    const { id } = await insertCustomer(server);
    const { client } = apollo({ token: server.tokens.read });
    const failure = await client.mutate({ mutation: UPDATE_CUSTOMER, variables: { id, input: { phone: '1' } } }).catch((error: unknown) => error);
    expect(CombinedGraphQLErrors.is(failure)).toBe(true);
    expect((failure as CombinedGraphQLErrors).errors.map((error) => error.extensions?.['code'])).toEqual(['FORBIDDEN']);
  });
});

describe("automatic persisted queries through Apollo's PersistedQueryLink", () => {
  const hashOf = (exchange: Exchange) => exchange.params['extensions']?.persistedQuery?.sha256Hash;

  it('POST: the first request is hash-only and the server asks for the query once; the same operation then travels hash-only', async () => {
    const { id } = await insertCustomer(server);
    const { client, exchanges } = apollo({ persisted: { useGETForHashedQueries: false } });
    await client.query({ query: CUSTOMER, variables: { id }, fetchPolicy: 'network-only' });
    const second = await client.query({ query: CUSTOMER, variables: { id }, fetchPolicy: 'network-only' });
    expect(second.data!.customer).toMatchObject({ id, firstName: 'Jane' });

    expect(exchanges.map((exchange) => [exchange.method, 'query' in exchange.params, exchange.status])).toEqual([
      ['POST', false, 404],
      ['POST', true, 200],
      ['POST', false, 200],
    ]);
    expect(exchanges[0]!.response.errors[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const hash = createHash('sha256').update(exchanges[1]!.params['query']).digest('hex');
    expect(exchanges.map(hashOf)).toEqual([hash, hash, hash]);
    // The hash-only request was answered from the server's store of queries.
    expect(exchanges[2]!.response.data.customer.id).toBe(id);
  });

  it('mutations: updateCustomer travels hash-only once the server knows it, and still writes', async () => {
    const { id } = await insertCustomer(server);
    const { client, exchanges } = apollo({ persisted: { useGETForHashedQueries: false } });
    for (const phone of ['+1 555 0001', '+1 555 0002']) {
      const { data } = await client.mutate({ mutation: UPDATE_CUSTOMER, variables: { id, input: { phone } } });
      expect(data!.updateCustomer).toMatchObject({ customer: { phone }, errors: [] });
    }
    const last = exchanges.at(-1)!;
    expect(last.method).toBe('POST');
    expect('query' in last.params).toBe(false);
    expect(last.status).toBe(200);
    expect(await customerRow(server, id)).toMatchObject({ phone: '+1 555 0002', version: 3 });
  });

  it('GET for hashed queries (cacheable by CDNs) passes the CSRF check: Apollo sends a JSON content type', async () => {
    const name = `Get${Date.now()}`;
    const { id } = await insertCustomer(server, { last_name: name });
    const { client, exchanges } = apollo({ persisted: { useGETForHashedQueries: true } });
    for (let round = 0; round < 2; round++) {
      const { data } = await client.query({ query: CUSTOMERS, variables: { first: 5, filter: { name } }, fetchPolicy: 'network-only' });
      expect(data!.customers.edges.map((edge: any) => edge.node.id)).toEqual([id]);
    }
    // Apollo sends the query itself by POST, then the hash alone by GET.
    expect(exchanges.map((exchange) => [exchange.method, 'query' in exchange.params, exchange.status])).toEqual([
      ['GET', false, 404],
      ['POST', true, 200],
      ['GET', false, 200],
    ]);
    expect(exchanges[2]!.contentType).toBe('application/json');
  });

  it('a query sent under a hash that is not its own is refused, so nobody can plant another query under a hash clients use', async () => {
    const real = read('examples/operations/customer.graphql') + read('examples/operations/customer-fields.graphql');
    const planted = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': server.tokens.write },
      body: JSON.stringify({
        query: '{ passwordPolicy { minLength } }',
        extensions: { persistedQuery: { version: 1, sha256Hash: createHash('sha256').update(real).digest('hex') } },
      }),
    });
    expect(planted.status).toBe(400);
    expect((await planted.json()).errors[0].extensions.code).toBe('PERSISTED_QUERY_MISMATCH');
  });
});
