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
 * What the record keeps of the response: each customer's id, version and dateModified, a few
 * dozen bytes whatever the customers hold. A replay rebuilds them at those versions from their
 * rows and history (customer-snapshot.ts), so it answers exactly as the first response did.
 *
 * Passwords: the request hash is a SHA-256 of the arguments with every password left out, since
 * a fast digest of a password could be guessed offline. The record keeps an argon2id hash of each
 * password instead (the very hash the write stored for the customer, computed once, outside any
 * row lock), and a retry's passwords are checked against them with argon2's `verify`. Once one of
 * those customers gets another password, the record's hashes are forgotten, in that write's
 * transaction: an old hash is not kept for a day, and the retry is refused (IDEMPOTENCY_KEY_REUSED).
 *
 * A token may start at most `keysPerDay` new keys in 24 hours, counted on the (token_id,
 * created_at) index each time it sends a new one.
 */
import { createHash } from 'node:crypto';
import { Prisma } from '../generated/prisma/client.ts';
import type { Database } from '../infra/database/prisma.ts';
import type { Transaction } from '../infra/database/transaction.ts';
import { UNSTORABLE_TEXT } from './customer-input.ts';
import { readCustomersAt, versionOf, type CustomerVersion, type CustomerView } from './customer-snapshot.ts';
import { IdempotencyKeyLimitReached, ReplayUnavailable, type DomainError, type WriteResults } from './errors.ts';
import { IDEMPOTENCY_KEY_RETENTION_MS } from './idempotency-pruning.ts';
import { verifyPassword } from './passwords.ts';

export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

/** New keys a token may use in 24 hours (IDEMPOTENCY_KEYS_PER_TOKEN_PER_DAY). */
export const IDEMPOTENCY_KEYS_PER_TOKEN_PER_DAY = 10_000;

/** The largest response a record keeps: 10 customers' references take a few hundred bytes. */
export const STORED_RESPONSE_MAX_BYTES = 2_048;

export type IdempotentOperation = 'createCustomer' | 'updateCustomer' | 'updateCustomers';

/** A key as one token used it. */
export interface IdempotencyScope {
  tokenId: number;
  key: string;
  /** New keys the token may use in 24 hours; IDEMPOTENCY_KEYS_PER_TOKEN_PER_DAY when left out. */
  keysPerDay?: number;
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

function reusedError(passwordForgotten: boolean): DomainError {
  return {
    code: 'IDEMPOTENCY_KEY_REUSED',
    path: KEY_PATH,
    message: passwordForgotten
      ? 'This idempotency key\'s request set a password that has been changed again since, so a retry can no longer be checked against it; use a new key for a new request'
      : 'This idempotency key was already used with other arguments or another operation; use a new key for a new request',
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

/** The response a record keeps: which customers, at which versions, the first response showed. */
interface StoredResponse {
  customers: CustomerVersion[];
}

interface StoredRecord {
  operation: string;
  requestHash: string;
  passwordHashes: Record<string, string> | null;
  response: StoredResponse;
}

/** A write's key, and what identifies its request. */
export interface KeyedRequest {
  scope: IdempotencyScope;
  request: RequestFingerprint;
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

/**
 * Whether a retry is the stored request: same operation, same arguments, same passwords.
 * 'forgotten': the same arguments, but the record no longer has the passwords' hashes to check.
 */
async function compareRequest(record: StoredRecord, request: RequestFingerprint): Promise<'same' | 'other' | 'forgotten'> {
  if (record.operation !== request.operation || record.requestHash !== request.requestHash) return 'other';
  if (request.passwords.size > 0 && record.passwordHashes === null) return 'forgotten';
  for (const [path, password] of request.passwords) {
    const hash = record.passwordHashes?.[path];
    if (typeof hash !== 'string' || !(await verifyPassword(hash, password))) return 'other';
  }
  return 'same';
}

/**
 * The stored response again, rebuilt at the stored versions, or IDEMPOTENCY_KEY_REUSED when the
 * request is another one. Throws ReplayUnavailable when a customer cannot be rebuilt: never a
 * customer other than the first response showed.
 */
async function answerFrom(client: Database | Transaction, record: StoredRecord, request: RequestFingerprint): Promise<WriteResults<CustomerView>> {
  const comparison = await compareRequest(record, request);
  if (comparison !== 'same') return { customers: null, errors: [reusedError(comparison === 'forgotten')] };
  const customers = await readCustomersAt(client, record.response.customers);
  if (customers.some((customer) => customer === null)) {
    throw new ReplayUnavailable(
      'This idempotency key\'s request was completed before, but its response can no longer be rebuilt (a customer was deleted, or its history ' +
        'no longer reaches back to that version); nothing was written now. Read the customers to see their state.',
    );
  }
  return { customers: customers as CustomerView[], errors: [] };
}

/**
 * Refuses a new key once the token has used `keysPerDay` keys in the last 24 hours (the time a key
 * is kept). Racing requests may each take the last one: the cap is passed by at most the requests in flight.
 */
async function checkKeysPerDay(db: Database, scope: IdempotencyScope): Promise<void> {
  const limit = scope.keysPerDay ?? IDEMPOTENCY_KEYS_PER_TOKEN_PER_DAY;
  const where = { tokenId: scope.tokenId, createdAt: { gt: new Date(Date.now() - IDEMPOTENCY_KEY_RETENTION_MS) } };
  // By the (token_id, created_at) index. No `take`: Prisma would order by the primary key and
  // read the token's older keys too; the keys of a day are at most about `limit` anyway.
  const used = await db.idempotencyKey.count({ where });
  if (used < limit) return;
  const oldest = await db.idempotencyKey.findFirst({ where, orderBy: { createdAt: 'asc' }, select: { createdAt: true } });
  const freedAt = (oldest?.createdAt.getTime() ?? Date.now()) + IDEMPOTENCY_KEY_RETENTION_MS;
  throw new IdempotencyKeyLimitReached(
    `This token has used ${limit.toLocaleString('en-US')} new idempotency keys in the last 24 hours, as many as it may; ` +
      'retry later, or retry earlier requests with their own keys',
    Math.max(1_000, freedAt - Date.now()),
  );
}

/**
 * Before any work: a retry of a completed request gets its response back (most retries end here:
 * a few indexed reads, no lock, no argon2 for a new password). Otherwise the key's own problems,
 * or IDEMPOTENCY_KEY_REUSED, are reported with the input's errors. A new key past the token's
 * daily number is refused (IdempotencyKeyLimitReached) before anything else is done.
 */
export async function openIdempotencyKey(
  db: Database,
  keyed: KeyedRequest,
): Promise<{ replay: WriteResults<CustomerView> } | { errors: DomainError[] }> {
  const keyError = checkIdempotencyKey(keyed.scope.key);
  if (keyError) return { errors: [keyError] };
  const stored = await readRecord(db, keyed.scope);
  if (!stored) {
    await checkKeysPerDay(db, keyed.scope);
    return { errors: [] };
  }
  const answer = await answerFrom(db, stored, keyed.request);
  return answer.customers ? { replay: answer } : { errors: answer.errors };
}

/**
 * Takes the key inside the write's transaction. A concurrent request with the same key waits on
 * the record's primary key until the first commits: it then gets the first's response (or
 * IDEMPOTENCY_KEY_REUSED) instead of writing. Null when the key is this request's to use.
 */
export async function claimIdempotencyKey(
  tx: Transaction,
  keyed: KeyedRequest,
  passwordHashes: Record<string, string>,
): Promise<WriteResults<CustomerView> | null> {
  const { scope, request } = keyed;
  for (const path of request.passwords.keys()) {
    if (typeof passwordHashes[path] !== 'string') throw new Error(`no password hash was prepared for ${path}`);
  }
  const { count } = await tx.idempotencyKey.createMany({
    data: [
      {
        tokenId: scope.tokenId,
        key: scope.key,
        operation: request.operation,
        requestHash: request.requestHash,
        passwordHashes: request.passwords.size > 0 ? passwordHashes : Prisma.DbNull,
        // Replaced by storeIdempotentResponse before the commit; no other transaction sees it.
        response: {},
      },
    ],
    skipDuplicates: true,
  });
  if (count === 1) return null;
  const found = await readRecord(tx, scope);
  // Pruned between the conflict and the read: rare enough to ask the client to retry.
  if (!found) throw new Error('an idempotency record disappeared while in use');
  return answerFrom(tx, found, request);
}

/**
 * Keeps the response with the write, by reference: each customer's id, version and dateModified,
 * and which customers the record's password hashes belong to.
 */
export async function storeIdempotentResponse(tx: Transaction, keyed: KeyedRequest, customers: CustomerView[]): Promise<WriteResults<CustomerView>> {
  const response: StoredResponse = { customers: customers.map(versionOf) };
  const bytes = Buffer.byteLength(JSON.stringify(response));
  if (bytes > STORED_RESPONSE_MAX_BYTES) throw new Error(`an idempotency response of ${bytes} bytes is more than ${STORED_RESPONSE_MAX_BYTES}`);
  await tx.idempotencyKey.update({
    where: { tokenId_key: { tokenId: keyed.scope.tokenId, key: keyed.scope.key } },
    data: {
      response: response as unknown as Prisma.InputJsonObject,
      passwordCustomerIds: passwordOwners([...keyed.request.passwords.keys()], customers),
    },
  });
  return { customers, errors: [] };
}

/**
 * Whose password each hash is, by its argument path: "items.<n>.…" is the n-th customer's, any
 * other path the only customer's.
 */
export function passwordOwners(paths: readonly string[], customers: readonly Pick<CustomerView, 'id'>[]): number[] {
  const owners = paths.map((path) => {
    const [head, index] = path.split('.');
    const customer = customers[head === 'items' ? Number(index) : 0];
    if (!customer) throw new Error(`no customer answers the password at ${path}`);
    return customer.id;
  });
  return [...new Set(owners)];
}

/**
 * In the transaction of a write that gave these customers new passwords: earlier records forget
 * the hashes they keep of them, which are old hashes now. Runs after the write has locked the
 * customers' rows, so every record of an earlier password change has committed and is seen.
 */
export async function forgetPasswordHashes(tx: Transaction, customerIds: readonly number[]): Promise<void> {
  if (customerIds.length === 0) return;
  await tx.idempotencyKey.updateMany({
    where: { passwordCustomerIds: { hasSome: [...customerIds] } },
    data: { passwordHashes: Prisma.DbNull, passwordCustomerIds: [] },
  });
}
