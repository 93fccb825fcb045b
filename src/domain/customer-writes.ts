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
import type { Transaction } from '../infra/database/transaction.ts';
import { parseCustomerId } from './customer-id.ts';
import { changedFields, createdFields, PASSWORD_CHANGE, recordChange } from './customer-history.ts';
import { checkCreateInput, checkUpdateInput, CUSTOMER_FIELDS, type CustomerInput, type CustomerValues } from './customer-input.ts';
import type { CustomerView } from './customer-snapshot.ts';
import { refused, WriteRefused, type DomainError, type ErrorPath, type WriteResult, type WriteResults } from './errors.ts';
import { runIdempotent, type IdempotencyScope } from './idempotency.ts';
import { generatePassword, hashPassword } from './passwords.ts';
import { writeInTransaction } from './write-transaction.ts';

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
  return writeInTransaction(client, (tx) => applyUpdate(tx, prepared));
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
 * The update itself: the row is locked (`FOR UPDATE`) before it is read, so the version
 * compared, the fields diffed and the row written are the same; a concurrent update waits and
 * then sees this one's result.
 */
export async function applyUpdate(tx: Transaction, prepared: PreparedUpdate): Promise<WriteResult<Customer>> {
  const { customerId: id, values } = prepared;
  const errors = [...prepared.errors];
  const locked = id === null ? [] : await tx.$queryRaw<{ version: number }[]>`SELECT version FROM customers WHERE id = ${id} FOR UPDATE`;
  if (id === null || locked.length === 0) {
    return refused(inOrder([{ code: 'NOT_FOUND', path: ['id'], message: 'No customer has this id' }, ...errors]));
  }
  const current = await tx.customer.findUniqueOrThrow({ where: { id } });

  if (prepared.expectedVersion !== null && prepared.expectedVersion !== current.version) {
    errors.push({
      code: 'VERSION_CONFLICT',
      path: ['expectedVersion'],
      message: `The customer is at version ${current.version}, not ${prepared.expectedVersion}: read it again and retry`,
      currentVersion: current.version,
    });
  }
  if (values.email !== undefined && values.email !== current.email) {
    const taken = await emailTaken(tx, values.email, id);
    if (taken) errors.push(taken);
  }
  if (errors.length > 0) return refused(inOrder(errors));

  const changes = changedFields(current, values);
  // A new password always counts as a change, though nobody can tell it from the old one.
  if (prepared.passwordHash !== undefined) changes.push(PASSWORD_CHANGE);
  if (changes.length === 0) return { customer: current, errors: [] };

  const at = new Date();
  const version = current.version + 1;
  const data: Record<string, unknown> = {};
  for (const change of changes) if (change.field !== 'password') data[change.field] = change.to;
  const customer = await refuseTakenEmail(
    () =>
      tx.customer.update({
        // The version in the condition makes the write a compare-and-set even without the lock.
        where: { id, version: current.version },
        data: { ...data, ...(prepared.passwordHash !== undefined && { passwordHash: prepared.passwordHash }), version, dateModified: at },
      }),
    values.email,
  );
  await recordChange(tx, { customerId: id, version, actor: prepared.actor, at, changes });
  return { customer, errors: [] };
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
  // Prisma names the index (customers_email_key) or the fields, depending on the adapter.
  return code === 'P2002' && JSON.stringify(meta ?? null).includes('email');
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
