/** The Decimal scalar: exact amounts with 4 places, in and out, and storeCredit through PostgreSQL. */
import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import { GraphQLScalarType, Kind, parseValue as parseGraphQLValue } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.ts';
import { codesAndPaths, customerRow, insertCustomer, UPDATE_CUSTOMER, updateCustomer } from '../support/customers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const scalar = schema.getType('Decimal') as GraphQLScalarType;

/** A decimal's text: up to 16 digits before the point and up to 4 after, maybe negative. */
const decimalText = fc
  .tuple(
    fc.boolean(),
    fc.bigInt({ min: 0n, max: 10n ** 16n - 1n }),
    fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 4 }),
    fc.nat({ max: 2 }),
  )
  .map(([negative, integer, fraction, leadingZeros]) => {
    const body = `${'0'.repeat(leadingZeros)}${integer}${fraction ? `.${fraction}` : ''}`;
    return negative ? `-${body}` : body;
  });

/** The canonical form, computed by decimal.js (arbitrary precision), not by the code under test. */
function canonical(text: string): string {
  const value = new Decimal(text).toFixed(4);
  return value === '-0.0000' ? '0.0000' : value;
}

function parseLiteral(source: string): unknown {
  return scalar.parseLiteral(parseGraphQLValue(source));
}

describe('the Decimal scalar (properties)', () => {
  it('a numeric string parses to its exact value with 4 places, and serializes to the same text', () => {
    fc.assert(
      fc.property(decimalText, (text) => {
        const parsed = scalar.parseValue(text);
        expect(parsed).toBe(canonical(text));
        expect(scalar.serialize(parsed)).toBe(parsed);
        expect(scalar.serialize(new Decimal(text))).toBe(canonical(text).replace(/^-0\.0000$/, '0.0000'));
        // A literal in the query text is read the same way as a variable.
        expect(parseLiteral(JSON.stringify(text))).toBe(parsed);
      }),
      { numRuns: 300 },
    );
  });

  it('a Float with at most 4 places and 15 significant digits is exactly the decimal the client wrote', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(10 ** 11), max: 10 ** 11 }), (tenThousandths) => {
        const written = new Decimal(tenThousandths).dividedBy(10_000).toString();
        // The JSON number a client sends and the Float literal it may write in the query.
        const asFloat = JSON.parse(written) as number;
        expect(scalar.parseValue(asFloat)).toBe(canonical(written));
        expect(parseLiteral(written)).toBe(canonical(written));
      }),
      { numRuns: 300 },
    );
  });

  it('more than 4 places is refused, whatever the other digits', () => {
    fc.assert(
      fc.property(decimalText, fc.integer({ min: 1, max: 9 }), (text, digit) => {
        const longer = `${text}${text.includes('.') ? '' : '.'}${'0'.repeat(4 - (text.split('.')[1]?.length ?? 0))}${digit}`;
        expect(() => scalar.parseValue(longer)).toThrow(/more than 4 decimal places/);
      }),
      { numRuns: 200 },
    );
  });
});

describe('the Decimal scalar (examples)', () => {
  const accepted: Array<[unknown, string]> = [
    [0, '0.0000'],
    [12, '12.0000'],
    [12.5, '12.5000'],
    [0.1, '0.1000'],
    ['0.1', '0.1000'],
    ['-0', '0.0000'],
    ['  7.25 ', '7.2500'],
    ['9999999999999999.9999', '9999999999999999.9999'],
    [123456789012.345, '123456789012.3450'],
  ];
  for (const [input, output] of accepted) {
    it(`accepts ${JSON.stringify(input)} as ${output}`, () => expect(scalar.parseValue(input)).toBe(output));
  }

  const refused: unknown[] = [
    '12.34567',
    '1e3',
    '1E3',
    'abc',
    'NaN',
    'Infinity',
    '-Infinity',
    '0x10',
    '.5',
    '5.',
    '+5',
    '1 000',
    '10000000000000000',
    0.30000000000000004,
    1e21,
    1234567890123456.7,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    true,
    {},
    [],
  ];
  for (const input of refused) {
    it(`refuses ${typeof input === 'number' ? String(input) : JSON.stringify(input)}`, () => {
      expect(() => scalar.parseValue(input)).toThrow();
    });
  }

  it('reads an exponent Float literal (1e3) as the number it is, and an exponent string not at all', () => {
    expect(parseLiteral('1e3')).toBe('1000.0000');
    expect(parseLiteral('2.5E2')).toBe('250.0000');
    expect(() => parseLiteral('"1e3"')).toThrow();
    expect(() => parseLiteral('1.23456')).toThrow();
    expect(() => scalar.parseLiteral({ kind: Kind.BOOLEAN, value: true })).toThrow();
  });

  it('a blank string reaches the field as "no amount", which storeCredit reports as REQUIRED', () => {
    expect(scalar.parseValue('')).toBe('');
    expect(scalar.parseValue('   ')).toBe('');
  });
});

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

  for (const [label, input] of [
    ['"12.34567" (5 places)', '12.34567'],
    ['"1e3" (an exponent string)', '1e3'],
    ['"abc"', 'abc'],
    ['"NaN"', 'NaN'],
  ] as const) {
    it(`refuses ${label} with a GraphQL input error and changes nothing`, async () => {
      const { id } = await insertCustomer(server);
      const response = await server.graphql(UPDATE_CUSTOMER, { id, input: { storeCredit: input } });
      expect(response.status).toBe(400);
      expect(response.body.data).toBeUndefined();
      expect(response.body.errors![0]!.message).toMatch(/input\.storeCredit/);
      expect(await customerRow(server, id)).toMatchObject({ store_credit: '25.5000', version: 1 });
    });
  }

  it('refuses a negative amount with ValidationError INVALID on ["input","storeCredit"]', async () => {
    const { id } = await insertCustomer(server);
    for (const storeCredit of ['-0.0001', -5, '-12.5']) {
      const payload = await updateCustomer(server, id, { storeCredit });
      expect(payload.errors).toEqual([{ __typename: 'ValidationError', code: 'INVALID', path: ['input', 'storeCredit'], message: expect.any(String) }]);
    }
    expect(codesAndPaths(await updateCustomer(server, id, { storeCredit: '-0' }))).toEqual([]);
    expect((await customerRow(server, id))!.store_credit).toBe('0.0000');
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
