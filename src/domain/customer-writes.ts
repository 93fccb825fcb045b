/**
 * createCustomer and updateCustomer. Each runs in two steps: `prepare*` checks the input and
 * hashes a new password outside any transaction (argon2 must never run while a row is locked),
 * then `apply*` does every database read and write inside one transaction it is given, so that
 * whatever else must be stored with a write (idempotency records) commits or rolls back with it.
 * `createCustomer` and `updateCustomer` do both, in a transaction of their own or nested in one
 * they are given; given an idempotency key, they run under it (see idempotency.ts).
 */
import type { Customer } from '../generated/prisma/client.ts';
import type { Database } from '../infra/database/prisma.ts';
import { isTransaction, type Transaction } from '../infra/database/transaction.ts';
import { parseCustomerId } from './customer-id.ts';
import { createdFields, PASSWORD_CHANGE, recordChange } from './customer-history.ts';
import { checkCreateInput, checkUpdateInput, CUSTOMER_FIELDS, type CustomerInput, type CustomerValues } from './customer-input.ts';
import type { CustomerView } from './customer-snapshot.ts';
import { refused, WriteRefused, type DomainError, type ErrorPath, type WriteResult, type WriteResults } from './errors.ts';
import { runIdempotent, type IdempotencyScope } from './idempotency.ts';
import { generatePassword, hashPassword } from './passwords.ts';
import { writeInOneStatement, writeInTransaction } from './write-transaction.ts';
import { runUpdateStatement } from './customer-update-statement.ts';

export { writeInTransaction } from './write-transaction.ts';

export interface UpdateCustomerCommand {
  /** The customer id as the client sent it. */
  id: string;
  input: CustomerInput;
  /** When given, the write happens only if the stored version is still this one. */
  expectedVersion?: number | null;
  /** Who writes: the API token's name, recorded in the customer's history. */
  actor: string;
  /** When given, a retry with the same key and arguments gets the first response again. */
  idempotency?: IdempotencyScope | undefined;
}

export interface CreateCustomerCommand {
  input: CustomerInput;
  actor: string;
  idempotency?: IdempotencyScope | undefined;
}

export interface PreparedUpdate {
  customerId: number | null;
  expectedVersion: number | null;
  actor: string;
  values: CustomerValues;
  passwordHash: string | undefined;
  /** Problems with the input itself; the database checks add theirs to these. */
  errors: DomainError[];
}

export interface PreparedCreate {
  actor: string;
  values: CustomerValues;
  passwordHash: string;
  /** Whether the client chose the password (history shows it) or one was generated. */
  passwordChosen: boolean;
  errors: DomainError[];
}

export async function updateCustomer(client: Database | Transaction, command: UpdateCustomerCommand): Promise<WriteResult<CustomerView>> {
  if (command.idempotency) {
    const result = await runIdempotent(client, command.idempotency, {
      operation: 'updateCustomer',
      // Left out and null mean the same here: no version check.
      arguments: { id: command.id, input: command.input, expectedVersion: command.expectedVersion ?? null },
      prepare: (argumentErrors) => prepareUpdate(command, argumentErrors),
      errorsOf: (prepared) => prepared.errors,
      passwordHashesOf: (prepared) => inputPassword(prepared.passwordHash),
      apply: async (tx, prepared) => asList(await applyUpdate(tx, prepared)),
    });
    return single(result);
  }
  const prepared = await prepareUpdate(command);
  // Nested in a caller's transaction, a savepoint keeps a refusal from aborting the caller's work;
  // on its own, the update is one statement and needs no transaction at all.
  return isTransaction(client)
    ? writeInTransaction(client, (tx) => applyUpdate(tx, prepared))
    : writeInOneStatement(() => applyUpdate(client, prepared));
}

export async function createCustomer(client: Database | Transaction, command: CreateCustomerCommand): Promise<WriteResult<CustomerView>> {
  if (command.idempotency) {
    const result = await runIdempotent(client, command.idempotency, {
      operation: 'createCustomer',
      arguments: { input: command.input },
      prepare: (argumentErrors) => prepareCreate(command, argumentErrors),
      errorsOf: (prepared) => prepared.errors,
      passwordHashesOf: (prepared) => inputPassword(prepared.passwordChosen ? prepared.passwordHash : undefined),
      apply: async (tx, prepared) => asList(await applyCreate(tx, prepared)),
    });
    return single(result);
  }
  const prepared = await prepareCreate(command);
  return writeInTransaction(client, (tx) => applyCreate(tx, prepared));
}

/** The hash of the password at `input.authentication.password`, by that path, for an idempotency record. */
function inputPassword(hash: string | undefined): Record<string, string> {
  return hash === undefined ? {} : { 'input.authentication.password': hash };
}

function asList<T>(result: WriteResult<T>): WriteResults<T> {
  return result.customer === null ? { customers: null, errors: result.errors } : { customers: [result.customer], errors: [] };
}

function single<T>(result: WriteResults<T>): WriteResult<T> {
  const [customer] = result.customers ?? [];
  return customer === undefined ? refused(result.errors) : { customer, errors: [] };
}

/**
 * `argumentErrors` are problems with the mutation's other arguments (its idempotency key),
 * reported with the input's own.
 */
export async function prepareUpdate(command: UpdateCustomerCommand, argumentErrors: DomainError[] = []): Promise<PreparedUpdate> {
  const checked = checkUpdateInput(command.input);
  const errors = [...argumentErrors, ...checked.errors];
  // A password is hashed only for a write that can happen: a refused request costs no argon2.
  const passwordHash = checked.password !== undefined && errors.length === 0 ? await hashPassword(checked.password) : undefined;
  return {
    customerId: parseCustomerId(command.id),
    expectedVersion: command.expectedVersion ?? null,
    actor: command.actor,
    values: checked.values,
    passwordHash,
    errors,
  };
}

export async function prepareCreate(command: CreateCustomerCommand, argumentErrors: DomainError[] = []): Promise<PreparedCreate> {
  const checked = checkCreateInput(command.input);
  const errors = [...argumentErrors, ...checked.errors];
  const passwordChosen = checked.password !== undefined;
  const passwordHash = errors.length === 0 ? await hashPassword(checked.password ?? generatePassword()) : '';
  return { actor: command.actor, values: checked.values, passwordHash, passwordChosen, errors };
}

/**
 * The update itself, as one statement (see customer-update-statement.ts): the row is locked
 * before it is read, so the version compared, the fields diffed and the row written are the
 * same; a concurrent update waits and then sees this one's result. Given the database rather
 * than a transaction it needs none: one statement is atomic.
 */
export async function applyUpdate(client: Database | Transaction, prepared: PreparedUpdate): Promise<WriteResult<CustomerView>> {
  const { customerId: id, values } = prepared;
  const errors = [...prepared.errors];
  if (id === null) return refused(inOrder([notFound(), ...errors]));
  const outcome = await refuseTakenEmail(
    () =>
      runUpdateStatement(client, {
        id,
        values,
        expectedVersion: prepared.expectedVersion,
        passwordHash: prepared.passwordHash,
        actor: prepared.actor,
        checkOnly: errors.length > 0,
      }),
    values.email,
  );
  if (outcome.customer === null) return refused(inOrder([notFound(), ...errors]));
  if (outcome.versionConflict) {
    errors.push({
      code: 'VERSION_CONFLICT',
      path: ['expectedVersion'],
      message: `The customer is at version ${outcome.currentVersion}, not ${prepared.expectedVersion}: read it again and retry`,
      currentVersion: outcome.currentVersion ?? 0,
    });
  }
  if (outcome.emailTaken && values.email !== undefined) errors.push(takenError(values.email));
  if (errors.length > 0) return refused(inOrder(errors));
  return { customer: outcome.customer, errors: [] };
}

function notFound(): DomainError {
  return { code: 'NOT_FOUND', path: ['id'], message: 'No customer has this id' };
}

export async function applyCreate(tx: Transaction, prepared: PreparedCreate): Promise<WriteResult<Customer>> {
  const { values } = prepared;
  const errors = [...prepared.errors];
  if (values.email !== undefined) {
    const taken = await emailTaken(tx, values.email, null);
    if (taken) errors.push(taken);
  }
  if (errors.length > 0) return refused(inOrder(errors));
  const { firstName, lastName, email } = values;
  if (firstName === undefined || lastName === undefined || email === undefined) {
    throw new Error('createCustomer: a checked input lacks a required field');
  }

  const at = new Date();
  const customer = await refuseTakenEmail(
    () =>
      tx.customer.create({
        data: { ...values, firstName, lastName, email, passwordHash: prepared.passwordHash, version: 1, dateCreated: at, dateModified: at },
      }),
    email,
  );
  const changes = createdFields(values);
  if (prepared.passwordChosen) changes.push(PASSWORD_CHANGE);
  await recordChange(tx, { customerId: customer.id, version: 1, actor: prepared.actor, at, changes });
  return { customer, errors: [] };
}

export function takenError(email: string, path: ErrorPath = ['input', 'email']): DomainError {
  return { code: 'TAKEN', path, message: `Another customer already uses ${email}` };
}

/**
 * Checked before writing so that TAKEN is reported together with the input's other errors. The
 * unique index still decides (see refuseTakenEmail): two requests can both pass this check.
 */
async function emailTaken(tx: Transaction, email: string, exceptId: number | null): Promise<DomainError | null> {
  // citext: the database compares without regard to case.
  const other = await tx.customer.findFirst({
    where: { email, ...(exceptId !== null && { id: { not: exceptId } }) },
    select: { id: true },
  });
  return other ? takenError(email) : null;
}

/** The loser of a race for one email gets TAKEN, not a 500, and its transaction rolls back. */
async function refuseTakenEmail<T>(write: () => Promise<T>, email: string | undefined): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (email !== undefined && isEmailUniqueViolation(error)) throw new WriteRefused([takenError(email)]);
    throw error;
  }
}

export function isEmailUniqueViolation(error: unknown): boolean {
  const { code, meta } = error as { code?: unknown; meta?: unknown };
  const details = JSON.stringify(meta ?? null);
  // Prisma names the index (customers_email_key) or the fields, depending on the adapter; a raw
  // statement's failure (P2010) carries PostgreSQL's SQLSTATE for a unique violation instead,
  // and node-postgres (the prepared update) its own SQLSTATE and constraint name.
  if (code === '23505') return (error as { constraint?: unknown }).constraint === 'customers_email_key';
  return (code === 'P2002' || (code === 'P2010' && details.includes('23505'))) && details.includes('email');
}

const RANK = new Map<string, number>([
  ['id', -2],
  ['expectedVersion', -1],
  ...CUSTOMER_FIELDS.map((field, index) => [field, index] as const),
  ['authentication', CUSTOMER_FIELDS.length],
  ['idempotencyKey', CUSTOMER_FIELDS.length + 1],
]);

/**
 * Errors in the order of the arguments and fields they are about. `base` is where one write's
 * arguments sit (["items", "3"] for a batch item); errors elsewhere keep their places.
 */
export function inOrder(errors: DomainError[], base: ErrorPath = []): DomainError[] {
  const rank = (error: DomainError) => {
    const path = error.path.slice(base.length);
    return RANK.get(path[0] === 'input' ? (path[1] ?? '') : (path[0] ?? '')) ?? 0;
  };
  return [...errors].sort((a, b) => rank(a) - rank(b));
}
