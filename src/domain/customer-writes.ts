/**
 * createCustomer and updateCustomer. Each runs in two steps: `prepare*` checks the input and
 * hashes a new password outside any transaction (argon2 must never run while a row is locked),
 * then `apply*` does every database read and write inside one transaction it is given, so that
 * whatever else must be stored with a write (idempotency records) commits or rolls back with it.
 * `createCustomer` and `updateCustomer` do both, in a transaction of their own or nested in one
 * they are given.
 */
import type { Customer } from '../generated/prisma/client.ts';
import type { Database } from '../infra/database/prisma.ts';
import { inTransaction, type Transaction } from '../infra/database/transaction.ts';
import { parseCustomerId } from './customer-id.ts';
import { changedFields, createdFields, PASSWORD_CHANGE, recordChange } from './customer-history.ts';
import { checkCreateInput, checkUpdateInput, CUSTOMER_FIELDS, type CustomerInput, type CustomerValues } from './customer-input.ts';
import { refused, WriteRefused, type DomainError, type WriteResult } from './errors.ts';
import { generatePassword, hashPassword } from './passwords.ts';

export interface UpdateCustomerCommand {
  /** The customer id as the client sent it. */
  id: string;
  input: CustomerInput;
  /** When given, the write happens only if the stored version is still this one. */
  expectedVersion?: number | null;
  /** Who writes: the API token's name, recorded in the customer's history. */
  actor: string;
}

export interface CreateCustomerCommand {
  input: CustomerInput;
  actor: string;
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

export async function updateCustomer(client: Database | Transaction, command: UpdateCustomerCommand): Promise<WriteResult<Customer>> {
  const prepared = await prepareUpdate(command);
  return writeInTransaction(client, (tx) => applyUpdate(tx, prepared));
}

export async function createCustomer(client: Database | Transaction, command: CreateCustomerCommand): Promise<WriteResult<Customer>> {
  const prepared = await prepareCreate(command);
  return writeInTransaction(client, (tx) => applyCreate(tx, prepared));
}

/**
 * Runs a write in a new transaction, or nested in the one given. When the database refuses the
 * write (WriteRefused), the write's own (nested) transaction rolls back and the refusal becomes
 * the result; a caller's surrounding transaction stays usable.
 */
export async function writeInTransaction<T>(
  client: Database | Transaction,
  work: (tx: Transaction) => Promise<WriteResult<T>>,
): Promise<WriteResult<T>> {
  try {
    return await inTransaction(client, work);
  } catch (error) {
    if (error instanceof WriteRefused) return refused(error.errors);
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
  return Object.assign(safe, { code });
}

export async function prepareUpdate(command: UpdateCustomerCommand): Promise<PreparedUpdate> {
  const checked = checkUpdateInput(command.input);
  // A password is hashed only for a write that can happen: a refused request costs no argon2.
  const passwordHash = checked.password !== undefined && checked.errors.length === 0 ? await hashPassword(checked.password) : undefined;
  return {
    customerId: parseCustomerId(command.id),
    expectedVersion: command.expectedVersion ?? null,
    actor: command.actor,
    values: checked.values,
    passwordHash,
    errors: checked.errors,
  };
}

export async function prepareCreate(command: CreateCustomerCommand): Promise<PreparedCreate> {
  const checked = checkCreateInput(command.input);
  const passwordChosen = checked.password !== undefined;
  const passwordHash = checked.errors.length === 0 ? await hashPassword(checked.password ?? generatePassword()) : '';
  return { actor: command.actor, values: checked.values, passwordHash, passwordChosen, errors: checked.errors };
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

function takenError(email: string): DomainError {
  return { code: 'TAKEN', path: ['input', 'email'], message: `Another customer already uses ${email}` };
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

function isEmailUniqueViolation(error: unknown): boolean {
  const { code, meta } = error as { code?: unknown; meta?: unknown };
  // Prisma names the index (customers_email_key) or the fields, depending on the adapter.
  return code === 'P2002' && JSON.stringify(meta ?? null).includes('email');
}

const RANK = new Map<string, number>([['id', -2], ['expectedVersion', -1], ...CUSTOMER_FIELDS.map((field, index) => [field, index] as const), ['authentication', CUSTOMER_FIELDS.length]]);

/** Errors in the order of the arguments and fields they are about. */
function inOrder(errors: DomainError[]): DomainError[] {
  const rank = (error: DomainError) => RANK.get(error.path[0] === 'input' ? (error.path[1] ?? '') : (error.path[0] ?? '')) ?? 0;
  return [...errors].sort((a, b) => rank(a) - rank(b));
}
