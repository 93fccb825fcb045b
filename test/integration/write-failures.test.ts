/** How a customer write fails when something unexpected goes wrong: without secrets in the error. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeInTransaction } from '../../src/domain/customer-writes.ts';
import { refused } from '../../src/domain/errors.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.close());

describe('an unexpected failure inside a write', () => {
  it('is rethrown without the call\'s arguments, so no password hash reaches a log line', async () => {
    const secretHash = '$argon2id$v=19$m=19456,t=2,p=1$c2VjcmV0$SECRET-HASH-THAT-MUST-NOT-LEAK';
    // What Prisma itself says about such a call: it prints the arguments, hash included.
    const raw = await database.db.customer
      .update({ where: { id: 1 }, data: { passwordHash: secretHash, version: 'two' as unknown as number } })
      .catch((error: Error) => error);
    expect(String((raw as Error).message)).toContain('SECRET-HASH');

    const failure = await writeInTransaction(database.db, (tx) =>
      tx.customer
        .update({ where: { id: 1 }, data: { passwordHash: secretHash, version: 'two' as unknown as number } })
        .then(() => refused([])),
    ).catch((error: Error) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).name).toBe('CustomerWriteError');
    expect((failure as Error).message).toMatch(/PrismaClientValidationError/);
    expect(JSON.stringify(failure, Object.getOwnPropertyNames(failure))).not.toContain('SECRET-HASH');
  });
});
