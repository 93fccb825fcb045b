/** The order clients read a write's errors in: arguments first, then fields in the table's order, the key last. */
import { describe, expect, it } from 'vitest';
import { emailTaken, inOrder, notFound, versionConflict, type DomainError } from '../../src/domain/errors.ts';

const error = (...path: string[]): DomainError => ({ code: 'INVALID', path, message: '' });

describe('error order', () => {
  it('id, expectedVersion, the fields in table order, authentication, idempotencyKey', () => {
    const sorted = inOrder([
      error('idempotencyKey'),
      error('input', 'authentication', 'password'),
      error('input', 'storeCredit'),
      emailTaken(['input', 'email'], 'a@example.com'),
      error('input', 'firstName'),
      versionConflict(['expectedVersion'], 3, 2),
      notFound(['id']),
    ]);
    expect(sorted.map((e) => e.path.join('.'))).toEqual([
      'id',
      'expectedVersion',
      'input.firstName',
      'input.email',
      'input.storeCredit',
      'input.authentication.password',
      'idempotencyKey',
    ]);
  });

  it('within a batch item, by the path after the item\'s prefix', () => {
    const base = ['items', '3'];
    const sorted = inOrder([error(...base, 'input', 'phone'), notFound([...base, 'id']), error(...base, 'input', 'lastName')], base);
    expect(sorted.map((e) => e.path.slice(2).join('.'))).toEqual(['id', 'input.lastName', 'input.phone']);
  });

  it('a version conflict says the version the customer is at', () => {
    expect(versionConflict(['expectedVersion'], 5, 4)).toMatchObject({ code: 'VERSION_CONFLICT', currentVersion: 5 });
  });
});
