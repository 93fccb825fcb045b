/**
 * updateCustomer, rule by rule as API.md's "Update semantics" states them, each rule once over
 * HTTP and real PostgreSQL. Every row of the input rules: test/unit/customer-input.test.ts.
 */
import { verify } from '@node-rs/argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/domain/tokens.ts';
import {
  codesAndPaths,
  customerRow,
  databaseSnapshot,
  historyRows,
  insertCustomer,
  UPDATE_CUSTOMER,
  uniqueEmail,
  updateCustomer,
} from '../support/customers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('a field left out of the input is unchanged', () => {
  it('changes only the fields sent and keeps every other one', async () => {
    const { id, email } = await insertCustomer(server);
    const before = await customerRow(server, id);
    const payload = await updateCustomer(server, id, { company: 'Globex' });
    expect(payload.errors).toEqual([]);
    expect(payload.customer).toMatchObject({
      id,
      firstName: 'Jane',
      lastName: 'Doe',
      email,
      company: 'Globex',
      phone: '+1 512 555 0100',
      notes: 'Prefers email',
      storeCredit: '25.5000',
      registrationIpAddress: '203.0.113.7',
      customerGroupId: 1,
      taxExemptCategory: 'A',
      resetPassOnLogin: false,
      formFields: [{ name: 'newsletter_topics', value: ['offers'] }],
      version: 2,
    });
    const after = await customerRow(server, id);
    expect({ ...after, company: before!.company, version: 1, date_modified: before!.date_modified }).toEqual(before);
    expect(after!.company).toBe('Globex');
  });

  it('an empty input changes nothing', async () => {
    const { id } = await insertCustomer(server);
    const before = await customerRow(server, id);
    expect((await updateCustomer(server, id, {})).customer!.version).toBe(1);
    expect(await customerRow(server, id)).toEqual(before);
  });
});

describe('null clears a field the customer may lack', () => {
  it('null clears company, phone, notes, registrationIpAddress, customerGroupId and taxExemptCategory', async () => {
    const { id } = await insertCustomer(server);
    const columns = ['company', 'phone', 'notes', 'registration_ip_address', 'customer_group_id', 'tax_exempt_category'];
    const before = await customerRow(server, id);
    for (const column of columns) expect(before![column], column).not.toBeNull();
    const fields = ['company', 'phone', 'notes', 'registrationIpAddress', 'customerGroupId', 'taxExemptCategory'];
    const payload = await updateCustomer(server, id, Object.fromEntries(fields.map((field) => [field, null])));
    expect(payload.errors).toEqual([]);
    for (const field of fields) expect(payload.customer![field], field).toBeNull();
    const after = await customerRow(server, id);
    for (const column of columns) expect(after![column], column).toBeNull();
  });

  it('a blank optional text field is stored as no value (null), not as an empty string', async () => {
    const { id } = await insertCustomer(server);
    const payload = await updateCustomer(server, id, { company: '   ', phone: '', notes: '\n\t', taxExemptCategory: ' ' });
    expect(payload.errors).toEqual([]);
    const row = await customerRow(server, id);
    expect([row!.company, row!.phone, row!.notes, row!.tax_exempt_category]).toEqual([null, null, null, null]);
  });
});

describe('null or blank for firstName, lastName, email, storeCredit or resetPassOnLogin is REQUIRED', () => {
  it('a blank firstName is a ValidationError REQUIRED on ["input","firstName"] and writes nothing', async () => {
    const { id } = await insertCustomer(server);
    const before = await databaseSnapshot(server);
    const payload = await updateCustomer(server, id, { firstName: '   ' });
    expect(payload).toEqual({
      customer: null,
      errors: [{ __typename: 'ValidationError', code: 'REQUIRED', path: ['input', 'firstName'], message: expect.any(String) }],
    });
    expect(await databaseSnapshot(server)).toEqual(before);
  });
});

describe('lengths count characters after trimming surrounding white space, which is not stored', () => {
  it('every text field stores its longest value, counted in characters (100 emoji are a valid firstName)', async () => {
    const { id } = await insertCustomer(server);
    const longest = {
      firstName: '😀'.repeat(100),
      lastName: 'l'.repeat(100),
      email: `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`,
      company: 'c'.repeat(255),
      phone: 'p'.repeat(50),
      notes: 'n'.repeat(65_535),
      taxExemptCategory: 't'.repeat(255),
    };
    expect(longest.email).toHaveLength(255);
    const payload = await updateCustomer(server, id, longest);
    expect(payload.errors).toEqual([]);
    expect(await customerRow(server, id)).toMatchObject({
      first_name: longest.firstName,
      last_name: longest.lastName,
      email: longest.email,
      company: longest.company,
      phone: longest.phone,
      notes: longest.notes,
      tax_exempt_category: longest.taxExemptCategory,
    });
  });

  it('one character more is TOO_LONG, and writes nothing', async () => {
    const { id } = await insertCustomer(server);
    const before = await databaseSnapshot(server);
    const refused = await updateCustomer(server, id, { lastName: `  ${'x'.repeat(101)}  ` });
    expect(refused).toEqual({
      customer: null,
      errors: [{ __typename: 'ValidationError', code: 'TOO_LONG', path: ['input', 'lastName'], message: expect.any(String) }],
    });
    expect(await databaseSnapshot(server)).toEqual(before);
  });

  it('trims text and email before storing them', async () => {
    const { id } = await insertCustomer(server);
    const email = uniqueEmail();
    const payload = await updateCustomer(server, id, { firstName: '  Ann ', lastName: '\tLee\n', email: `  ${email} `, phone: ' 555 ' });
    expect(payload.errors).toEqual([]);
    expect(payload.customer).toMatchObject({ firstName: 'Ann', lastName: 'Lee', email, phone: '555' });
    expect(await customerRow(server, id)).toMatchObject({ first_name: 'Ann', last_name: 'Lee', email, phone: '555' });
  });

  it('text PostgreSQL cannot store (NUL) is INVALID, not a server error', async () => {
    const { id } = await insertCustomer(server);
    expect(codesAndPaths(await updateCustomer(server, id, { notes: 'a\u0000b' }))).toEqual([['INVALID', 'input.notes']]);
  });
});

describe('email is unique without regard to case', () => {
  it('an email another customer has, in any case, is EmailAlreadyInUseError TAKEN on ["input","email"]', async () => {
    const taken = await insertCustomer(server);
    const { id } = await insertCustomer(server);
    const before = await databaseSnapshot(server);
    for (const email of [taken.email, taken.email.toUpperCase(), ` ${taken.email.replace(/^./, (c) => c.toUpperCase())} `]) {
      const payload = await updateCustomer(server, id, { email });
      expect(payload).toEqual({
        customer: null,
        errors: [{ __typename: 'EmailAlreadyInUseError', code: 'TAKEN', path: ['input', 'email'], message: expect.any(String) }],
      });
    }
    expect(await databaseSnapshot(server)).toEqual(before);
  });

  it('a customer may change the case of its own email, stored as sent', async () => {
    const { id, email } = await insertCustomer(server);
    const payload = await updateCustomer(server, id, { email: email.toUpperCase() });
    expect(payload.errors).toEqual([]);
    expect((await customerRow(server, id))!.email).toBe(email.toUpperCase());
  });

  it('an email that is not an address is refused by the EmailAddress scalar before anything runs', async () => {
    const { id } = await insertCustomer(server);
    const before = await databaseSnapshot(server);
    const response = await server.graphql(UPDATE_CUSTOMER, { id, input: { email: 'not-an-email' } });
    expect(response.status).toBe(400);
    expect(response.body.data).toBeUndefined();
    expect(response.body.errors![0]!.message).toMatch(/input\.email/);
    expect(await databaseSnapshot(server)).toEqual(before);
  });

  it('ten concurrent updates to one new email: exactly one wins, the rest are TAKEN, none is a server error', async () => {
    const customers = await Promise.all(Array.from({ length: 10 }, () => insertCustomer(server)));
    const contested = uniqueEmail('contested');
    const responses = await Promise.all(
      customers.map(({ id }, index) =>
        server.graphql(UPDATE_CUSTOMER, { id, input: { email: index % 2 ? contested.toUpperCase() : contested } }),
      ),
    );
    for (const response of responses) expect(response.status, response.text).toBe(200);
    const payloads = responses.map((response) => response.body.data!.updateCustomer);
    const winners = payloads.filter((payload) => payload.errors.length === 0);
    expect(winners).toHaveLength(1);
    for (const loser of payloads.filter((payload) => payload.errors.length > 0)) {
      expect(codesAndPaths(loser)).toEqual([['TAKEN', 'input.email']]);
      expect(loser.customer).toBeNull();
    }
    const { rows } = await server.database.sql.query('SELECT id, version FROM customers WHERE email = $1', [contested]);
    expect(rows).toEqual([{ id: Number(winners[0].customer.id), version: 2 }]);
    // The losers wrote nothing: still at version 1, with no history.
    const { rows: losers } = await server.database.sql.query(
      'SELECT count(*)::int AS n FROM customers WHERE id = ANY($1) AND version = 1',
      [customers.map(({ id }) => Number(id))],
    );
    expect(losers[0].n).toBe(9);
  });
});

describe('an unknown id is CustomerNotFoundError NOT_FOUND on ["id"] with customer null', () => {
  it('whether no customer has it or it is no id at all', async () => {
    for (const id of ['999999', '0', '-1', 'abc', '99999999999999']) {
      const payload = await updateCustomer(server, id, { company: 'Nobody' });
      expect(payload, id).toEqual({
        customer: null,
        errors: [{ __typename: 'CustomerNotFoundError', code: 'NOT_FOUND', path: ['id'], message: expect.any(String) }],
      });
    }
  });
});

describe('all errors of one request are reported together, and then nothing is written', () => {
  it('reports every problem of the input with its path, plus TAKEN and VERSION_CONFLICT, and writes nothing', async () => {
    const other = await insertCustomer(server);
    const { id } = await insertCustomer(server);
    await updateCustomer(server, id, { company: 'moves to version 2' });
    const before = await databaseSnapshot(server);
    const payload = await updateCustomer(
      server,
      id,
      {
        firstName: ' ',
        lastName: 'x'.repeat(101),
        email: other.email.toUpperCase(),
        company: 'Valid Company',
        storeCredit: '-1',
        customerGroupId: -3,
        resetPassOnLogin: null,
        authentication: { password: 'short1', passwordConfirmation: 'different1' },
      },
      { expectedVersion: 1 },
    );
    expect(payload.customer).toBeNull();
    expect(codesAndPaths(payload)).toEqual([
      ['VERSION_CONFLICT', 'expectedVersion'],
      ['REQUIRED', 'input.firstName'],
      ['TOO_LONG', 'input.lastName'],
      ['TAKEN', 'input.email'],
      ['INVALID', 'input.storeCredit'],
      ['INVALID', 'input.customerGroupId'],
      ['REQUIRED', 'input.resetPassOnLogin'],
      ['PASSWORD_TOO_WEAK', 'input.authentication.password'],
      ['PASSWORD_MISMATCH', 'input.authentication.passwordConfirmation'],
    ]);
    expect(await databaseSnapshot(server)).toEqual(before);
  });

  it('an unknown id is reported together with the input\'s own errors', async () => {
    expect(codesAndPaths(await updateCustomer(server, '987654', { lastName: '', storeCredit: '-5' }))).toEqual([
      ['NOT_FOUND', 'id'],
      ['REQUIRED', 'input.lastName'],
      ['INVALID', 'input.storeCredit'],
    ]);
  });
});

describe('passwords', () => {
  const PASSWORD = 'Tr0ub4dor&3-horse';

  it('`password` sets a new argon2id hash (OWASP parameters) that verifies, and the response never contains it', async () => {
    const { id } = await insertCustomer(server);
    const before = await customerRow(server, id);
    const response = await server.graphql(UPDATE_CUSTOMER, {
      id,
      input: { authentication: { password: PASSWORD, passwordConfirmation: PASSWORD } },
    });
    expect(response.body.data!.updateCustomer.errors).toEqual([]);
    expect(response.text).not.toContain(PASSWORD);
    const after = await customerRow(server, id);
    const hash = after!.password_hash as string;
    expect(hash).not.toBe(before!.password_hash);
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(response.text).not.toContain(hash);
    expect(await verify(hash, PASSWORD)).toBe(true);
    expect(JSON.stringify(after)).not.toContain(PASSWORD);
  });

  it('a password change counts as a change: version and dateModified move, history shows "password" with null values', async () => {
    const { id } = await insertCustomer(server);
    const before = await customerRow(server, id);
    const payload = await updateCustomer(server, id, { authentication: { password: PASSWORD } });
    expect(payload.customer!.version).toBe(2);
    expect(new Date(payload.customer!.dateModified).getTime()).toBeGreaterThan((before!.date_modified as Date).getTime());
    const history = await historyRows(server, id);
    expect(history.map((entry) => entry.changes)).toEqual([[{ field: 'password', from: null, to: null }]]);
    expect(JSON.stringify(history)).not.toContain(PASSWORD);
  });

  it('`authentication` left out, or password null, leaves the password unchanged', async () => {
    const { id } = await insertCustomer(server);
    const before = (await customerRow(server, id))!.password_hash;
    await updateCustomer(server, id, { company: 'Other' });
    await updateCustomer(server, id, { authentication: { password: null } });
    expect((await customerRow(server, id))!.password_hash).toBe(before);
    expect(await historyRows(server, id)).toHaveLength(1);
  });

  it('passwordConfirmation different from password is PASSWORD_MISMATCH on ["input","authentication","passwordConfirmation"]', async () => {
    const { id } = await insertCustomer(server);
    const before = await databaseSnapshot(server);
    const response = await server.graphql(UPDATE_CUSTOMER, {
      id,
      input: { authentication: { password: PASSWORD, passwordConfirmation: `${PASSWORD}x` } },
    });
    expect(response.body.data!.updateCustomer).toEqual({
      customer: null,
      errors: [
        {
          __typename: 'ValidationError',
          code: 'PASSWORD_MISMATCH',
          path: ['input', 'authentication', 'passwordConfirmation'],
          message: expect.any(String),
        },
      ],
    });
    expect(response.text).not.toContain(PASSWORD);
    expect(await databaseSnapshot(server)).toEqual(before);
  });

  it('a weak password is PASSWORD_TOO_WEAK on ["input","authentication","password"], and the response does not repeat it', async () => {
    const { id } = await insertCustomer(server);
    const before = await databaseSnapshot(server);
    const password = 'abc1234';
    const response = await server.graphql(UPDATE_CUSTOMER, { id, input: { authentication: { password } } });
    expect(codesAndPaths(response.body.data!.updateCustomer)).toEqual([['PASSWORD_TOO_WEAK', 'input.authentication.password']]);
    expect(response.text).not.toContain(password);
    expect(await databaseSnapshot(server)).toEqual(before);
  });

  it('forceReset: true sets resetPassOnLogin, false clears it', async () => {
    const { id } = await insertCustomer(server);
    expect((await updateCustomer(server, id, { authentication: { forceReset: true } })).customer!.resetPassOnLogin).toBe(true);
    expect((await customerRow(server, id))!.reset_pass_on_login).toBe(true);
    expect((await updateCustomer(server, id, { authentication: { forceReset: false } })).customer!.resetPassOnLogin).toBe(false);
  });

  it('forceReset contradicting resetPassOnLogin is INVALID on ["input","authentication","forceReset"]', async () => {
    const { id } = await insertCustomer(server);
    const payload = await updateCustomer(server, id, { resetPassOnLogin: false, authentication: { forceReset: true } });
    expect(codesAndPaths(payload)).toEqual([['INVALID', 'input.authentication.forceReset']]);
  });

  it('never appears in a response, even one about other errors or a GraphQL input error', async () => {
    const { id } = await insertCustomer(server);
    const inputs = [
      { firstName: '', authentication: { password: PASSWORD } },
      { email: 'broken', authentication: { password: PASSWORD } },
      { dateCreated: '2020-01-01T00:00:00Z', authentication: { password: PASSWORD } },
      { authentication: { password: PASSWORD, unknown: 1 } },
      { authentication: { password: PASSWORD, forceReset: 'yes' } },
      { authentication: { password: PASSWORD, passwordConfirmation: 42 } },
    ];
    for (const input of inputs) {
      const response = await server.graphql(UPDATE_CUSTOMER, { id, input });
      expect(response.text).not.toContain(PASSWORD);
      expect(response.text).not.toContain('argon2');
    }
  });
});

describe('version and expectedVersion', () => {
  it('starts at 1 and grows by one with every write that changes something', async () => {
    const { id } = await insertCustomer(server);
    expect((await updateCustomer(server, id, { company: 'One' })).customer!.version).toBe(2);
    expect((await updateCustomer(server, id, { company: 'One' })).customer!.version).toBe(2);
    expect((await updateCustomer(server, id, { company: 'Two' })).customer!.version).toBe(3);
    expect((await customerRow(server, id))!.version).toBe(3);
  });

  it('an expectedVersion that matches lets the write through', async () => {
    const { id } = await insertCustomer(server);
    expect((await updateCustomer(server, id, { phone: '1' }, { expectedVersion: 1 })).customer!.version).toBe(2);
    expect((await updateCustomer(server, id, { phone: '2' }, { expectedVersion: 2 })).customer!.version).toBe(3);
  });

  it('a stale expectedVersion is VersionConflictError VERSION_CONFLICT with currentVersion, and writes nothing', async () => {
    const { id } = await insertCustomer(server);
    await updateCustomer(server, id, { phone: '1' });
    await updateCustomer(server, id, { phone: '2' });
    const before = await databaseSnapshot(server);
    const payload = await updateCustomer(server, id, { phone: '3' }, { expectedVersion: 1 });
    expect(payload).toEqual({
      customer: null,
      errors: [
        { __typename: 'VersionConflictError', code: 'VERSION_CONFLICT', path: ['expectedVersion'], message: expect.any(String), currentVersion: 3 },
      ],
    });
    expect(await databaseSnapshot(server)).toEqual(before);
  });

  it('ten concurrent updates with the same expectedVersion: one is written, nine conflict', async () => {
    const { id } = await insertCustomer(server);
    const payloads = await Promise.all(
      Array.from({ length: 10 }, (_, index) => updateCustomer(server, id, { notes: `writer ${index}` }, { expectedVersion: 1 })),
    );
    const written = payloads.filter((payload) => payload.errors.length === 0);
    expect(written).toHaveLength(1);
    for (const payload of payloads.filter((p) => p.errors.length > 0)) {
      expect(payload.errors).toEqual([expect.objectContaining({ code: 'VERSION_CONFLICT', currentVersion: 2 })]);
    }
    const row = await customerRow(server, id);
    expect(row).toMatchObject({ version: 2, notes: written[0]!.customer!.notes });
    expect(await historyRows(server, id)).toHaveLength(1);
  });

  it('ten concurrent updates without expectedVersion are applied one after another: version 11, ten history rows', async () => {
    const { id } = await insertCustomer(server);
    const payloads = await Promise.all(Array.from({ length: 10 }, (_, index) => updateCustomer(server, id, { notes: `writer ${index}` })));
    expect(payloads.map((payload) => payload.customer!.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const history = await historyRows(server, id);
    expect(history.map((entry) => entry.version)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    // Each write saw the one before it: every `from` is the previous `to`.
    for (let index = 1; index < history.length; index++) {
      expect(history[index]!.changes[0]!.from).toBe(history[index - 1]!.changes[0]!.to);
    }
  });
});

describe('an update that changes nothing writes nothing', () => {
  it('keeps version and dateModified, records no history, and returns the customer', async () => {
    const { id, email } = await insertCustomer(server);
    const before = await customerRow(server, id);
    const payload = await updateCustomer(server, id, {
      firstName: '  Jane ',
      lastName: 'Doe',
      email,
      company: 'Acme Inc.',
      storeCredit: '25.5',
      customerGroupId: 1,
      registrationIpAddress: '203.0.113.7',
      resetPassOnLogin: false,
      authentication: { forceReset: false },
    });
    expect(payload.errors).toEqual([]);
    expect(payload.customer).toMatchObject({ version: 1, dateModified: (before!.date_modified as Date).toISOString() });
    expect(await customerRow(server, id)).toEqual(before);
    expect(await historyRows(server, id)).toEqual([]);
  });

  it('storeCredit sent as "25.500" or the Float 25.5 is the stored amount, so nothing changes', async () => {
    const { id } = await insertCustomer(server);
    for (const storeCredit of ['25.500', 25.5]) {
      expect((await updateCustomer(server, id, { storeCredit })).customer!.version).toBe(1);
    }
  });
});

describe('read-only Customer fields are in no input type (each of them: test/unit/contract-schema.test.ts)', () => {
  it('dateCreated in the input is a GraphQL validation error, inline or as a variable, and nothing changes', async () => {
    const { id } = await insertCustomer(server);
    const before = await databaseSnapshot(server);
    const inline = await server.graphql(
      `mutation { updateCustomer(id: "${id}", input: { company: "Changed", dateCreated: "2020-01-01T00:00:00Z" }) { customer { id } } }`,
    );
    expect(inline.status).toBe(400);
    expect(inline.body.data).toBeUndefined();
    expect(inline.body.errors![0]!.message).toContain('Field "dateCreated" is not defined by type "UpdateCustomerInput"');
    const asVariable = await server.graphql(UPDATE_CUSTOMER, { id, input: { company: 'Changed', dateCreated: '2020-01-01T00:00:00Z' } });
    expect(asVariable.status).toBe(400);
    expect(asVariable.body.errors![0]!.message).toContain('Field "dateCreated" is not defined by type "UpdateCustomerInput"');
    expect(await databaseSnapshot(server)).toEqual(before);
  });
});

describe('registrationIpAddress takes IPv4 and IPv6 (each form: test/unit/customer-input.test.ts and scalars.test.ts)', () => {
  it('stores an address as sent, even the longest IPv6 form', async () => {
    const { id } = await insertCustomer(server);
    const address = '0000:0000:0000:0000:0000:ffff:255.255.255.255';
    const payload = await updateCustomer(server, id, { registrationIpAddress: address });
    expect(payload.errors).toEqual([]);
    expect(payload.customer!.registrationIpAddress).toBe(address);
    expect((await customerRow(server, id))!.registration_ip_address).toBe(address);
  });

  it('refuses what is not an address before anything runs', async () => {
    const { id } = await insertCustomer(server);
    const before = await databaseSnapshot(server);
    const response = await server.graphql(UPDATE_CUSTOMER, { id, input: { registrationIpAddress: '256.1.1.1' } });
    expect(response.status).toBe(400);
    expect(response.body.errors![0]!.message).toMatch(/input\.registrationIpAddress/);
    expect(await databaseSnapshot(server)).toEqual(before);
  });
});

describe('every write records one CustomerChange in the same transaction', () => {
  it('records who, the new version and each changed field with API names and money as 4-place text', async () => {
    const { secret } = await createToken(server.database.db, 'history-writer', ['customers:write']);
    const { id } = await insertCustomer(server);
    const payload = await updateCustomer(
      server,
      id,
      { firstName: 'Janet', company: null, storeCredit: '30', customerGroupId: 2, phone: '+1 512 555 0100' },
      { token: secret },
    );
    expect(payload.errors).toEqual([]);
    const [entry, ...rest] = await historyRows(server, id);
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({ version: 2, actor: 'history-writer' });
    expect(entry!.at.toISOString()).toBe(payload.customer!.dateModified);
    expect(entry!.changes).toEqual([
      { field: 'firstName', from: 'Jane', to: 'Janet' },
      { field: 'company', from: 'Acme Inc.', to: null },
      { field: 'storeCredit', from: '25.5000', to: '30.0000' },
      { field: 'customerGroupId', from: 1, to: 2 },
    ]);
  });

  it('a refused write records nothing', async () => {
    const { id } = await insertCustomer(server);
    await updateCustomer(server, id, { firstName: '' });
    await updateCustomer(server, id, { firstName: 'New' }, { expectedVersion: 9 });
    expect(await historyRows(server, id)).toEqual([]);
  });
});

describe('scopes', () => {
  it('updateCustomer needs customers:write: a read token gets FORBIDDEN and nothing changes', async () => {
    const { id } = await insertCustomer(server);
    const before = await databaseSnapshot(server);
    const response = await server.graphql(UPDATE_CUSTOMER, { id, input: { company: 'Nope' } }, { token: server.tokens.read });
    expect(response.status).toBe(403);
    expect(response.body.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    expect(await databaseSnapshot(server)).toEqual(before);
  });
});
