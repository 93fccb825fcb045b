/** How a write fails when something unexpected goes wrong in the database client: typed, without secrets. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, TokenError } from '../../src/domain/tokens.ts';
import { DatabaseFailure } from '../../src/infra/database/database-errors.ts';
import { inTransaction } from '../../src/infra/database/transaction.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.close());

describe('an unexpected failure inside a transaction', () => {
  it('is rethrown without the call\'s arguments, so no password hash reaches a log line', async () => {
    const secretHash = '$argon2id$v=19$m=19456,t=2,p=1$c2VjcmV0$SECRET-HASH-THAT-MUST-NOT-LEAK';
    const badCall = (client: typeof database.db | Parameters<Parameters<typeof inTransaction>[1]>[0]) =>
      client.customer.update({ where: { id: 1 }, data: { passwordHash: secretHash, version: 'two' as unknown as number } });
    // What Prisma itself says about such a call: it prints the arguments, hash included.
    const raw = await badCall(database.db).catch((error: Error) => error);
    expect(String((raw as Error).message)).toContain('SECRET-HASH');

    const failure = await inTransaction(database.db, (tx) => badCall(tx)).catch((error: Error) => error);
    expect(failure).toBeInstanceOf(DatabaseFailure);
    expect(JSON.stringify(failure, Object.getOwnPropertyNames(failure))).not.toContain('SECRET-HASH');
  });

  it('a bug that is not the database\'s goes on unchanged', async () => {
    const bug = new TypeError('a bug');
    await expect(inTransaction(database.db, async () => Promise.reject(bug))).rejects.toBe(bug);
  });
});

describe('a token name taken twice', () => {
  it('is a TokenError naming the token, from the typed unique violation', async () => {
    await createToken(database.db, 'twice', ['customers:read']);
    await expect(createToken(database.db, 'twice', ['customers:read'])).rejects.toThrow(TokenError);
  });
});
