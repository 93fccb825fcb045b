/**
 * Idempotency keys: a retry of a write with the same key and the same arguments gets the first
 * response again instead of writing twice. Keys belong to the API token that used them.
 *
 * What is stored: only a completed write (or a completed write that changed nothing), in the
 * same transaction as the write itself. A refused request (invalid input, NOT_FOUND,
 * VERSION_CONFLICT, TAKEN) stores nothing, so it may be retried as it is or corrected.
 *
 * Racing retries: the record is inserted first in the write's transaction, with
 * `ON CONFLICT DO NOTHING`. A second request with the same key blocks on the primary key until
 * the first commits (then it finds the record and replays it) or rolls back (then it writes
 * itself). Either way one write, and never an error for the loser.
 *
 * Passwords: the request hash is a SHA-256 of the arguments with every password left out, since
 * a fast digest of a password could be guessed offline. The record keeps an argon2id hash of each
 * password instead (the very hash the write stored for the customer, computed once, outside any
 * row lock), and a retry's passwords are checked against them with argon2's `verify`.
 */
import { createHash } from 'node:crypto';
import { Prisma } from '../generated/prisma/client.ts';
import type { Database } from '../infra/database/prisma.ts';
import type { Transaction } from '../infra/database/transaction.ts';
import { UNSTORABLE_TEXT } from './customer-input.ts';
import { restoreSnapshot, snapshotOf, type CustomerSnapshot, type CustomerView } from './customer-snapshot.ts';
import { WriteRefused, type DomainError, type WriteResults } from './errors.ts';
import { verifyPassword } from './passwords.ts';
import { runWrite } from './write-transaction.ts';

export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

export type IdempotentOperation = 'createCustomer' | 'updateCustomer' | 'updateCustomers';

/** A key as one token used it. */
export interface IdempotencyScope {
  tokenId: number;
  key: string;
}

const KEY_PATH = ['idempotencyKey'];

/** The key's own problems: 1 to 255 characters (Unicode code points) that PostgreSQL can store. */
export function checkIdempotencyKey(key: string): DomainError | null {
  const length = [...key].length;
  if (length === 0) {
    return { code: 'INVALID', path: KEY_PATH, message: `idempotencyKey must have 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} characters` };
  }
  if (length > IDEMPOTENCY_KEY_MAX_LENGTH) {
    return { code: 'TOO_LONG', path: KEY_PATH, message: `idempotencyKey must be at most ${IDEMPOTENCY_KEY_MAX_LENGTH} characters, not ${length}` };
  }
  if (UNSTORABLE_TEXT.test(key)) return { code: 'INVALID', path: KEY_PATH, message: 'idempotencyKey contains characters that cannot be stored' };
  return null;
}

function reusedError(): DomainError {
  return {
    code: 'IDEMPOTENCY_KEY_REUSED',
    path: KEY_PATH,
    message: 'This idempotency key was already used with other arguments or another operation; use a new key for a new request',
  };
}

/** Stands in for a secret in the hashed arguments. */
const SECRET = '$secret';

export interface RequestFingerprint {
  operation: IdempotentOperation;
  /** SHA-256 (hex) of the operation and its arguments in canonical JSON, passwords left out. */
  requestHash: string;
  /** Each password the arguments carry, by its dotted path ("input.authentication.password"). */
  passwords: ReadonlyMap<string, string>;
}

/**
 * What identifies a request. Object keys are sorted and left-out fields dropped, so the same
 * arguments always hash alike; `null` is kept, since it means "clear" and differs from left out.
 * A password becomes a marker; a confirmation becomes whether it equals its password (a mismatch
 * is refused and never stored, but a retry adding one must not count as the same request).
 */
export function fingerprint(operation: IdempotentOperation, args: Record<string, unknown>): RequestFingerprint {
  const passwords = new Map<string, string>();
  const canonical = (value: unknown, path: string[]): unknown => {
    if (Array.isArray(value)) return value.map((item, index) => canonical(item, [...path, String(index)]));
    if (value === null || typeof value !== 'object') return value;
    const object = value as Record<string, unknown>;
    const result: Record<string, unknown> = {};
    for (const key of Object.keys(object).sort()) {
      const item = object[key];
      if (item === undefined) continue;
      if (key === 'password' && typeof item === 'string') {
        passwords.set([...path, key].join('.'), item);
        result[key] = { [SECRET]: 'password' };
      } else if (key === 'passwordConfirmation' && typeof item === 'string') {
        result[key] = { [SECRET]: item === object.password ? 'equals password' : 'differs from password' };
      } else {
        result[key] = canonical(item, [...path, key]);
      }
    }
    return result;
  };
  const text = JSON.stringify({ operation, arguments: canonical(args, []) });
  return { operation, requestHash: createHash('sha256').update(text).digest('hex'), passwords };
}

/** The response a record keeps: the customers as the first response showed them. */
interface StoredResponse {
  customers: CustomerSnapshot[];
  errors: DomainError[];
}

interface StoredRecord {
  operation: string;
  requestHash: string;
  passwordHashes: Record<string, string> | null;
  response: StoredResponse;
}

async function readRecord(client: Database | Transaction, scope: IdempotencyScope): Promise<StoredRecord | null> {
  const row = await client.idempotencyKey.findUnique({
    where: { tokenId_key: { tokenId: scope.tokenId, key: scope.key } },
    select: { operation: true, requestHash: true, passwordHashes: true, response: true },
  });
  if (!row) return null;
  const response = row.response as unknown as StoredResponse;
  if (!Array.isArray(response?.customers)) throw new Error('an idempotency record holds no response');
  return { ...row, passwordHashes: row.passwordHashes as Record<string, string> | null, response };
}

/** Whether a retry is the stored request: same operation, same arguments, same passwords. */
async function isSameRequest(record: StoredRecord, request: RequestFingerprint): Promise<boolean> {
  if (record.operation !== request.operation || record.requestHash !== request.requestHash) return false;
  for (const [path, password] of request.passwords) {
    const hash = record.passwordHashes?.[path];
    if (typeof hash !== 'string' || !(await verifyPassword(hash, password))) return false;
  }
  return true;
}

function replay(record: StoredRecord): WriteResults<CustomerView> {
  const { customers, errors } = record.response;
  return errors.length > 0 ? { customers: null, errors } : { customers: customers.map(restoreSnapshot), errors: [] };
}

/** One write, as the idempotency machinery needs to see it. */
export interface IdempotentWrite<Prepared> {
  operation: IdempotentOperation;
  /** The operation's arguments as received, the idempotency key left out. */
  arguments: Record<string, unknown>;
  /**
   * Checks the input and hashes its passwords, outside any transaction. `argumentErrors` (about
   * the key) are reported with the input's own; any error at all means no password is hashed.
   */
  prepare(argumentErrors: DomainError[]): Promise<Prepared>;
  errorsOf(prepared: Prepared): readonly DomainError[];
  /** The argon2id hash prepared for each password of the arguments, by the same dotted path. */
  passwordHashesOf(prepared: Prepared): Record<string, string>;
  /** Reads and writes in the transaction given; refusals are returned (or thrown as WriteRefused). */
  apply(tx: Transaction, prepared: Prepared): Promise<WriteResults<CustomerView>>;
}

type Attempt = { result: WriteResults<CustomerView> } | { found: StoredRecord | null };

/** Runs `write` under the key: replays a stored response, refuses a reused key, or writes and stores. */
export async function runIdempotent<Prepared>(
  db: Database | Transaction,
  scope: IdempotencyScope,
  write: IdempotentWrite<Prepared>,
): Promise<WriteResults<CustomerView>> {
  const request = fingerprint(write.operation, write.arguments);
  const argumentErrors: DomainError[] = [];
  const keyError = checkIdempotencyKey(scope.key);
  if (keyError) {
    argumentErrors.push(keyError);
  } else {
    // Most retries end here: one indexed read, no lock, no argon2 for the new password's hash.
    const stored = await readRecord(db, scope);
    if (stored) {
      if (await isSameRequest(stored, request)) return replay(stored);
      argumentErrors.push(reusedError());
    }
  }

  const prepared = await write.prepare(argumentErrors);
  const refusedAs = (errors: DomainError[]): Attempt => ({ result: { customers: null, errors } });
  if (write.errorsOf(prepared).length > 0) {
    // Still run against the database, so that NOT_FOUND, VERSION_CONFLICT and TAKEN are reported
    // with the input's errors; it writes nothing, and the refusal rolls back whatever it touched.
    const attempt = await runWrite(
      db,
      async (tx): Promise<Attempt> => {
        const result = await write.apply(tx, prepared);
        throw new WriteRefused(result.customers === null ? result.errors : [...write.errorsOf(prepared)]);
      },
      refusedAs,
    );
    if ('result' in attempt) return attempt.result;
    throw new Error('a refused write found an idempotency record');
  }

  const passwordHashes = write.passwordHashesOf(prepared);
  for (const path of request.passwords.keys()) {
    if (typeof passwordHashes[path] !== 'string') throw new Error(`no password hash was prepared for ${path}`);
  }
  const where = { tokenId_key: { tokenId: scope.tokenId, key: scope.key } };
  // A record pruned between the conflict and the read is gone: the next attempt writes.
  for (let attempt = 0; attempt < 3; attempt++) {
    const outcome = await runWrite(
      db,
      async (tx): Promise<Attempt> => {
        const { count } = await tx.idempotencyKey.createMany({
          data: [
            {
              tokenId: scope.tokenId,
              key: scope.key,
              operation: request.operation,
              requestHash: request.requestHash,
              passwordHashes: request.passwords.size > 0 ? passwordHashes : Prisma.DbNull,
              // Replaced below before the commit; no other transaction ever sees it.
              response: {},
            },
          ],
          skipDuplicates: true,
        });
        // Another request holds the key, and has committed by now: the insert waited for it.
        if (count === 0) return { found: await readRecord(tx, scope) };

        const result = await write.apply(tx, prepared);
        if (result.customers === null) throw new WriteRefused(result.errors);
        const response: StoredResponse = { customers: result.customers.map(snapshotOf), errors: [] };
        await tx.idempotencyKey.update({ where, data: { response: response as unknown as Prisma.InputJsonObject } });
        // The first response is the stored one too, so that every retry sees exactly what it saw.
        return { result: { customers: response.customers.map(restoreSnapshot), errors: [] } };
      },
      refusedAs,
    );
    if ('result' in outcome) return outcome.result;
    if (outcome.found) {
      return (await isSameRequest(outcome.found, request)) ? replay(outcome.found) : { customers: null, errors: [reusedError()] };
    }
  }
  throw new Error('the idempotency record kept disappearing');
}
