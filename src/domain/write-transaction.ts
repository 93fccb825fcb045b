/**
 * The transaction every customer write runs in: a refusal thrown inside (WriteRefused) rolls it
 * back and becomes a result, and any other failure rolls it back and goes on without secrets.
 */
import type { Database } from '../infra/database/prisma.ts';
import { inTransaction, type Transaction } from '../infra/database/transaction.ts';
import { refused, WriteRefused, type DomainError, type WriteResult } from './errors.ts';

/**
 * Runs a write in a new transaction, or nested in the one given. When the database refuses the
 * write (WriteRefused), the write's own (nested) transaction rolls back and the refusal becomes
 * the result; a caller's surrounding transaction stays usable.
 */
export function writeInTransaction<T>(
  client: Database | Transaction,
  work: (tx: Transaction) => Promise<WriteResult<T>>,
): Promise<WriteResult<T>> {
  return runWrite(client, work, refused);
}

/** `writeInTransaction` for work of any result type: a refusal becomes `onRefused(errors)`. */
export function runWrite<R>(
  client: Database | Transaction,
  work: (tx: Transaction) => Promise<R>,
  onRefused: (errors: DomainError[]) => R,
): Promise<R> {
  return settle(() => inTransaction(client, work), onRefused);
}

/**
 * A write that is a single statement: atomic by itself, so it needs no transaction of its own
 * (and saves BEGIN and COMMIT). Refusals and failures are handled as in `writeInTransaction`.
 */
export function writeInOneStatement<T>(work: () => Promise<WriteResult<T>>): Promise<WriteResult<T>> {
  return settle(work, refused);
}

async function settle<R>(work: () => Promise<R>, onRefused: (errors: DomainError[]) => R): Promise<R> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof WriteRefused) return onRefused(error.errors);
    throw withoutArguments(error);
  }
}

/**
 * Prisma's messages for a malformed call print the call's arguments, which for a password write
 * include the new hash. An unexpected failure goes on without them: its kind and code remain.
 */
function withoutArguments(error: unknown): unknown {
  if (!(error instanceof Error) || !('clientVersion' in error)) return error;
  const { code } = error as { code?: unknown };
  const safe = new Error(`The customer write failed in the database client (${error.name}${typeof code === 'string' ? ` ${code}` : ''})`);
  safe.name = 'CustomerWriteError';
  // The driver's classification (its kind and SQLSTATE, never its message) stays, so that a lost
  // connection is still told from a bug (503 rather than 500).
  const payload = (error as { meta?: { driverAdapterError?: { cause?: Record<string, unknown> } } }).meta?.driverAdapterError?.cause;
  const cause = payload && { kind: payload.kind, code: payload.code, originalCode: payload.originalCode };
  return Object.assign(safe, { code }, cause && { cause });
}
