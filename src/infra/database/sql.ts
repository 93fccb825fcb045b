/**
 * The few statements that run as SQL rather than through Prisma's query API, each because it is
 * measurably cheaper on a hot path (the README's "Where raw SQL lives" says which and why).
 * On the pool a statement is named and prepared, so PostgreSQL plans it once per connection
 * (unless the pool goes through PgBouncer, where a connection keeps nothing between transactions);
 * inside a transaction it runs on that transaction's connection. Failures come out typed.
 */
import type pg from 'pg';
import { databaseError } from './database-errors.ts';
import { preparesStatements } from './pool.ts';
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
    const pool = databasePool(client);
    return (await pool.query(statementQuery(pool, statement, values))).rows as Row[];
  } catch (error) {
    throw databaseError(error);
  }
}

/** The query node-postgres sends for a statement on `pool`: named, unless through PgBouncer. */
export function statementQuery(pool: pg.Pool, { name, text }: Statement, values: readonly unknown[]): pg.QueryConfig {
  return preparesStatements(pool) ? { name, text, values: [...values] } : { text, values: [...values] };
}
