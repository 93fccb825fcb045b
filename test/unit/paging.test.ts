/** The one page-size rule and cursor format of `customers`, `Customer.history` and the live feed. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { afterKey, decodeCursor, encodeCursor, PAGE_SIZE, pageOf, pageRequest, PagingError, type CursorKind } from '../../src/domain/paging.ts';

describe('page arguments', () => {
  it('default to 20, cap at 100, and refuse a negative first', () => {
    expect(pageRequest('customer', {})).toEqual({ size: PAGE_SIZE.default, after: null });
    expect(pageRequest('customer', { first: null })).toEqual({ size: 20, after: null });
    expect(pageRequest('customer', { first: 0 }).size).toBe(0);
    expect(pageRequest('customer', { first: 1_000 }).size).toBe(PAGE_SIZE.max);
    expect(() => pageRequest('customer', { first: -1 })).toThrow(PagingError);
  });

  it('take only a cursor this API gave out, for the same kind of list', () => {
    expect(pageRequest('change', { after: encodeCursor('change', 7) }).after).toBe(7);
    for (const after of ['', 'garbage', encodeCursor('customer', 7), Buffer.from('change:-1').toString('base64url'), Buffer.from('change:07').toString('base64url')]) {
      expect(() => pageRequest('change', { after }), after).toThrow(PagingError);
    }
  });

  it('refuse a key no item of that list can have, rather than failing on it in the database', () => {
    expect(pageRequest('customer', { after: encodeCursor('customer', 2_147_483_647) }).after).toBe(2_147_483_647);
    expect(() => pageRequest('customer', { after: encodeCursor('customer', 2_147_483_648) })).toThrow(PagingError);
    expect(() => pageRequest('change', { after: encodeCursor('change', 9_999_999_999) })).toThrow(PagingError);
  });
});

describe('cursors', () => {
  const KINDS: CursorKind[] = ['customer', 'change', 'event'];

  it('decode to the key they were made from, and only for their kind', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KINDS), fc.integer({ min: 0, max: 2_147_483_647 }), (kind, key) => {
        expect(decodeCursor(kind, encodeCursor(kind, key))).toBe(BigInt(key));
        for (const other of KINDS.filter((each) => each !== kind)) expect(decodeCursor(other, encodeCursor(kind, key))).toBeNull();
      }),
    );
  });

  it('of events hold any PostgreSQL bigint exactly, past JavaScript\'s safe integers, and nothing beyond', () => {
    const MAX = 9_223_372_036_854_775_807n;
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX }), (id) => {
        expect(afterKey('event', encodeCursor('event', id))).toBe(id);
      }),
    );
    expect(decodeCursor('event', encodeCursor('event', 9_007_199_254_740_993n))).toBe(9_007_199_254_740_993n);
    for (const after of [encodeCursor('event', MAX + 1n), Buffer.from('event:0042').toString('base64url'), Buffer.from('event:1e3').toString('base64url'), 'event:1']) {
      expect(() => afterKey('event', after), after).toThrow(PagingError);
    }
  });
});

describe('a page', () => {
  it('holds at most size rows, says whether more follow, and carries the cursors of its ends', () => {
    const rows = [{ id: 3 }, { id: 5 }, { id: 8 }];
    const page = pageOf('customer', { size: 2, after: 1 }, rows, (row) => row.id);
    expect(page.edges.map((edge) => edge.node.id)).toEqual([3, 5]);
    expect(page.pageInfo).toEqual({
      hasNextPage: true,
      hasPreviousPage: true,
      startCursor: encodeCursor('customer', 3),
      endCursor: encodeCursor('customer', 5),
    });
    expect(pageOf('customer', { size: 5, after: null }, [], (row: { id: number }) => row.id).pageInfo).toEqual({
      hasNextPage: false,
      hasPreviousPage: false,
      startCursor: null,
      endCursor: null,
    });
  });
});
