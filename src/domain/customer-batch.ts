/**
 * updateCustomers: up to ten updates that are written together or not at all. Like the single
 * update it runs in two steps: `prepareBatch` checks every item and hashes new passwords outside
 * any transaction, `applyBatch` locks, checks against the database and writes in one.
 *
 * Email addresses move within a batch: A may take B's address while B takes a new one, or two
 * customers may swap theirs. The unique index is checked at every statement, so such a batch
 * first parks the moving addresses on placeholders and then writes the final ones; what is
 * checked is the state after the whole batch. Two items claiming one address: the later is TAKEN.
 */
import type { Customer } from '../generated/prisma/client.ts';
import type { Database } from '../infra/database/prisma.ts';
import type { Transaction } from '../infra/database/transaction.ts';
import { parseCustomerId } from './customer-id.ts';
import { changedFields, PASSWORD_CHANGE, recordChange, type FieldChange } from './customer-history.ts';
import { checkUpdateInput, type CustomerInput, type CustomerValues } from './customer-input.ts';
import type { CustomerView } from './customer-snapshot.ts';
import { inOrder, isEmailUniqueViolation, takenError } from './customer-writes.ts';
import { WriteRefused, type DomainError, type ErrorPath, type WriteResults } from './errors.ts';
import { runIdempotent, type IdempotencyScope, type IdempotentWrite } from './idempotency.ts';
import { hashPassword } from './passwords.ts';
import { runWrite } from './write-transaction.ts';

/** BigCommerce V3's cap on customers per request. */
export const BATCH_LIMIT = 10;

export interface UpdateCustomersItem {
  /** The customer id as the client sent it. */
  id: string;
  input: CustomerInput;
  expectedVersion?: number | null;
}

export interface UpdateCustomersCommand {
  items: readonly UpdateCustomersItem[];
  /** Who writes: the API token's name, recorded in each customer's history. */
  actor: string;
  idempotency?: IdempotencyScope | undefined;
}

interface PreparedItem {
  /** Where the item sits in the arguments: ["items", "<index>"]. */
  path: ErrorPath;
  customerId: number | null;
  /** The same customer as an earlier item: refused, and not looked up again. */
  duplicate: boolean;
  expectedVersion: number | null;
  values: CustomerValues;
  passwordHash: string | undefined;
  errors: DomainError[];
}

export interface PreparedBatch {
  actor: string;
  items: PreparedItem[];
  /** About the list itself (empty, too long); then no item is checked. */
  listErrors: DomainError[];
  /** About the other arguments (the idempotency key). */
  argumentErrors: DomainError[];
}

export async function updateCustomers(client: Database | Transaction, command: UpdateCustomersCommand): Promise<WriteResults<CustomerView>> {
  const write: IdempotentWrite<PreparedBatch> = {
    operation: 'updateCustomers',
    arguments: { items: command.items.map(({ id, input, expectedVersion }) => ({ id, input, expectedVersion: expectedVersion ?? null })) },
    prepare: (argumentErrors) => prepareBatch(command, argumentErrors),
    errorsOf: batchErrors,
    passwordHashesOf: (prepared) =>
      Object.fromEntries(
        prepared.items.flatMap((item) => (item.passwordHash === undefined ? [] : [[[...item.path, 'input', 'authentication', 'password'].join('.'), item.passwordHash]])),
      ),
    apply: applyBatch,
  };
  if (command.idempotency) return runIdempotent(client, command.idempotency, write);
  const prepared = await prepareBatch(command);
  return runWrite(client, (tx) => applyBatch(tx, prepared), (errors) => ({ customers: null, errors }));
}

/** Every error found so far, in the order clients read them: the list, each item in turn, the key. */
export function batchErrors(prepared: PreparedBatch): DomainError[] {
  return [...prepared.listErrors, ...prepared.items.flatMap((item) => inOrder(item.errors, item.path)), ...prepared.argumentErrors];
}

export async function prepareBatch(command: UpdateCustomersCommand, argumentErrors: DomainError[] = []): Promise<PreparedBatch> {
  const { items, actor } = command;
  const listErrors: DomainError[] = [];
  if (items.length === 0) {
    listErrors.push({ code: 'REQUIRED', path: ['items'], message: `Give 1 to ${BATCH_LIMIT} items` });
  } else if (items.length > BATCH_LIMIT) {
    // The items are not checked one by one: a request this size is refused as a whole.
    listErrors.push({ code: 'TOO_LONG', path: ['items'], message: `At most ${BATCH_LIMIT} items per request, not ${items.length}` });
  }
  if (listErrors.length > 0) return { actor, items: [], listErrors, argumentErrors };

  const firstIndex = new Map<number, number>();
  const passwords: Array<string | undefined> = [];
  const prepared = items.map((item, index): PreparedItem => {
    const path = ['items', String(index)];
    const checked = checkUpdateInput(item.input, [...path, 'input']);
    passwords.push(checked.password);
    const customerId = parseCustomerId(item.id);
    const errors = [...checked.errors];
    const earlier = customerId === null ? undefined : firstIndex.get(customerId);
    if (earlier !== undefined) {
      errors.push({ code: 'INVALID', path: [...path, 'id'], message: `items ${earlier} and ${index} update the same customer; send one item per customer` });
    } else if (customerId !== null) {
      firstIndex.set(customerId, index);
    }
    const expectedVersion = item.expectedVersion ?? null;
    return { path, customerId, duplicate: earlier !== undefined, expectedVersion, values: checked.values, passwordHash: undefined, errors };
  });

  // Passwords are hashed only for a batch that can be written: a refused one costs no argon2.
  if (argumentErrors.length === 0 && prepared.every((item) => item.errors.length === 0)) {
    const hashes = await Promise.all(passwords.map((password) => (password === undefined ? undefined : hashPassword(password))));
    hashes.forEach((hash, index) => {
      prepared[index]!.passwordHash = hash;
    });
  }
  return { actor, items: prepared, listErrors, argumentErrors };
}

/** Where a moving address waits in a batch that hands addresses over; the space keeps it from ever being a real one. */
function parkedEmail(id: number): string {
  return `parked during batch ${id}`;
}

export async function applyBatch(tx: Transaction, prepared: PreparedBatch): Promise<WriteResults<Customer>> {
  const items = prepared.items.map((item) => ({ ...item, errors: [...item.errors] }));
  const refusal = (): WriteResults<Customer> => ({ customers: null, errors: batchErrors({ ...prepared, items }) });
  if (prepared.listErrors.length > 0) return refusal();

  const ids = [...new Set(items.flatMap((item) => (item.customerId === null ? [] : [item.customerId])))].sort((a, b) => a - b);
  // Always in ascending id order: two batches over the same customers then queue instead of deadlocking.
  await tx.$queryRaw`SELECT id FROM customers WHERE id = ANY(${ids}::int[]) ORDER BY id FOR UPDATE`;
  const rows = new Map((await tx.customer.findMany({ where: { id: { in: ids } } })).map((row) => [row.id, row]));

  const found: Array<{ item: (typeof items)[number]; current: Customer }> = [];
  for (const item of items) {
    if (item.duplicate) continue;
    const current = item.customerId === null ? undefined : rows.get(item.customerId);
    if (!current) {
      item.errors.push({ code: 'NOT_FOUND', path: [...item.path, 'id'], message: 'No customer has this id' });
      continue;
    }
    if (item.expectedVersion !== null && item.expectedVersion !== current.version) {
      item.errors.push({
        code: 'VERSION_CONFLICT',
        path: [...item.path, 'expectedVersion'],
        message: `The customer is at version ${current.version}, not ${item.expectedVersion}: read it again and retry`,
        currentVersion: current.version,
      });
    }
    found.push({ item, current });
  }

  // Addresses are compared as the citext column does: without regard to case.
  const fold = (email: string) => email.toLowerCase();
  const moving = found.filter(({ item, current }) => item.values.email !== undefined && item.values.email !== current.email);
  // Who holds which address once the batch is written: customers outside it keep theirs...
  const claimed = moving.map(({ item }) => item.values.email!);
  const outside = claimed.length === 0 ? [] : await tx.customer.findMany({ where: { email: { in: claimed }, id: { notIn: ids } }, select: { email: true } });
  const holders = new Set(outside.map(({ email }) => fold(email)));
  // ...so do the batch's customers whose address does not move...
  for (const { item, current } of found) if (!moving.some((entry) => entry.item === item)) holders.add(fold(current.email));
  // ...and each moving address goes to the first item claiming it.
  for (const { item } of moving) {
    const email = item.values.email!;
    if (holders.has(fold(email))) item.errors.push(takenError(email, [...item.path, 'input', 'email']));
    else holders.add(fold(email));
  }
  if (items.some((item) => item.errors.length > 0) || prepared.argumentErrors.length > 0) return refusal();

  const at = new Date();
  const leaving = new Set(moving.map(({ current }) => fold(current.email)));
  if (moving.some(({ item }) => leaving.has(fold(item.values.email!)))) {
    for (const { current } of moving) await tx.customer.update({ where: { id: current.id }, data: { email: parkedEmail(current.id) } });
  }

  const written = new Map<PreparedItem, Customer>();
  for (const { item, current } of found) {
    const changes: FieldChange[] = changedFields(current, item.values);
    if (item.passwordHash !== undefined) changes.push(PASSWORD_CHANGE);
    if (changes.length === 0) {
      written.set(item, current);
      continue;
    }
    const version = current.version + 1;
    const data: Record<string, unknown> = {};
    for (const change of changes) if (change.field !== 'password') data[change.field] = change.to;
    try {
      const customer = await tx.customer.update({
        where: { id: current.id, version: current.version },
        data: { ...data, ...(item.passwordHash !== undefined && { passwordHash: item.passwordHash }), version, dateModified: at },
      });
      written.set(item, customer);
    } catch (error) {
      // A writer outside the batch took the address after the check above: the index decides.
      if (item.values.email !== undefined && isEmailUniqueViolation(error)) {
        throw new WriteRefused([takenError(item.values.email, [...item.path, 'input', 'email'])]);
      }
      throw error;
    }
    await recordChange(tx, { customerId: current.id, version, actor: prepared.actor, at, changes });
  }
  return { customers: items.map((item) => written.get(item)!), errors: [] };
}
