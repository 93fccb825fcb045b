/**
 * createCustomer, updateCustomer and updateCustomers. Each reads top to bottom: check the input,
 * open the idempotency record when there is a key, hash new passwords once nothing but the write
 * is left, write (in one transaction with the key's record when there is a key, and with earlier
 * records forgetting a replaced password's hash), answer. A single update is a batch of one whose
 * error paths have no ["items", "<index>"] prefix: one statement and one set of rules for both.
 */
import { CUSTOMER_COLUMNS, type CustomerValues } from './customer-fields.ts';
import { parseCustomerId } from './customer-id.ts';
import { checkCreateInput, checkUpdateInput, type CustomerInput } from './customer-input.ts';
import type { CustomerView } from './customer-snapshot.ts';
import {
  emailTaken,
  inOrder,
  notFound,
  versionConflict,
  WriteRefused,
  type DomainError,
  type ErrorPath,
  type WriteResult,
  type WriteResults,
} from './errors.ts';
import {
  claimIdempotencyKey,
  fingerprint,
  forgetPasswordHashes,
  openIdempotencyKey,
  storeIdempotentResponse,
  type IdempotencyScope,
  type IdempotentOperation,
  type KeyedRequest,
} from './idempotency.ts';
import { generatePassword, hashPassword, hashPasswords } from './passwords.ts';
import { customerStatements, type UpdateOutcome } from '../infra/database/customer-statements.ts';
import { UniqueViolation } from '../infra/database/database-errors.ts';
import { announce } from '../infra/database/event-notices.ts';
import type { Database } from '../infra/database/prisma.ts';
import { inTransaction, type Transaction } from '../infra/database/transaction.ts';

/** BigCommerce V3's cap on customers per request. */
export const BATCH_LIMIT = 10;

const statements = customerStatements(CUSTOMER_COLUMNS);

export interface UpdateCustomersItem {
  /** The customer id as the client sent it. */
  id: string;
  input: CustomerInput;
  /** When given, the write happens only if the stored version is still this one. */
  expectedVersion?: number | null;
}

export interface UpdateCustomerCommand extends UpdateCustomersItem {
  /** Who writes: the API token's name, recorded in the customer's history. */
  actor: string;
  /** When given, a retry with the same key and arguments gets the first response again. */
  idempotency?: IdempotencyScope | undefined;
}

export interface UpdateCustomersCommand {
  items: readonly UpdateCustomersItem[];
  actor: string;
  idempotency?: IdempotencyScope | undefined;
}

export interface CreateCustomerCommand {
  input: CustomerInput;
  actor: string;
  idempotency?: IdempotencyScope | undefined;
}

export async function updateCustomer(db: Database, command: UpdateCustomerCommand): Promise<WriteResult<CustomerView>> {
  // Left out and null mean the same here: no version check.
  const item = { id: command.id, input: command.input, expectedVersion: command.expectedVersion ?? null };
  const { actor, idempotency } = command;
  return single(await writeUpdates(db, { operation: 'updateCustomer', arguments: item, items: [item], batch: false, actor, idempotency }));
}

export function updateCustomers(db: Database, command: UpdateCustomersCommand): Promise<WriteResults<CustomerView>> {
  const items = command.items.map(({ id, input, expectedVersion }) => ({ id, input, expectedVersion: expectedVersion ?? null }));
  const { actor, idempotency } = command;
  return writeUpdates(db, { operation: 'updateCustomers', arguments: { items }, items, batch: true, actor, idempotency });
}

interface UpdateRequest {
  operation: IdempotentOperation;
  /** The arguments as received, the idempotency key left out: what a retry must repeat. */
  arguments: Record<string, unknown>;
  items: readonly UpdateCustomersItem[];
  /** Error paths start ["items", "<index>"], and the list's own size is checked. */
  batch: boolean;
  actor: string;
  idempotency?: IdempotencyScope | undefined;
}

/** One item, checked: what to write and what is already wrong with it. */
interface PlannedUpdate {
  path: ErrorPath;
  /** Null when the id cannot name any customer. */
  customerId: number | null;
  /** The same customer as an earlier item: refused, and not looked up again. */
  duplicate: boolean;
  expectedVersion: number | null;
  values: CustomerValues;
  password: string | undefined;
  errors: DomainError[];
}

async function writeUpdates(db: Database, request: UpdateRequest): Promise<WriteResults<CustomerView>> {
  // 1. Check the input.
  const listErrors = request.batch ? checkBatchSize(request.items.length) : [];
  const planned = listErrors.length > 0 ? [] : planUpdates(request.items, request.batch);

  // 2. Open the idempotency record: a retry of a completed request is answered from it.
  const keyed = keyedRequest(request.operation, request.arguments, request.idempotency);
  const opened = keyed ? await openIdempotencyKey(db, keyed) : { errors: [] };
  if ('replay' in opened) return opened.replay;
  if (listErrors.length > 0) return refused([...listErrors, ...opened.errors]);
  const passwords = planned.flatMap((item) => (item.password === undefined ? [] : [item.password]));
  if (passwords.length > 0 || opened.errors.length > 0 || planned.some((item) => item.errors.length > 0)) {
    // Asked of the database first, which writes nothing: NOT_FOUND, VERSION_CONFLICT and TAKEN
    // are reported with the input's errors, and a request that will be refused costs no argon2.
    const outcomes = await statements.update(db, rowsOf(planned, []), request.actor, true);
    const errors = [...updateErrors(planned, outcomes), ...opened.errors];
    if (errors.length > 0) return refusedUnlessDone(db, keyed, opened, errors);
  }

  // 3. Hash new passwords, only now that nothing but the write is left, and outside any transaction.
  const hashed = (await hashPasswords(passwords, request.actor)).values();
  const hashes = planned.map((item) => (item.password === undefined ? undefined : hashed.next().value));

  // 4. Write, and keep the response with the write when there is a key.
  const newPasswords: NewPasswords = {
    hashes: passwordHashesOf(planned, hashes),
    replacedFor: sent(planned).flatMap((item) => (item.password === undefined ? [] : [item.customerId!])),
  };
  return retryOnEmailRace(() =>
    commit(db, keyed, newPasswords, async (client) => {
      const outcomes = await statements.update(client, rowsOf(planned, hashes), request.actor, false);
      const errors = updateErrors(planned, outcomes);
      return errors.length > 0 ? refused(errors) : { customers: outcomes.map((outcome) => outcome.customer!), errors: [] };
    }),
  );
}

export async function createCustomer(db: Database, command: CreateCustomerCommand): Promise<WriteResult<CustomerView>> {
  // 1. Check the input.
  const { values, password, errors } = checkCreateInput(command.input);

  // 2. Open the idempotency record.
  const keyed = keyedRequest('createCustomer', { input: command.input }, command.idempotency);
  const opened = keyed ? await openIdempotencyKey(db, keyed) : { errors: [] };
  if ('replay' in opened) return single(opened.replay);
  const creation = { values, actor: command.actor };
  // Asked of the database first, which writes nothing: TAKEN comes with the input's errors, and
  // a creation that will be refused costs no argon2.
  const checked = await statements.create(db, { ...creation, passwordHash: '', passwordChosen: false, checkOnly: true });
  const refusal = [...inOrder([...errors, ...takenIf(checked.emailTaken, values)]), ...opened.errors];
  if (refusal.length > 0) return single(await refusedUnlessDone(db, keyed, opened, refusal));

  // 3. Hash the password, the client's or a strong random one nobody will see, now that only the write is left.
  const passwordHash = await hashPassword(password ?? generatePassword(), command.actor);

  // 4. Write. A new customer's password replaces none: no earlier record holds a hash of it.
  const newPassword: NewPasswords = { hashes: password === undefined ? {} : { 'input.authentication.password': passwordHash }, replacedFor: [] };
  const result = await retryOnEmailRace(() =>
    commit(db, keyed, newPassword, async (client) => {
      const outcome = await statements.create(client, { ...creation, passwordHash, passwordChosen: password !== undefined, checkOnly: false });
      return outcome.customer ? { customers: [outcome.customer], errors: [] } : refused(takenIf(true, values));
    }),
  );
  return single(result);
}

function checkBatchSize(count: number): DomainError[] {
  if (count === 0) return [{ code: 'REQUIRED', path: ['items'], message: `Give 1 to ${BATCH_LIMIT} items` }];
  // The items are not checked one by one: a request this size is refused as a whole.
  if (count > BATCH_LIMIT) return [{ code: 'TOO_LONG', path: ['items'], message: `At most ${BATCH_LIMIT} items per request, not ${count}` }];
  return [];
}

function planUpdates(items: readonly UpdateCustomersItem[], batch: boolean): PlannedUpdate[] {
  const firstIndex = new Map<number, number>();
  return items.map((item, index) => {
    const path = batch ? ['items', String(index)] : [];
    const checked = checkUpdateInput(item.input, [...path, 'input']);
    const customerId = parseCustomerId(item.id);
    const errors = [...checked.errors];
    const earlier = customerId === null ? undefined : firstIndex.get(customerId);
    if (earlier !== undefined) {
      errors.push({ code: 'INVALID', path: [...path, 'id'], message: `items ${earlier} and ${index} update the same customer; send one item per customer` });
    } else if (customerId !== null) {
      firstIndex.set(customerId, index);
    }
    return {
      path,
      customerId,
      duplicate: earlier !== undefined,
      expectedVersion: item.expectedVersion ?? null,
      values: checked.values,
      password: checked.password,
      errors,
    };
  });
}

/** The items the database is asked about: those naming a customer, once each. */
function sent(planned: readonly PlannedUpdate[]): PlannedUpdate[] {
  return planned.filter((item) => item.customerId !== null && !item.duplicate);
}

function rowsOf(planned: readonly PlannedUpdate[], hashes: ReadonlyArray<string | undefined>) {
  return sent(planned).map((item) => ({
    id: item.customerId!,
    values: item.values,
    expectedVersion: item.expectedVersion,
    passwordHash: hashes[planned.indexOf(item)] ?? null,
  }));
}

/** Every error of the request, item by item in argument order; empty when all was written. */
function updateErrors(planned: readonly PlannedUpdate[], outcomes: readonly UpdateOutcome[]): DomainError[] {
  const asked = sent(planned);
  return planned.flatMap((item) => {
    const errors = [...item.errors];
    const outcome = asked.includes(item) ? outcomes[asked.indexOf(item)] : undefined;
    if (item.customerId === null || (outcome && !outcome.customer)) errors.push(notFound([...item.path, 'id']));
    if (outcome?.versionConflict) errors.push(versionConflict([...item.path, 'expectedVersion'], outcome.currentVersion ?? 0, item.expectedVersion));
    if (outcome?.emailTaken) errors.push(...takenIf(true, item.values, item.path));
    return inOrder(errors, item.path);
  });
}

function takenIf(taken: boolean, values: CustomerValues, base: ErrorPath = []): DomainError[] {
  return taken && values.email !== undefined ? [emailTaken([...base, 'input', 'email'], values.email)] : [];
}

/** The argon2id hash of each new password, by its argument path, for the idempotency record. */
function passwordHashesOf(planned: readonly PlannedUpdate[], hashes: ReadonlyArray<string | undefined>): Record<string, string> {
  return Object.fromEntries(
    planned.flatMap((item, index) => (hashes[index] === undefined ? [] : [[[...item.path, 'input', 'authentication', 'password'].join('.'), hashes[index]!]])),
  );
}

function keyedRequest(operation: IdempotentOperation, args: Record<string, unknown>, scope: IdempotencyScope | undefined): KeyedRequest | undefined {
  return scope && { scope, request: fingerprint(operation, args) };
}

/** The passwords a write sets: their hashes by argument path, and whose earlier passwords they replace. */
interface NewPasswords {
  hashes: Record<string, string>;
  replacedFor: readonly number[];
}

/** The write itself, on the pool or in a transaction. */
type Write = (client: Database | Transaction) => Promise<WriteResults<CustomerView>>;

/**
 * Runs the write on its own (one statement needs no transaction), or in one transaction with what
 * must commit with it; once committed, tells whoever follows the change log.
 */
async function commit(
  db: Database,
  keyed: KeyedRequest | undefined,
  passwords: NewPasswords,
  write: Write,
): Promise<WriteResults<CustomerView>> {
  const alone = !keyed && passwords.replacedFor.length === 0;
  const result = alone ? await write(db) : await writeWithRecords(db, keyed, passwords, write);
  // Committed: the history rows it added are the events; whoever follows them may read now.
  if (result.customers) announce(db, 'changes');
  return result;
}

/**
 * The write in one transaction with the key's record and its stored response, and earlier
 * records forgetting the hashes of the passwords this write replaces.
 */
async function writeWithRecords(
  db: Database,
  keyed: KeyedRequest | undefined,
  passwords: NewPasswords,
  write: Write,
): Promise<WriteResults<CustomerView>> {
  try {
    return await inTransaction(db, async (tx) => {
      const earlier = keyed && (await claimIdempotencyKey(tx, keyed, passwords.hashes));
      if (earlier) return earlier;
      const result = await write(tx);
      // A refusal stores nothing: the record is rolled back with it.
      if (!result.customers) throw new WriteRefused(result.errors);
      await forgetPasswordHashes(tx, passwords.replacedFor);
      return keyed ? storeIdempotentResponse(tx, keyed, result.customers) : result;
    });
  } catch (error) {
    if (error instanceof WriteRefused) return refused(error.errors);
    throw error;
  }
}

/**
 * Two writers can both find an address free; the unique index then refuses the second. Writing
 * again lets the statement's own check see the winner and answer TAKEN on the right field.
 */
async function retryOnEmailRace<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!(error instanceof UniqueViolation && error.constraint === 'customers_email_key') || attempt >= 3) throw error;
    }
  }
}

/**
 * A refusal found before writing (TAKEN, VERSION_CONFLICT) may be the doing of a request with the
 * same key that committed after the record was opened: its customer now has the address, its
 * version moved on. The record, committed with that write, is asked again, and answers first.
 */
async function refusedUnlessDone(
  db: Database,
  keyed: KeyedRequest | undefined,
  opened: { errors: DomainError[] },
  errors: DomainError[],
): Promise<WriteResults<CustomerView>> {
  // With errors from the record (or the key) it was read and refused already.
  if (!keyed || opened.errors.length > 0) return refused(errors);
  const again = await openIdempotencyKey(db, keyed);
  return 'replay' in again ? again.replay : refused([...errors, ...again.errors]);
}

function refused(errors: DomainError[]): { customers: null; errors: DomainError[] } {
  return { customers: null, errors };
}

function single<T>(result: WriteResults<T>): WriteResult<T> {
  const [customer] = result.customers ?? [];
  return customer === undefined ? { customer: null, errors: result.errors } : { customer, errors: [] };
}
