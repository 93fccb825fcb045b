/** fast-check generators of customer input, shared by the unit and HTTP property tests. */
import fc from 'fast-check';

/** Text of `min` to `max` characters, never blank, in several scripts. */
export const text = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzÄé漢 -.'), minLength: min, maxLength: max }).map((value) => `x${value}`.slice(0, max));

/** White space only: blank after trimming. */
export const blank = fc.string({ unit: fc.constantFrom(' ', '\t', '\n'), maxLength: 5 });

/** One to 40 characters longer than `max`. */
export const tooLong = (max: number) => fc.integer({ min: max + 1, max: max + 40 }).map((length) => 'y'.repeat(length));

/** Changes that would be written if they came alone (email and taxExemptCategory left to each test). */
export const validChanges = fc.record(
  {
    firstName: text(1, 100),
    lastName: text(1, 100),
    company: fc.option(text(1, 255)),
    phone: fc.option(text(1, 50)),
    notes: fc.option(text(1, 500)),
    storeCredit: fc.integer({ min: 0, max: 10 ** 9 }).map((cents) => (cents / 100).toFixed(2)),
    customerGroupId: fc.option(fc.integer({ min: 0, max: 1000 })),
    registrationIpAddress: fc.option(fc.constantFrom('192.0.2.10', '2001:db8::10', '::1')),
    resetPassOnLogin: fc.boolean(),
  },
  { requiredKeys: ['company'] },
);
