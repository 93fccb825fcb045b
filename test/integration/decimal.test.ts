/**
 * storeCredit through the API and PostgreSQL: exact amounts with 4 places, in and out. The
 * parsing rules row by row are in test/unit/money.test.ts and decimal-scalar.test.ts.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerRow, insertCustomer, UPDATE_CUSTOMER, updateCustomer } from '../support/customers.ts';
import { canonical, decimalText } from '../support/decimals.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

describe('storeCredit through the API and PostgreSQL', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('is exact: 0.1 then 0.2 then 0.3 store and return exactly "0.1000", "0.2000", "0.3000"', async () => {
    const { id } = await insertCustomer(server);
    for (const [input, output] of [
      ['0.1', '0.1000'],
      [0.2, '0.2000'],
      ['0.3', '0.3000'],
    ] as const) {
      const payload = await updateCustomer(server, id, { storeCredit: input });
      expect(payload.customer!.storeCredit).toBe(output);
      expect((await customerRow(server, id))!.store_credit).toBe(output);
    }
    // The float sum a client might compute is not silently rounded: it is refused.
    const response = await server.graphql(UPDATE_CUSTOMER, { id, input: { storeCredit: 0.1 + 0.2 } });
    expect(response.status).toBe(400);
    expect((await customerRow(server, id))!.store_credit).toBe('0.3000');
  });

  it('takes a Float literal with an exponent (1e3) and an Int literal in the query text', async () => {
    const { id } = await insertCustomer(server);
    const exponent = await server.graphql(`mutation { updateCustomer(id: "${id}", input: { storeCredit: 1e3 }) { customer { storeCredit } } }`);
    expect(exponent.body.data!.updateCustomer.customer.storeCredit).toBe('1000.0000');
    const integer = await server.graphql(`mutation { updateCustomer(id: "${id}", input: { storeCredit: 42 }) { customer { storeCredit } } }`);
    expect(integer.body.data!.updateCustomer.customer.storeCredit).toBe('42.0000');
    expect((await customerRow(server, id))!.store_credit).toBe('42.0000');
  });

  it('refuses what is not a decimal (here 5 places) with a GraphQL input error, and changes nothing', async () => {
    const { id } = await insertCustomer(server);
    const response = await server.graphql(UPDATE_CUSTOMER, { id, input: { storeCredit: '12.34567' } });
    expect(response.status).toBe(400);
    expect(response.body.data).toBeUndefined();
    expect(response.body.errors![0]!.message).toMatch(/input\.storeCredit/);
    expect(await customerRow(server, id)).toMatchObject({ store_credit: '25.5000', version: 1 });
  });

  it('refuses a negative amount with ValidationError INVALID on ["input","storeCredit"]', async () => {
    const { id } = await insertCustomer(server);
    const payload = await updateCustomer(server, id, { storeCredit: -5 });
    expect(payload.errors).toEqual([{ __typename: 'ValidationError', code: 'INVALID', path: ['input', 'storeCredit'], message: expect.any(String) }]);
    expect((await customerRow(server, id))!.store_credit).toBe('25.5000');
  });

  it('stores any amount PostgreSQL\'s numeric(20,4) holds and returns it digit for digit (property)', async () => {
    const { id } = await insertCustomer(server);
    await fc.assert(
      fc.asyncProperty(decimalText.filter((text) => !text.startsWith('-')), async (text) => {
        const payload = await updateCustomer(server, id, { storeCredit: text });
        expect(payload.errors).toEqual([]);
        expect(payload.customer!.storeCredit).toBe(canonical(text));
        expect((await customerRow(server, id))!.store_credit).toBe(canonical(text));
      }),
      { numRuns: 40 },
    );
  });
});
