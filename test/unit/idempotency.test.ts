/**
 * What identifies a request under an idempotency key (its fingerprint), and the key's own
 * rules, without a database. test/integration/idempotency.test.ts shows them over HTTP.
 */
import { describe, expect, it } from 'vitest';
import { checkIdempotencyKey, fingerprint } from '../../src/domain/idempotency.ts';

const hashOf = (operation: Parameters<typeof fingerprint>[0], args: Record<string, unknown>) => fingerprint(operation, args).requestHash;

describe('the request fingerprint', () => {
  const args = { id: '7', input: { firstName: 'A', storeCredit: '12.5000', company: 'Initech' } };

  it('is a SHA-256 in hex', () => {
    expect(hashOf('updateCustomer', args)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is the same for the same arguments in any key order, with left-out fields dropped', () => {
    const reordered = { input: { company: 'Initech', storeCredit: '12.5000', firstName: 'A' }, id: '7', expectedVersion: undefined };
    expect(hashOf('updateCustomer', reordered)).toBe(hashOf('updateCustomer', args));
  });

  it('differs for another operation, another customer, another value, an expectedVersion added, or null for left out', () => {
    const base = hashOf('updateCustomer', args);
    const others = [
      hashOf('createCustomer', args),
      hashOf('updateCustomers', args),
      hashOf('updateCustomer', { ...args, id: '8' }),
      hashOf('updateCustomer', { ...args, input: { ...args.input, firstName: 'B' } }),
      hashOf('updateCustomer', { ...args, expectedVersion: 2 }),
      hashOf('updateCustomer', { ...args, input: { ...args.input, phone: null } }),
    ];
    expect(new Set([base, ...others]).size).toBe(others.length + 1);
  });

  it('keeps the order of a batch\'s items', () => {
    const one = { id: '1', input: { notes: 'a' } };
    const two = { id: '2', input: { notes: 'b' } };
    expect(hashOf('updateCustomers', { items: [one, two] })).not.toBe(hashOf('updateCustomers', { items: [two, one] }));
  });

  it('leaves every password out of the hash and hands each back by its dotted path', () => {
    const withPassword = (password: string) => ({ id: '7', input: { authentication: { password } } });
    const first = fingerprint('updateCustomer', withPassword('Quiet-Lantern-4812'));
    const second = fingerprint('updateCustomer', withPassword('Other-Lantern-4812'));
    expect(first.requestHash).toBe(second.requestHash);
    expect([...first.passwords]).toEqual([['input.authentication.password', 'Quiet-Lantern-4812']]);
    // ...but a password sent is a different request from none
    expect(first.requestHash).not.toBe(hashOf('updateCustomer', { id: '7', input: { authentication: {} } }));

    const batch = fingerprint('updateCustomers', { items: [{ id: '1', input: {} }, { id: '2', input: { authentication: { password: 'Batch-pass-1' } } }] });
    expect([...batch.passwords]).toEqual([['items.1.input.authentication.password', 'Batch-pass-1']]);
  });

  it('keeps of a confirmation only whether it equals its password', () => {
    const confirmed = (passwordConfirmation?: string) => hashOf('updateCustomer', { input: { authentication: { password: 'Quiet-Lantern-4812', passwordConfirmation } } });
    expect(confirmed('Quiet-Lantern-4812')).not.toBe(confirmed(undefined));
    expect(confirmed('Quiet-Lantern-4813')).not.toBe(confirmed('Quiet-Lantern-4812'));
    expect(confirmed('Quiet-Lantern-4813')).toBe(confirmed('something else entirely'));
    expect(confirmed('Quiet-Lantern-4813')).not.toBe(confirmed(undefined));
  });
});

describe('idempotencyKey has 1 to 255 characters that PostgreSQL can store', () => {
  it('accepts 1 to 255 characters, counted as characters (an emoji is one)', () => {
    for (const key of ['k', 'k'.repeat(255), '\u{1F511}'.repeat(255), 'key-\u{1F511}'.padEnd(255, 'x')]) expect(checkIdempotencyKey(key)).toBeNull();
  });

  it('an empty key is INVALID, 256 characters TOO_LONG, NUL or a lone surrogate INVALID, all on ["idempotencyKey"]', () => {
    expect(checkIdempotencyKey('')).toEqual({ code: 'INVALID', path: ['idempotencyKey'], message: 'idempotencyKey must have 1 to 255 characters' });
    expect(checkIdempotencyKey('k'.repeat(256))).toEqual({ code: 'TOO_LONG', path: ['idempotencyKey'], message: 'idempotencyKey must be at most 255 characters, not 256' });
    expect(checkIdempotencyKey('\u{1F511}'.repeat(256))).toMatchObject({ code: 'TOO_LONG' });
    for (const key of ['nul\u0000key', 'half\uD83D']) {
      expect(checkIdempotencyKey(key)).toEqual({ code: 'INVALID', path: ['idempotencyKey'], message: 'idempotencyKey contains characters that cannot be stored' });
    }
  });
});
