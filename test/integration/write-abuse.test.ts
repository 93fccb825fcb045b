/**
 * A write token cannot make the service burn argon2 without writing: one mutation field per
 * operation, passwords hashed only once nothing but the write is left, and a bounded hash queue.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { argon2Runs, DEFAULT_HASHING_LIMITS, setHashingLimits } from '../../src/domain/passwords.ts';
import { customerRow, insertCustomer, uniqueEmail, UPDATE_CUSTOMER } from '../support/customers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());
afterEach(() => setHashingLimits(DEFAULT_HASHING_LIMITS));

const PASSWORD = { authentication: { password: 'Fresh-pass-42' } };

describe('one mutation field per operation', () => {
  it('two aliased mutation fields are refused with 400 BAD_REQUEST before anything runs', async () => {
    const customer = await insertCustomer(server);
    const response = await server.graphql(/* GraphQL */ `
      mutation { a: updateCustomer(id: "${customer.id}", input: { notes: "a" }) { errors { ... on Error { code } } }
                 b: updateCustomer(id: "${customer.id}", input: { notes: "b" }) { errors { ... on Error { code } } } }`);
    expect(response.status).toBe(400);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    expect((await customerRow(server, customer.id))!.version).toBe(1);
  });

  it('fields spread from fragments count too; __typename does not', async () => {
    const customer = await insertCustomer(server);
    const twice = await server.graphql(/* GraphQL */ `
      mutation { ...One ... on Mutation { b: updateCustomer(id: "${customer.id}", input: { notes: "b" }) { errors { ... on Error { code } } } } }
      fragment One on Mutation { a: updateCustomer(id: "${customer.id}", input: { notes: "a" }) { errors { ... on Error { code } } } }`);
    expect(twice.status).toBe(400);
    const once = await server.graphql(/* GraphQL */ `
      mutation { __typename updateCustomer(id: "${customer.id}", input: { notes: "once" }) { errors { ... on Error { code } } } }`);
    expect(once.status, once.text).toBe(200);
    expect(once.body.data?.updateCustomer.errors).toEqual([]);
  });
});

describe('passwords are hashed only when nothing but the write is left', () => {
  it('a batch of unknown ids with passwords is NOT_FOUND and costs no argon2', async () => {
    const before = argon2Runs();
    const items = Array.from({ length: 10 }, (_, index) => ({ id: String(900_000 + index), input: PASSWORD }));
    const response = await server.graphql(
      /* GraphQL */ `mutation ($items: [UpdateCustomersItem!]!) { updateCustomers(items: $items) { customers { id } errors { ... on Error { code } } } }`,
      { items },
    );
    expect(response.body.data?.updateCustomers.errors, response.text).toHaveLength(10);
    expect(argon2Runs()).toBe(before);
  });

  it('a version conflict, or an email taken, with a new password costs no argon2', async () => {
    const customer = await insertCustomer(server);
    const other = await insertCustomer(server);
    const before = argon2Runs();
    const conflict = await server.graphql(UPDATE_CUSTOMER, { id: customer.id, input: PASSWORD, expectedVersion: 7 });
    expect(conflict.body.data?.updateCustomer.errors[0].code).toBe('VERSION_CONFLICT');
    const taken = await server.graphql(UPDATE_CUSTOMER, { id: customer.id, input: { email: other.email, ...PASSWORD } });
    expect(taken.body.data?.updateCustomer.errors[0].code).toBe('TAKEN');
    const create = await server.graphql(
      /* GraphQL */ `mutation ($input: CreateCustomerInput!) { createCustomer(input: $input) { errors { ... on Error { code } } } }`,
      { input: { firstName: 'A', lastName: 'B', email: other.email, ...PASSWORD } },
    );
    expect(create.body.data?.createCustomer.errors[0].code, create.text).toBe('TAKEN');
    expect(argon2Runs()).toBe(before);
  });

  it('a write that goes through hashes its password once', async () => {
    const customer = await insertCustomer(server);
    const before = argon2Runs();
    const response = await server.graphql(UPDATE_CUSTOMER, { id: customer.id, input: PASSWORD });
    expect(response.body.data?.updateCustomer.errors).toEqual([]);
    expect(argon2Runs()).toBe(before + 1);
  });
});

describe('the hash queue is bounded', () => {
  it('per token: past its share, a password write is 503 SERVICE_UNAVAILABLE with Retry-After and writes nothing', async () => {
    setHashingLimits({ maxPerOwner: 2 });
    const customers = await Promise.all(Array.from({ length: 8 }, () => insertCustomer(server)));
    const responses = await Promise.all(customers.map((customer) => server.graphql(UPDATE_CUSTOMER, { id: customer.id, input: PASSWORD })));
    const busy = responses.filter((response) => response.status === 503);
    const written = responses.filter((response) => response.status === 200);
    expect(busy.length, 'some requests found the token\'s share full').toBeGreaterThan(0);
    expect(written.length + busy.length).toBe(customers.length);
    for (const response of busy) {
      expect(response.body.errors?.[0]?.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    const versions = await Promise.all(customers.map(async (customer) => (await customerRow(server, customer.id))!.version));
    expect(versions.filter((version) => version === 2)).toHaveLength(written.length);
    expect(versions.filter((version) => version === 1)).toHaveLength(busy.length);
  });

  it('in all: a batch whose passwords would overfill the queue is refused whole', async () => {
    setHashingLimits({ maxQueued: 0 });
    const customers = await Promise.all(Array.from({ length: 6 }, () => insertCustomer(server)));
    const response = await server.graphql(
      /* GraphQL */ `mutation ($items: [UpdateCustomersItem!]!) { updateCustomers(items: $items) { customers { id } errors { ... on Error { code } } } }`,
      { items: customers.map((customer) => ({ id: customer.id, input: { ...PASSWORD, notes: uniqueEmail() } })) },
    );
    expect(response.status, response.text).toBe(503);
    for (const customer of customers) expect((await customerRow(server, customer.id))!.version).toBe(1);
  });
});
