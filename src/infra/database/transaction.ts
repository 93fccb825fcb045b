/** Interactive transactions, so that one write and everything recorded with it commit together. */
import type { Prisma } from '../../generated/prisma/client.ts';
import { databaseError } from './database-errors.ts';
import type { Database } from './prisma.ts';

export type Transaction = Prisma.TransactionClient;

/**
 * Prisma's defaults (2 s to get a connection, 5 s in all) are tight for a burst that queues for
 * one row's lock; these still end a stuck transaction well before a client gives up.
 */
const OPTIONS = { maxWait: 10_000, timeout: 15_000 } as const;

/** Runs `work` in a new transaction: whatever it throws rolls it back and goes on, database failures typed. */
export async function inTransaction<T>(db: Database, work: (tx: Transaction) => Promise<T>): Promise<T> {
  try {
    return await db.$transaction(work, OPTIONS);
  } catch (error) {
    throw databaseError(error);
  }
}

/** A transaction's client lacks the connection methods of the full client. */
export function isTransaction(client: Database | Transaction): client is Transaction {
  return !('$disconnect' in client);
}
