/**
 * The input rules of a customer write (API.md, "Update semantics"), row by row, without a
 * database: what checkUpdateInput and checkCreateInput keep, and every error they report.
 * test/integration/update-customer.test.ts and create-customer.test.ts show each rule once
 * over HTTP.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkCreateInput, checkUpdateInput } from '../../src/domain/customer-input.ts';
import { blank, tooLong, validChanges } from '../support/arbitraries.ts';

/** The errors as (code, dotted path) pairs, the part clients rely on. */
function codesAndPaths(checked: { errors: ReadonlyArray<{ code: string; path: readonly string[] }> }): Array<[string, string]> {
  return checked.errors.map((error) => [error.code, error.path.join('.')]);
}

describe('a field left out of the input is unchanged', () => {
  it('an empty input has no values and no errors', () => {
    expect(checkUpdateInput({})).toEqual({ values: {}, errors: [] });
  });

  it('only the fields sent are in the values', () => {
    expect(checkUpdateInput({ company: 'Globex' })).toEqual({ values: { company: 'Globex' }, errors: [] });
  });
});

describe('null clears a field the customer may lack', () => {
  for (const field of ['company', 'phone', 'notes', 'registrationIpAddress', 'customerGroupId', 'taxExemptCategory'] as const) {
    it(`null clears ${field}`, () => {
      expect(checkUpdateInput({ [field]: null })).toEqual({ values: { [field]: null }, errors: [] });
    });
  }

  it('a blank optional text field is no value (null), not an empty string', () => {
    const checked = checkUpdateInput({ company: '   ', phone: '', notes: '\n\t', taxExemptCategory: ' ', registrationIpAddress: '' });
    expect(checked).toEqual({
      values: { company: null, phone: null, notes: null, registrationIpAddress: null, taxExemptCategory: null },
      errors: [],
    });
  });
});

describe('null or blank for firstName, lastName, email, storeCredit or resetPassOnLogin is REQUIRED', () => {
  const cases: Array<[string, unknown]> = [
    ['firstName', null],
    ['firstName', ''],
    ['firstName', '   '],
    ['lastName', null],
    ['lastName', '\t'],
    ['email', null],
    ['email', ''],
    ['email', '  '],
    ['storeCredit', null],
    ['storeCredit', ''],
    ['storeCredit', ' '],
    ['resetPassOnLogin', null],
  ];
  for (const [field, value] of cases) {
    it(`${field}: ${JSON.stringify(value)}`, () => {
      expect(checkUpdateInput({ [field]: value })).toEqual({
        values: {},
        errors: [{ code: 'REQUIRED', path: ['input', field], message: expect.stringContaining(field) }],
      });
    });
  }
});

describe('lengths count characters after trimming surrounding white space, which is not kept', () => {
  const limits = [
    ['firstName', 100],
    ['lastName', 100],
    ['company', 255],
    ['phone', 50],
    ['taxExemptCategory', 255],
    ['notes', 65_535],
  ] as const;

  for (const [field, limit] of limits) {
    it(`${field}: ${limit} characters are kept, ${limit + 1} are TOO_LONG`, () => {
      const longest = 'x'.repeat(limit);
      expect(checkUpdateInput({ [field]: `  ${longest}  ` })).toEqual({ values: { [field]: longest }, errors: [] });
      expect(checkUpdateInput({ [field]: `${longest}y` })).toEqual({
        values: {},
        errors: [{ code: 'TOO_LONG', path: ['input', field], message: `${field} must be at most ${limit} characters, not ${limit + 1}` }],
      });
    });
  }

  it('email: 255 characters are kept, 256 are TOO_LONG', () => {
    const at255 = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`;
    expect(at255).toHaveLength(255);
    expect(checkUpdateInput({ email: at255 })).toEqual({ values: { email: at255 }, errors: [] });
    expect(codesAndPaths(checkUpdateInput({ email: `${at255.slice(0, -1)}dd` }))).toEqual([['TOO_LONG', 'input.email']]);
  });

  it('counts characters, not UTF-16 units: 100 emoji are a valid firstName, 101 are not', () => {
    const emoji = '😀'.repeat(100);
    expect(emoji.length).toBe(200);
    expect(checkUpdateInput({ firstName: emoji }).values).toEqual({ firstName: emoji });
    expect(codesAndPaths(checkUpdateInput({ firstName: `${emoji}😀` }))).toEqual([['TOO_LONG', 'input.firstName']]);
  });

  it('trims text and email', () => {
    expect(checkUpdateInput({ firstName: '  Ann ', lastName: '\tLee\n', email: '  ann@example.com ', phone: ' 555 ' })).toEqual({
      values: { firstName: 'Ann', lastName: 'Lee', email: 'ann@example.com', phone: '555' },
      errors: [],
    });
  });
});

describe('text PostgreSQL cannot store is INVALID', () => {
  for (const [label, value] of [
    ['NUL', 'a\u0000b'],
    ['a lone high surrogate', 'a\uD83D'],
    ['a lone low surrogate', '\uDE00b'],
  ] as const) {
    it(`${label} in notes, company or firstName`, () => {
      for (const field of ['notes', 'company', 'firstName'] as const) {
        expect(checkUpdateInput({ [field]: value }).errors).toEqual([
          { code: 'INVALID', path: ['input', field], message: `${field} contains characters that cannot be stored` },
        ]);
      }
    });
  }

  it('a surrogate pair (an emoji) is text like any other', () => {
    expect(checkUpdateInput({ notes: 'ok 😀' }).errors).toEqual([]);
  });
});

describe('email', () => {
  it('must look like an address and have at least 3 characters (the EmailAddress scalar checks the rest)', () => {
    expect(codesAndPaths(checkUpdateInput({ email: 'not-an-email' }))).toEqual([['INVALID', 'input.email']]);
    expect(codesAndPaths(checkUpdateInput({ email: 'two words@example.com' }))).toEqual([['INVALID', 'input.email']]);
    expect(codesAndPaths(checkUpdateInput({ email: '@b' }))).toEqual([['INVALID', 'input.email']]);
    expect(checkUpdateInput({ email: 'a@b' }).errors).toEqual([]);
  });

  it('keeps the case it was sent in', () => {
    expect(checkUpdateInput({ email: 'Ann.Lee@Example.COM' }).values).toEqual({ email: 'Ann.Lee@Example.COM' });
  });
});

describe('storeCredit', () => {
  it('is kept as canonical 4-place text, however it was written', () => {
    for (const written of ['25.5', '25.500', '025.5000', ' 25.5 ']) {
      expect(checkUpdateInput({ storeCredit: written }).values, written).toEqual({ storeCredit: '25.5000' });
    }
    expect(checkUpdateInput({ storeCredit: '0' }).values).toEqual({ storeCredit: '0.0000' });
  });

  it('a negative amount is INVALID; minus zero is zero', () => {
    for (const negative of ['-0.0001', '-5', '-12.5']) {
      expect(checkUpdateInput({ storeCredit: negative }).errors, negative).toEqual([
        { code: 'INVALID', path: ['input', 'storeCredit'], message: 'storeCredit cannot be negative' },
      ]);
    }
    expect(checkUpdateInput({ storeCredit: '-0' })).toEqual({ values: { storeCredit: '0.0000' }, errors: [] });
  });

  it('what is not a decimal is INVALID, with the reason', () => {
    for (const bad of ['12.34567', '1e3', 'abc', '1.2.3', '10000000000000000']) {
      expect(codesAndPaths(checkUpdateInput({ storeCredit: bad })), bad).toEqual([['INVALID', 'input.storeCredit']]);
    }
    expect(checkUpdateInput({ storeCredit: '12.34567' }).errors[0]!.message).toMatch(/more than 4 decimal places/);
  });
});

describe('customerGroupId', () => {
  it('is a whole number from 0 to 2147483647, or null', () => {
    for (const id of [0, 1, 2_147_483_647, null]) expect(checkUpdateInput({ customerGroupId: id })).toEqual({ values: { customerGroupId: id }, errors: [] });
    for (const id of [-1, -3, 1.5, 2_147_483_648, Number.NaN]) {
      expect(codesAndPaths(checkUpdateInput({ customerGroupId: id })), String(id)).toEqual([['INVALID', 'input.customerGroupId']]);
    }
  });
});

describe('registrationIpAddress takes IPv4 and IPv6, kept as sent', () => {
  const valid = ['192.0.2.1', '2001:db8::1', '::1', 'fe80::abcd:1234', '::ffff:192.0.2.128', '2001:0db8:0000:0000:0000:ff00:0042:8329', '0000:0000:0000:0000:0000:ffff:255.255.255.255'];
  for (const address of valid) {
    it(`keeps ${address}`, () => {
      expect(checkUpdateInput({ registrationIpAddress: address })).toEqual({ values: { registrationIpAddress: address }, errors: [] });
    });
  }

  it('refuses what is not an address', () => {
    for (const address of ['256.1.1.1', '2001:db8:::1', 'localhost', '1.2.3']) {
      expect(codesAndPaths(checkUpdateInput({ registrationIpAddress: address })), address).toEqual([['INVALID', 'input.registrationIpAddress']]);
    }
  });
});

describe('passwords', () => {
  const PASSWORD = 'Tr0ub4dor&3-horse';

  it('a password that meets the policy is returned apart from the values, to be hashed', () => {
    expect(checkUpdateInput({ authentication: { password: PASSWORD, passwordConfirmation: PASSWORD } })).toEqual({
      values: {},
      password: PASSWORD,
      errors: [],
    });
  });

  it('`authentication` left out, or password null, changes no password', () => {
    expect(checkUpdateInput({ company: 'Other' })).not.toHaveProperty('password');
    expect(checkUpdateInput({ authentication: { password: null } })).toEqual({ values: {}, errors: [] });
    expect(checkUpdateInput({ authentication: null })).toEqual({ values: {}, errors: [] });
  });

  it('passwordConfirmation different from password, or without one, is PASSWORD_MISMATCH', () => {
    for (const authentication of [{ password: PASSWORD, passwordConfirmation: `${PASSWORD}x` }, { passwordConfirmation: 'without-a-password-1' }]) {
      expect(checkUpdateInput({ authentication }).errors).toEqual([
        { code: 'PASSWORD_MISMATCH', path: ['input', 'authentication', 'passwordConfirmation'], message: 'passwordConfirmation does not match password' },
      ]);
    }
  });

  const weak: Array<[string, string]> = [
    ['shorter than 8 characters', 'abc1234'],
    ['no digit', 'abcdefghij'],
    ['no letter', '1234567890'],
    ['longer than 128 characters', `a1${'x'.repeat(127)}`],
    ['a common password', 'password1'],
    ['a common password in other case', 'PassWord1'],
    ['another common password', 'Trustno1'],
  ];
  for (const [why, password] of weak) {
    it(`${why} is PASSWORD_TOO_WEAK, and the message does not repeat it`, () => {
      const checked = checkUpdateInput({ authentication: { password } });
      expect(checked).not.toHaveProperty('password');
      expect(codesAndPaths(checked)).toEqual([['PASSWORD_TOO_WEAK', 'input.authentication.password']]);
      expect(checked.errors[0]!.message).toMatch(/^The password must /);
      expect(checked.errors[0]!.message).not.toContain(password);
    });
  }

  it('exactly 8 characters with a letter and a digit, and exactly 128 characters, are accepted', () => {
    for (const password of ['zq7wvx3k', `a1${'x'.repeat(126)}`]) {
      expect(checkUpdateInput({ authentication: { password } })).toEqual({ values: {}, password, errors: [] });
    }
  });

  it('forceReset sets resetPassOnLogin; contradicting resetPassOnLogin is INVALID on forceReset', () => {
    expect(checkUpdateInput({ authentication: { forceReset: true } })).toEqual({ values: { resetPassOnLogin: true }, errors: [] });
    expect(checkUpdateInput({ authentication: { forceReset: false } })).toEqual({ values: { resetPassOnLogin: false }, errors: [] });
    expect(checkUpdateInput({ resetPassOnLogin: true, authentication: { forceReset: true } })).toEqual({ values: { resetPassOnLogin: true }, errors: [] });
    expect(codesAndPaths(checkUpdateInput({ resetPassOnLogin: false, authentication: { forceReset: true } }))).toEqual([
      ['INVALID', 'input.authentication.forceReset'],
    ]);
  });
});

describe('all errors of one input are reported together, in the order of the fields', () => {
  it('every problem with its path, whatever the order of the input', () => {
    const checked = checkUpdateInput({
      authentication: { password: 'short1', passwordConfirmation: 'different1' },
      resetPassOnLogin: null,
      customerGroupId: -3,
      storeCredit: '-1',
      company: 'Valid Company',
      lastName: 'x'.repeat(101),
      firstName: ' ',
    });
    expect(codesAndPaths(checked)).toEqual([
      ['REQUIRED', 'input.firstName'],
      ['TOO_LONG', 'input.lastName'],
      ['INVALID', 'input.storeCredit'],
      ['INVALID', 'input.customerGroupId'],
      ['REQUIRED', 'input.resetPassOnLogin'],
      ['PASSWORD_TOO_WEAK', 'input.authentication.password'],
      ['PASSWORD_MISMATCH', 'input.authentication.passwordConfirmation'],
    ]);
    // the valid field is still checked and kept; the caller writes nothing when there are errors
    expect(checked.values).toEqual({ company: 'Valid Company' });
  });

  it('paths start where the input sits among the arguments', () => {
    expect(codesAndPaths(checkUpdateInput({ firstName: '', authentication: { password: 'x' } }, ['items', '3', 'input']))).toEqual([
      ['REQUIRED', 'items.3.input.firstName'],
      ['PASSWORD_TOO_WEAK', 'items.3.input.authentication.password'],
    ]);
  });
});

describe('creation', () => {
  it('firstName, lastName and email must be given', () => {
    expect(checkCreateInput({ company: 'Acme' })).toEqual({
      values: { company: 'Acme' },
      errors: [
        { code: 'REQUIRED', path: ['input', 'firstName'], message: 'firstName is required' },
        { code: 'REQUIRED', path: ['input', 'lastName'], message: 'lastName is required' },
        { code: 'REQUIRED', path: ['input', 'email'], message: 'email is required' },
      ],
    });
  });

  it('blank is REQUIRED on each, all reported together', () => {
    expect(codesAndPaths(checkCreateInput({ firstName: ' ', lastName: '', email: '  ' }))).toEqual([
      ['REQUIRED', 'input.firstName'],
      ['REQUIRED', 'input.lastName'],
      ['REQUIRED', 'input.email'],
    ]);
  });

  it('storeCredit null is REQUIRED; the other optional fields may be null', () => {
    const base = { firstName: 'A', lastName: 'B', email: 'a@example.com' };
    expect(codesAndPaths(checkCreateInput({ ...base, storeCredit: null }))).toEqual([['REQUIRED', 'input.storeCredit']]);
    const nulls = { company: null, phone: null, notes: null, registrationIpAddress: null, customerGroupId: null, taxExemptCategory: null };
    expect(checkCreateInput({ ...base, ...nulls })).toEqual({ values: { ...base, ...nulls }, errors: [] });
  });

  it('applies the update rules to every field it is given', () => {
    const checked = checkCreateInput({
      firstName: 'x'.repeat(101),
      lastName: ' Ek ',
      email: 'bo@example.com',
      storeCredit: '12.3456',
      authentication: { password: 'weak', passwordConfirmation: 'weak', forceReset: true },
    });
    expect(codesAndPaths(checked)).toEqual([
      ['TOO_LONG', 'input.firstName'],
      ['PASSWORD_TOO_WEAK', 'input.authentication.password'],
    ]);
    expect(checked.values).toEqual({ lastName: 'Ek', email: 'bo@example.com', storeCredit: '12.3456', resetPassOnLogin: true });
  });
});

describe('an input with any invalid field is refused at that field (property)', () => {
  /** One invalid field the rules themselves refuse, and the path they must name. */
  const invalidField = fc.oneof(
    fc.record({ field: fc.constantFrom('firstName', 'lastName'), value: fc.oneof(fc.constant(null), blank, tooLong(100)) }),
    fc.record({ field: fc.constant('email'), value: fc.oneof(fc.constant(null), blank, fc.constant(`${'a'.repeat(250)}@example.com`), fc.constant('no-at-sign')) }),
    fc.record({ field: fc.constant('company'), value: tooLong(255) }),
    fc.record({ field: fc.constant('phone'), value: tooLong(50) }),
    fc.record({ field: fc.constant('taxExemptCategory'), value: tooLong(255) }),
    fc.record({ field: fc.constantFrom('notes', 'company', 'firstName'), value: fc.constant('nul\u0000inside') }),
    fc.record({
      field: fc.constant('storeCredit'),
      value: fc.oneof(fc.constant(null), blank, fc.integer({ min: 1, max: 10 ** 6 }).map((n) => `-${n}`), fc.constantFrom('12.34567', '1e3', 'abc', 'NaN', '1.2.3')),
    }),
    fc.record({ field: fc.constant('customerGroupId'), value: fc.integer({ min: -1000, max: -1 }) }),
    fc.record({ field: fc.constant('registrationIpAddress'), value: fc.constantFrom('999.1.1.1', 'localhost') }),
    fc.record({ field: fc.constant('resetPassOnLogin'), value: fc.constant(null) }),
  );

  it('the valid changes alone pass', () => {
    fc.assert(
      fc.property(validChanges, (valid) => {
        expect(checkUpdateInput(valid).errors).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('with invalid fields added, each of them is reported on its path', () => {
    fc.assert(
      fc.property(validChanges, fc.array(invalidField, { minLength: 1, maxLength: 3 }), (valid, invalid) => {
        const input: Record<string, unknown> = { ...valid };
        for (const { field, value } of invalid) input[field] = value;
        const reported = checkUpdateInput(input).errors.map((error) => error.path.join('.'));
        for (const { field } of invalid) expect(reported).toContain(`input.${field}`);
      }),
      { numRuns: 300 },
    );
  });
});
