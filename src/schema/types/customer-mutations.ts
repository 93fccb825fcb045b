/** createCustomer, updateCustomer and updateCustomers, and their payloads. */
import type { Customer as CustomerRow } from '../../generated/prisma/client.ts';
import { BATCH_LIMIT, createCustomer, updateCustomer, updateCustomers } from '../../domain/customer-writes.ts';
import { IDEMPOTENCY_KEY_MAX_LENGTH, type IdempotencyScope } from '../../domain/idempotency.ts';
import { builder, type Context } from '../builder.ts';
import { asCustomer, Customer } from './customer.ts';
import { CreateCustomerInput, UpdateCustomerInput, UpdateCustomersItem } from './customer-inputs.ts';
import { CreateCustomerError, refusalAsGraphQLError, toErrorShapes, UpdateCustomerError, type ErrorShape } from './errors.ts';

type PayloadShape = { customer: CustomerRow | null; errors: ErrorShape[] };
type BatchPayloadShape = { customers: CustomerRow[] | null; errors: ErrorShape[] };

/** The token behind a mutation; mutations run only for a token with `customers:write`, so there is one. */
function principal(ctx: Context) {
  if (!ctx.principal) throw new Error('a mutation ran without a principal');
  return ctx.principal;
}

/** Who writes (the token's name, recorded in history), and the key's scope: keys belong to the token that sent them. */
function writer(ctx: Context, key: string | null | undefined): { actor: string; idempotency: IdempotencyScope | undefined } {
  const { name, tokenId } = principal(ctx);
  const idempotency = key === null || key === undefined ? undefined : { tokenId, key, keysPerDay: ctx.idempotencyKeysPerDay };
  return { actor: name, idempotency };
}

const UpdateCustomerPayload = builder.objectRef<PayloadShape>('UpdateCustomerPayload').implement({
  description: 'The customer after the update, or the reasons nothing was written.',
  fields: (t) => ({
    customer: t.field({
      type: Customer,
      nullable: true,
      description: 'The customer as stored now (unchanged when the update changed nothing); null when there are errors.',
      resolve: (payload) => payload.customer,
    }),
    errors: t.field({ type: [UpdateCustomerError], description: 'Every reason nothing was written; empty on success.', resolve: (p) => p.errors }),
  }),
});

const CreateCustomerPayload = builder.objectRef<PayloadShape>('CreateCustomerPayload').implement({
  description: 'The new customer, or the reasons none was created.',
  fields: (t) => ({
    customer: t.field({
      type: Customer,
      nullable: true,
      description: 'The customer created, at version 1; null when there are errors.',
      resolve: (payload) => payload.customer,
    }),
    errors: t.field({ type: [CreateCustomerError], description: 'Every reason nothing was created; empty on success.', resolve: (p) => p.errors }),
  }),
});

const UpdateCustomersPayload = builder.objectRef<BatchPayloadShape>('UpdateCustomersPayload').implement({
  description: 'The customers after the batch, or every reason nothing was written.',
  fields: (t) => ({
    customers: t.field({
      type: [Customer],
      nullable: { list: true, items: false },
      description: 'The customers as stored now, in the order of the items; null when there are errors, and then none was written.',
      resolve: (payload) => payload.customers,
    }),
    errors: t.field({
      type: [UpdateCustomerError],
      description: 'Every reason nothing was written, for every item, with paths starting ["items", "<index>"]; empty on success.',
      resolve: (payload) => payload.errors,
    }),
  }),
});

const IDEMPOTENCY_KEY_DESCRIPTION =
  `A key (1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} characters, per token) for safe retries: the first completed response is stored ` +
  'with the write, and a retry with the same key and arguments gets it again without writing; the same key with other ' +
  'arguments is IDEMPOTENCY_KEY_REUSED. A refused request stores nothing and may be retried. Keys are kept for at least 24 hours; ' +
  'a token may start a limited number of new keys in 24 hours (then RATE_LIMITED).';

builder.mutationField('updateCustomer', (t) =>
  t.field({
    type: UpdateCustomerPayload,
    description:
      'Changes a customer with BigCommerce\'s "Update a Customer" semantics: fields left out stay, null clears optional ' +
      'fields, and any error means nothing is written. Needs `customers:write`.',
    authScopes: { 'customers:write': true },
    args: {
      id: t.arg.id({ required: true, description: 'The numeric customer id.' }),
      input: t.arg({ type: UpdateCustomerInput, required: true, description: 'The fields to change.' }),
      expectedVersion: t.arg.int({
        description: 'The version the change is based on; when the customer is at another one, nothing is written (VERSION_CONFLICT).',
      }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    resolve: async (_root, { id, input, expectedVersion, idempotencyKey }, ctx) => {
      const result = await updateCustomer(ctx.db, { id, input, expectedVersion, ...writer(ctx, idempotencyKey) }).catch(refusalAsGraphQLError);
      return { customer: result.customer && asCustomer(result.customer), errors: toErrorShapes(result.errors) };
    },
  }),
);

builder.mutationField('createCustomer', (t) =>
  t.field({
    type: CreateCustomerPayload,
    description: 'Creates a customer at version 1. Needs `customers:write`.',
    authScopes: { 'customers:write': true },
    args: {
      input: t.arg({ type: CreateCustomerInput, required: true, description: 'The new customer\'s fields.' }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    resolve: async (_root, { input, idempotencyKey }, ctx) => {
      const result = await createCustomer(ctx.db, { input, ...writer(ctx, idempotencyKey) }).catch(refusalAsGraphQLError);
      return { customer: result.customer && asCustomer(result.customer), errors: toErrorShapes(result.errors) };
    },
  }),
);

builder.mutationField('updateCustomers', (t) =>
  t.field({
    type: UpdateCustomersPayload,
    description:
      `Changes 1 to ${BATCH_LIMIT} customers at once, each as updateCustomer would, all or nothing: any error in any item and ` +
      'none is written. Customers may swap email addresses within one batch. Needs `customers:write`.',
    authScopes: { 'customers:write': true },
    args: {
      items: t.arg({
        type: [UpdateCustomersItem],
        required: true,
        description: `1 to ${BATCH_LIMIT} changes, one per customer (the same id twice is INVALID).`,
      }),
      idempotencyKey: t.arg.string({ description: IDEMPOTENCY_KEY_DESCRIPTION }),
    },
    resolve: async (_root, { items, idempotencyKey }, ctx) => {
      const result = await updateCustomers(ctx.db, { items, ...writer(ctx, idempotencyKey) }).catch(refusalAsGraphQLError);
      return { customers: result.customers && result.customers.map(asCustomer), errors: toErrorShapes(result.errors) };
    },
  }),
);
