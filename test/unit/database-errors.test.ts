/** Driver failures arrive in three shapes (node-postgres, Prisma's query API, Prisma's raw queries); each means one typed error. */
import { describe, expect, it } from 'vitest';
import {
  databaseError,
  DatabaseFailure,
  DatabaseUnavailable,
  isDatabaseUnavailable,
  SerializationFailure,
  UniqueViolation,
} from '../../src/infra/database/database-errors.ts';

/** node-postgres' DatabaseError carries the SQLSTATE, a severity and the constraint. */
function pgError(code: string, extra: Record<string, unknown> = {}) {
  return Object.assign(new Error(`pg says ${code} with secret values`), { code, severity: 'ERROR', ...extra });
}

/** Prisma's errors carry its version, its own code, and the driver adapter's classification. */
function prismaError(code: string, cause: Record<string, unknown>) {
  return Object.assign(new Error('Invalid `prisma.customer.create()` invocation: { passwordHash: "$argon2id$SECRET" }'), {
    name: 'PrismaClientKnownRequestError',
    clientVersion: '7.10.0',
    code,
    meta: { driverAdapterError: { name: 'DriverAdapterError', cause } },
  });
}

describe('databaseError', () => {
  it('a unique violation names its constraint, in every shape', () => {
    const shapes = [
      pgError('23505', { constraint: 'customers_email_key' }),
      prismaError('P2002', { originalCode: '23505', kind: 'UniqueConstraintViolation', constraint: { index: 'customers_email_key' } }),
      prismaError('P2010', { originalCode: '23505', kind: 'UniqueConstraintViolation', constraint: { index: 'customers_email_key' } }),
    ];
    for (const shape of shapes) {
      const typed = databaseError(shape);
      expect(typed).toBeInstanceOf(UniqueViolation);
      expect((typed as UniqueViolation).constraint).toBe('customers_email_key');
    }
  });

  it('an unreachable database is DatabaseUnavailable, in every shape', () => {
    const shapes = [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      pgError('57P01'),
      new Error('Connection terminated unexpectedly'),
      prismaError('P2010', { kind: 'DatabaseNotReachable' }),
      prismaError('P1001', {}),
    ];
    for (const shape of shapes) {
      expect(databaseError(shape), shape.message).toBeInstanceOf(DatabaseUnavailable);
      expect(isDatabaseUnavailable(shape)).toBe(true);
    }
    expect(isDatabaseUnavailable(new DatabaseUnavailable('57P01'))).toBe(true);
  });

  it('a serialization failure is SerializationFailure', () => {
    expect(databaseError(pgError('40001'))).toBeInstanceOf(SerializationFailure);
    expect(databaseError(prismaError('P2034', { originalCode: '40001', kind: 'TransactionWriteConflict' }))).toBeInstanceOf(SerializationFailure);
  });

  it('anything else from the database is DatabaseFailure, without the message that could quote values', () => {
    const typed = databaseError(prismaError('P2009', { originalCode: '22P02', kind: 'InvalidInputValue' }));
    expect(typed).toBeInstanceOf(DatabaseFailure);
    expect((typed as DatabaseFailure).code).toBe('22P02');
    expect(JSON.stringify(typed, Object.getOwnPropertyNames(typed))).not.toContain('SECRET');
  });

  it('a bug that is not the database\'s goes on unchanged', () => {
    const bug = new TypeError('x is undefined');
    expect(databaseError(bug)).toBe(bug);
    expect(isDatabaseUnavailable(bug)).toBe(false);
  });
});
