/**
 * The few statements that run as SQL rather than through Prisma's query API, each because it is
 * measurably cheaper on a hot path (the README's "Where raw SQL lives" says which and why).
 * On the pool a statement is named and prepared, so PostgreSQL plans it once per connection;
 * inside a transaction it runs on that transaction's connection. Failures come out typed.
 */
import { databaseError } from './database-errors.ts';
import { databasePool, type Database } from './prisma.ts';
import { isTransaction, type Transaction } from './transaction.ts';

export interface Statement {
  /** The prepared statement's name: unique per statement text. */
  readonly name: string;
  readonly text: string;
}

export async function runStatement<Row>(client: Database | Transaction, statement: Statement, values: readonly unknown[]): Promise<Row[]> {
  try {
    if (isTransaction(client)) return await client.$queryRawUnsafe<Row[]>(statement.text, ...values);
    return (await databasePool(client).query({ name: statement.name, text: statement.text, values: [...values] })).rows as Row[];
  } catch (error) {
    throw databaseError(error);
  }
}
