/** updateCustomers, rule by rule as API.md's "Batch updates and history" states it, over HTTP and real PostgreSQL. */
import { verify } from '@node-rs/argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CUSTOMER_FIELDS, customerRow, databaseSnapshot, historyRows, insertCustomer, uniqueEmail, type CustomerFixture } from '../support/customers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const BATCH = /* GraphQL */ `
  mutation ($items: [UpdateCustomersItem!]!) {
    updateCustomers(items: $items) {
      customers { ${CUSTOMER_FIELDS} }
      errors { __typename ... on Error { code path message } ... on VersionConflictError { currentVersion } }
    }
  }
`;

interface Item {
  id: string;
  input: Record<string, unknown>;
  expectedVersion?: number;
}
interface BatchPayload {
  customers: Array<Record<string, any>> | null;
  errors: Array<{ __typename: string; code: string; path: string[]; message: string; currentVersion?: number }>;
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

async function batch(items: Item[], token?: string): Promise<BatchPayload> {
  const response = await server.graphql<{ updateCustomers: BatchPayload }>(BATCH, { items }, token ? { token } : {});
  if (response.status !== 200 || response.body.errors) throw new Error(`${response.status}: ${response.text}`);
  return response.body.data!.updateCustomers;
}

function codesAndPaths(payload: BatchPayload): Array<[string, string]> {
  return payload.errors.map((error) => [error.code, error.path.join('.')]);
}

async function customers(count: number): Promise<CustomerFixture[]> {
  const made: CustomerFixture[] = [];
  for (let index = 0; index < count; index++) made.push(await insertCustomer(server));
  return made;
}

describe('a successful batch writes every item', () => {
  it('returns the customers in item order with versions bumped, one history entry each, all in one transaction', async () => {
    const [a, b, c] = await customers(3);
    // Items deliberately not in id order.
    const payload = await batch([
      { id: c!.id, input: { firstName: 'Carla' } },
      { id: a!.id, input: { storeCredit: '99.5', company: null } },
      { id: b!.id, input: { lastName: 'Batched' }, expectedVersion: 1 },
    ]);
    expect(payload.errors).toEqual([]);
    expect(payload.customers!.map((customer) => [customer.id, customer.version])).toEqual([
      [c!.id, 2],
      [a!.id, 2],
      [b!.id, 2],
    ]);
    expect(payload.customers![0]).toMatchObject({ firstName: 'Carla' });
    expect(payload.customers![1]).toMatchObject({ storeCredit: '99.5000', company: null });
    expect(payload.customers![2]).toMatchObject({ lastName: 'Batched' });
    expect((await customerRow(server, a!.id))).toMatchObject({ store_credit: '99.5000', company: null, version: 2 });
    const entries = await Promise.all([a, b, c].map((customer) => historyRows(server, customer!.id)));
    expect(entries.map((rows) => rows.map((row) => row.version))).toEqual([[2], [2], [2]]);
    expect(entries[0]![0]!.changes).toEqual([
      { field: 'company', from: 'Acme Inc.', to: null },
      { field: 'storeCredit', from: '25.5000', to: '99.5000' },
    ]);
    // One write: one time for all of it.
    expect(new Set(entries.map((rows) => rows[0]!.at.toISOString())).size).toBe(1);
    expect(new Set(payload.customers!.map((customer) => customer.dateModified)).size).toBe(1);
  });

  it('an item that changes nothing keeps its version and gets no history entry', async () => {
    const [a, b] = await customers(2);
    const payload = await batch([
      { id: a!.id, input: { firstName: 'Jane' } },
      { id: b!.id, input: { firstName: 'Changed' } },
    ]);
    expect(payload.customers!.map((customer) => customer.version)).toEqual([1, 2]);
    expect(await historyRows(server, a!.id)).toEqual([]);
    expect(await historyRows(server, b!.id)).toHaveLength(1);
  });

  it('passwords are hashed per item with argon2id, shown nowhere, and recorded as "password" with null values', async () => {
    const [a, b] = await customers(2);
    const response = await server.graphql(BATCH, {
      items: [
        { id: a!.id, input: { authentication: { password: 'Amber-Orchard-731' } } },
        { id: b!.id, input: { authentication: { password: 'Birch-Meadow-842', passwordConfirmation: 'Birch-Meadow-842' } } },
      ],
    });
    expect(response.body.data!.updateCustomers.errors).toEqual([]);
    expect(response.text).not.toMatch(/Orchard|Meadow|argon2/);
    expect(await verify((await customerRow(server, a!.id))!.password_hash as string, 'Amber-Orchard-731')).toBe(true);
    expect(await verify((await customerRow(server, b!.id))!.password_hash as string, 'Birch-Meadow-842')).toBe(true);
    for (const customer of [a, b]) expect((await historyRows(server, customer!.id))[0]!.changes).toEqual([{ field: 'password', from: null, to: null }]);
  });
});

describe('updateCustomers takes 1 to 10 items', () => {
  it('10 items are written', async () => {
    const ten = await customers(10);
    const payload = await batch(ten.map(({ id }, index) => ({ id, input: { notes: `item ${index}` } })));
    expect(payload.errors).toEqual([]);
    expect(payload.customers!.map((customer) => customer.notes)).toEqual(ten.map((_, index) => `item ${index}`));
  });

  it('11 items are a ValidationError TOO_LONG on ["items"], and nothing is written', async () => {
    const eleven = await customers(11);
    const before = await databaseSnapshot(server);
    const payload = await batch(eleven.map(({ id }) => ({ id, input: { notes: 'too many' } })));
    expect(payload).toEqual({ customers: null, errors: [{ __typename: 'ValidationError', code: 'TOO_LONG', path: ['items'], message: expect.any(String) }] });
    expect(await databaseSnapshot(server)).toEqual(before);
  });

  it('no items at all are a ValidationError REQUIRED on ["items"]', async () => {
    const payload = await batch([]);
    expect(payload).toEqual({ customers: null, errors: [{ __typename: 'ValidationError', code: 'REQUIRED', path: ['items'], message: expect.any(String) }] });
  });
});

describe('the same id twice is INVALID on ["items","<index>","id"] of the later occurrence', () => {
  it('and nothing is written; "01" names the same customer as "1" would', async () => {
    const [a, b] = await customers(2);
    const before = await databaseSnapshot(server);
    const payload = await batch([
      { id: a!.id, input: { notes: 'first' } },
      { id: b!.id, input: { notes: 'other' } },
      { id: a!.id, input: { notes: 'again' } },
      { id: `0${b!.id}`, input: { notes: 'padded' } },
    ]);
    expect(payload.customers).toBeNull();
    expect(payload.errors).toMatchObject([
      { __typename: 'ValidationError', code: 'INVALID', path: ['items', '2', 'id'] },
      { __typename: 'ValidationError', code: 'INVALID', path: ['items', '3', 'id'] },
    ]);
    expect(await databaseSnapshot(server)).toEqual(before);
  });
});

describe('all or nothing: any error in any item and nothing is written, customers null', () => {
  it('every error of every item is reported, in item order, with paths prefixed by ["items","<index>"]', async () => {
    const [a, b, c, d, taken] = await customers(5);
    await updateNotes(d!.id); // d is at version 2 now
    const before = await databaseSnapshot(server);
    const payload = await batch([
      { id: a!.id, input: { firstName: 'Valid' } },
      { id: b!.id, input: { firstName: ' ', storeCredit: '-1' } },
      { id: '2147483000', input: { notes: 'nobody' } },
      { id: c!.id, input: { email: taken!.email.toUpperCase(), phone: 'p'.repeat(51), authentication: { password: 'Copper-Kettle-1', passwordConfirmation: 'Copper-Kettle-2' } } },
      { id: d!.id, input: { notes: 'stale' }, expectedVersion: 1 },
    ]);
    expect(payload.customers).toBeNull();
    expect(codesAndPaths(payload)).toEqual([
      ['REQUIRED', 'items.1.input.firstName'],
      ['INVALID', 'items.1.input.storeCredit'],
      ['NOT_FOUND', 'items.2.id'],
      ['TAKEN', 'items.3.input.email'],
      ['TOO_LONG', 'items.3.input.phone'],
      ['PASSWORD_MISMATCH', 'items.3.input.authentication.passwordConfirmation'],
      ['VERSION_CONFLICT', 'items.4.expectedVersion'],
    ]);
    expect(payload.errors.map((error) => error.__typename)).toEqual([
      'ValidationError',
      'ValidationError',
      'CustomerNotFoundError',
      'EmailAlreadyInUseError',
      'ValidationError',
      'ValidationError',
      'VersionConflictError',
    ]);
    expect(payload.errors.at(-1)!.currentVersion).toBe(2);
    expect(await databaseSnapshot(server)).toEqual(before);
  });

  it('a failure halfway, after earlier items were written, undoes them too', async () => {
    const [a, b, c] = await customers(3);
    await server.database.sql.query(`
      CREATE FUNCTION refuse_exploding_batch() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.notes = 'explode' THEN RAISE EXCEPTION 'refused by test trigger'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER refuse_exploding_batch BEFORE UPDATE ON customers FOR EACH ROW EXECUTE FUNCTION refuse_exploding_batch();`);
    try {
      const before = await databaseSnapshot(server);
      const response = await server.graphql(BATCH, {
        items: [
          { id: a!.id, input: { notes: 'written first' } },
          { id: b!.id, input: { notes: 'written second' } },
          { id: c!.id, input: { notes: 'explode' } },
        ],
      });
      expect(response.body.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(await databaseSnapshot(server)).toEqual(before);
    } finally {
      await server.database.sql.query('DROP TRIGGER refuse_exploding_batch ON customers; DROP FUNCTION refuse_exploding_batch();');
    }
  });
});

async function updateNotes(id: string) {
  await batch([{ id, input: { notes: `bumped ${Math.random()}` } }]);
}

describe('email addresses within one batch', () => {
  it('two customers swap their addresses', async () => {
    const [a, b] = await customers(2);
    const payload = await batch([
      { id: a!.id, input: { email: b!.email } },
      { id: b!.id, input: { email: a!.email } },
    ]);
    expect(payload.errors).toEqual([]);
    expect((await customerRow(server, a!.id))!.email).toBe(b!.email);
    expect((await customerRow(server, b!.id))!.email).toBe(a!.email);
    expect((await historyRows(server, a!.id))[0]!.changes).toEqual([{ field: 'email', from: a!.email, to: b!.email }]);
  });

  it('A takes B\'s address while B takes a new one, whatever the item order', async () => {
    for (const order of ['a first', 'b first']) {
      const [a, b] = await customers(2);
      const fresh = uniqueEmail('fresh');
      const items = [
        { id: a!.id, input: { email: b!.email } },
        { id: b!.id, input: { email: fresh } },
      ];
      const payload = await batch(order === 'a first' ? items : items.reverse());
      expect(payload.errors, order).toEqual([]);
      expect((await customerRow(server, a!.id))!.email).toBe(b!.email);
      expect((await customerRow(server, b!.id))!.email).toBe(fresh);
    }
  });

  it('taking the address of a customer in the batch who keeps it is TAKEN', async () => {
    const [a, b] = await customers(2);
    const before = await databaseSnapshot(server);
    const payload = await batch([
      { id: a!.id, input: { email: b!.email } },
      { id: b!.id, input: { notes: 'keeps the address' } },
    ]);
    expect(codesAndPaths(payload)).toEqual([['TAKEN', 'items.0.input.email']]);
    expect(await databaseSnapshot(server)).toEqual(before);
  });

  it('two items claiming one new address: the later one is TAKEN (without regard to case)', async () => {
    const [a, b] = await customers(2);
    const wanted = uniqueEmail('wanted');
    const payload = await batch([
      { id: a!.id, input: { email: wanted } },
      { id: b!.id, input: { email: wanted.toUpperCase() } },
    ]);
    expect(codesAndPaths(payload)).toEqual([['TAKEN', 'items.1.input.email']]);
  });
});

describe('concurrent batches over the same customers', () => {
  it('queue on the row locks (taken in id order) instead of deadlocking: every write lands', async () => {
    const [a, b, c] = await customers(3);
    const orders = [
      [a, b, c],
      [c, b, a],
      [b, a, c],
      [c, a, b],
    ];
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, round) =>
        server.graphql<{ updateCustomers: BatchPayload }>(BATCH, {
          items: orders[round % orders.length]!.map((customer) => ({ id: customer!.id, input: { notes: `round ${round}` } })),
        }),
      ),
    );
    expect(results.map((result) => result.status)).toEqual(Array(8).fill(200));
    expect(results.map((result) => result.body.data?.updateCustomers.errors)).toEqual(Array(8).fill([]));
    for (const customer of [a, b, c]) {
      expect((await customerRow(server, customer!.id))!.version).toBe(9);
      expect((await historyRows(server, customer!.id)).map((row) => row.version)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    }
  });
});

describe('updateCustomers needs customers:write', () => {
  it('a read token is FORBIDDEN (403) and writes nothing', async () => {
    const [a] = await customers(1);
    const before = await databaseSnapshot(server);
    const response = await server.graphql(BATCH, { items: [{ id: a!.id, input: { notes: 'no' } }] }, { token: server.tokens.read });
    expect(response.status).toBe(403);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await databaseSnapshot(server)).toEqual(before);
  });
});
