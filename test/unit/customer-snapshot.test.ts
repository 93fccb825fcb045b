/** The customer at a version, rebuilt from the row as it is now and the history after it: the rule alone, no database. */
import { describe, expect, it } from 'vitest';
import { Prisma } from '../../src/generated/prisma/client.ts';
import { customerAtVersion, versionOf, type CustomerView, type HistoryEntry } from '../../src/domain/customer-snapshot.ts';
import { passwordOwners, STORED_RESPONSE_MAX_BYTES } from '../../src/domain/idempotency.ts';

const AT_2 = '2026-11-20T10:00:00.000Z';

/** Version 2 as the first response showed it. */
const atVersion2: CustomerView = {
  id: 42,
  firstName: 'Jane',
  lastName: 'Doe',
  email: 'jane@example.com',
  company: 'Initech',
  phone: null,
  notes: 'Prefers email',
  storeCredit: new Prisma.Decimal('10.5000'),
  registrationIpAddress: '203.0.113.7',
  customerGroupId: 1,
  taxExemptCategory: null,
  resetPassOnLogin: false,
  acceptsProductReviewAbandonedCartEmails: false,
  version: 2,
  dateCreated: new Date('2026-11-01T00:00:00.000Z'),
  dateModified: new Date(AT_2),
};

/** Versions 3 to 6, in API terms, as the write statements record them. */
const later: HistoryEntry[] = [
  { version: 3, changes: [{ field: 'storeCredit', from: '10.5000', to: '99.9999' }, { field: 'password', from: null, to: null }] },
  { version: 4, changes: [{ field: 'email', from: 'jane@example.com', to: 'JANE@example.com' }] },
  {
    version: 5,
    changes: [
      { field: 'company', from: 'Initech', to: null },
      { field: 'phone', from: null, to: '555' },
      { field: 'customerGroupId', from: 1, to: null },
    ],
  },
  { version: 6, changes: [{ field: 'resetPassOnLogin', from: false, to: true }, { field: 'notes', from: 'Prefers email', to: null }] },
];

const now: CustomerView = {
  ...atVersion2,
  email: 'JANE@example.com',
  company: null,
  phone: '555',
  notes: null,
  storeCredit: new Prisma.Decimal('99.9999'),
  customerGroupId: null,
  resetPassOnLogin: true,
  version: 6,
  dateModified: new Date('2026-11-21T08:00:00.000Z'),
};

/** As the API would print it: what a replay must reproduce. */
function printed(customer: CustomerView | null) {
  return customer && { ...customer, storeCredit: customer.storeCredit.toFixed(4), dateModified: customer.dateModified.toISOString(), dateCreated: customer.dateCreated.toISOString() };
}

describe('customerAtVersion walks back from the current row, putting each change\'s `from` back', () => {
  it('money, an email\'s case, cleared and set fields, booleans; the password entry changes nothing shown', () => {
    expect(printed(customerAtVersion(now, later, versionOf(atVersion2)))).toEqual(printed(atVersion2));
  });

  it('any version in between, with the entries in any order and others ignored', () => {
    const atVersion4 = customerAtVersion(now, [...later].reverse(), { id: 42, version: 4, dateModified: '2026-11-20T12:00:00.000Z' });
    expect(printed(atVersion4)).toEqual({
      ...printed(atVersion2),
      email: 'JANE@example.com',
      storeCredit: '99.9999',
      version: 4,
      dateModified: '2026-11-20T12:00:00.000Z',
    });
  });

  it('the current version is the row itself, with no history at all', () => {
    expect(customerAtVersion(now, [], versionOf(now))).toEqual(now);
  });

  it('the stored dateModified is the one shown, though no entry has the stored version (a seeded customer)', () => {
    const seeded = { ...atVersion2, version: 1, dateModified: new Date('2026-10-01T00:00:00.000Z') };
    const rebuilt = customerAtVersion({ ...seeded, firstName: 'Later', version: 2, dateModified: new Date(AT_2) }, [{ version: 2, changes: [{ field: 'firstName', from: 'Jane', to: 'Later' }] }], versionOf(seeded));
    expect(rebuilt).toEqual(seeded);
  });

  it('a field the API no longer has is skipped', () => {
    const entries = [{ version: 3, changes: [{ field: 'fax', from: '1', to: '2' }, { field: 'firstName', from: 'Jane', to: 'Janet' }] }] as unknown as HistoryEntry[];
    expect(customerAtVersion({ ...atVersion2, firstName: 'Janet', version: 3 }, entries, versionOf(atVersion2))).toEqual(atVersion2);
  });
});

describe('customerAtVersion answers null when the history does not lead back to the version', () => {
  it('an entry in between is missing (history pruned)', () => {
    expect(customerAtVersion(now, later.filter((entry) => entry.version !== 4), versionOf(atVersion2))).toBeNull();
  });

  it('an entry\'s `to` is not the value it leads to (the row changed outside the API)', () => {
    expect(customerAtVersion({ ...now, phone: '556' }, later, versionOf(atVersion2))).toBeNull();
    expect(customerAtVersion({ ...now, storeCredit: new Prisma.Decimal('99.999') }, later, versionOf(atVersion2))).toBeNull();
  });

  it('but a field changed outside the API that no later entry touches cannot be told: it shows as it is now', () => {
    expect(customerAtVersion({ ...now, lastName: 'Edited' }, later, versionOf(atVersion2))).toEqual({ ...atVersion2, lastName: 'Edited' });
  });

  it('a version the customer has not reached, or another customer', () => {
    expect(customerAtVersion(atVersion2, later, versionOf(now))).toBeNull();
    expect(customerAtVersion({ ...now, id: 43 }, later, versionOf(atVersion2))).toBeNull();
  });
});

describe('what a record keeps', () => {
  it('the largest batch\'s references fit the stored response cap many times over', () => {
    const customers = Array.from({ length: 10 }, () => versionOf({ ...atVersion2, id: 2_147_483_647, version: 2_147_483_647 }));
    expect(Buffer.byteLength(JSON.stringify({ customers }))).toBeLessThan(STORED_RESPONSE_MAX_BYTES / 2);
  });

  it('each password hash belongs to the customer its argument path names', () => {
    const customers = [{ id: 7 }, { id: 8 }, { id: 9 }];
    expect(passwordOwners(['input.authentication.password'], [{ id: 5 }])).toEqual([5]);
    expect(passwordOwners(['items.2.input.authentication.password', 'items.0.input.authentication.password'], customers)).toEqual([9, 7]);
    expect(passwordOwners([], customers)).toEqual([]);
    expect(() => passwordOwners(['items.3.input.authentication.password'], customers)).toThrow(/no customer/);
  });
});
