/** What error messages keep of the client's input, and which failures mean "database unavailable". */
import { buildSchema, getVariableValues, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { withoutInputValues } from '../../src/http/coercion-messages.ts';
import { isDatabaseUnavailable } from '../../src/infra/database/database-errors.ts';

const SCHEMA = buildSchema(`
  input Authentication { password: String, passwordConfirmation: String, forceReset: Boolean }
  input Update { authentication: Authentication, company: String, customerGroupId: Int }
  type Query { update(input: Update): Int }
`);
const OPERATION = parse('query ($input: Update) { update(input: $input) }').definitions[0] as OperationDefinitionNode;

/** The message graphql-js itself writes when it cannot coerce `input`. */
function coercionMessage(input: unknown): string {
  const { errors } = getVariableValues(SCHEMA, OPERATION.variableDefinitions!, { input });
  expect(errors).toHaveLength(1);
  return errors![0]!.message;
}

const SECRET = 'Quiet-Lantern-4812';

describe('withoutInputValues', () => {
  const cases: Array<[string, unknown, string]> = [
    [
      'a string where a Boolean goes',
      { authentication: { password: SECRET, forceReset: SECRET } },
      'Variable "$input" got invalid value at "input.authentication.forceReset"; Boolean cannot represent a non boolean value.',
    ],
    [
      'an unknown field beside a password',
      { authentication: { password: SECRET, unknown: 1 } },
      'Variable "$input" got invalid value at "input.authentication"; Field "unknown" is not defined by type "Authentication".',
    ],
    [
      'a number where a String goes',
      { authentication: { passwordConfirmation: 4812 } },
      'Variable "$input" got invalid value at "input.authentication.passwordConfirmation"; String cannot represent a non string value.',
    ],
    [
      'an object whose text looks like the message\'s own syntax',
      { company: { x: `${SECRET} at "b"; c` } },
      'Variable "$input" got invalid value at "input.company"; String cannot represent a non string value.',
    ],
    [
      'a string with quotes and separators for the whole input',
      `${SECRET}"; at "x"`,
      'Variable "$input" got invalid value; Expected type "Update" to be an object.',
    ],
  ];
  for (const [label, input, expected] of cases) {
    it(`leaves out the value sent: ${label}`, () => {
      const message = coercionMessage(input);
      expect(message).toContain('4812');
      expect(withoutInputValues(message)).toBe(expected);
    });
  }

  it('leaves every other message as it is', () => {
    for (const message of ['Cannot query field "x" on type "Query".', 'Variable "$input" of required type "Update!" was not provided.', '']) {
      expect(withoutInputValues(message)).toBe(message);
    }
  });
});

describe('which failures mean the database is unavailable', () => {
  const withCode = (code: string, message = 'failure') => Object.assign(new Error(message), { code });

  it('connection failures of the driver, the pool and Prisma', () => {
    for (const error of [
      withCode('ECONNREFUSED'),
      withCode('57P01', 'terminating connection due to administrator command'),
      withCode('57P03', 'the database system is starting up'),
      withCode('08006'),
      withCode('53300'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      withCode('P1001'),
      Object.assign(new Error('Raw query failed'), { code: 'P2010', meta: { driverAdapterError: { cause: { kind: 'postgres', originalCode: '57P01' } } } }),
      new Error('wrapped', { cause: { kind: 'ConnectionClosed' } }),
    ]) {
      expect(isDatabaseUnavailable(error), String(error)).toBe(true);
    }
  });

  it('and nothing else', () => {
    for (const error of [
      withCode('23505', 'duplicate key value violates unique constraint'),
      withCode('P2002'),
      Object.assign(new Error('Raw query failed'), { code: 'P2010', meta: { driverAdapterError: { cause: { kind: 'postgres', originalCode: '42P01' } } } }),
      new Error('Cannot read properties of undefined'),
      null,
      'ECONNREFUSED',
    ]) {
      expect(isDatabaseUnavailable(error), String(error)).toBe(false);
    }
  });
});
