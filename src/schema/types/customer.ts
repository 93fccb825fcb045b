/**
 * The Customer type (with its history), its queries (customer, customers) and its mutations
 * (createCustomer, updateCustomer, updateCustomers).
 */
import { queryFromInfo } from '@pothos/plugin-prisma';
import { createGraphQLError } from 'graphql-yoga';
import type { Customer as CustomerRow } from '../../generated/prisma/client.ts';
import { BATCH_LIMIT, updateCustomers } from '../../domain/customer-batch.ts';
import { customerHistory, HistoryCursorError } from '../../domain/customer-history.ts';
import { parseCustomerId } from '../../domain/customer-id.ts';
import { customerWhere, decodeCursor, encodeCursor, PAGE_SIZE, pageSize } from '../../domain/customer-search.ts';
import type { CustomerView } from '../../domain/customer-snapshot.ts';
import { createCustomer, updateCustomer } from '../../domain/customer-writes.ts';
import type { WriteResult, WriteResults } from '../../domain/errors.ts';
import { IDEMPOTENCY_KEY_MAX_LENGTH, type IdempotencyScope } from '../../domain/idempotency.ts';
import { builder, type Context } from '../builder.ts';
import { CustomerChangeConnection } from './customer-change.ts';
import { CreateCustomerInput, CustomerFilter, UpdateCustomerInput, UpdateCustomersItem } from './customer-inputs.ts';
import { CreateCustomerError, toErrorShapes, UpdateCustomerError, type ErrorShape } from './errors.ts';

export const FormField = builder.prismaObject('FormField', {
  description: 'A value of one of the store\'s customer form fields. Read-only.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The form field\'s name.' }),
    value: t.field({ type: 'JSON', nullable: true, description: 'Its value: text, a number, or a list.', resolve: (f) => f.value }),
  }),
});

export const Customer = builder.prismaObject('Customer', {
  description: 'A store customer (BigCommerce Customers V2). The password is write-only and never appears here.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The numeric customer id, as a string.' }),
    firstName: t.exposeString('firstName', { description: '1 to 100 characters.' }),
    lastName: t.exposeString('lastName', { description: '1 to 100 characters.' }),
    email: t.field({ type: 'EmailAddress', description: 'Unique among customers without regard to case.', resolve: (c) => c.email }),
    company: t.exposeString('company', { nullable: true, description: 'Up to 255 characters.' }),
    phone: t.exposeString('phone', { nullable: true, description: 'Up to 50 characters.' }),
    notes: t.exposeString('notes', { nullable: true, description: 'Staff notes, up to 65,535 characters.' }),
    storeCredit: t.field({ type: 'Decimal', description: 'Store credit, exact to 4 places.', resolve: (c) => c.storeCredit }),
    registrationIpAddress: t.field({
      type: 'IP',
      nullable: true,
      description: 'The IPv4 or IPv6 address the customer registered from.',
      resolve: (c) => c.registrationIpAddress,
    }),
    customerGroupId: t.exposeInt('customerGroupId', { nullable: true, description: 'The customer group, if any.' }),
    taxExemptCategory: t.exposeString('taxExemptCategory', { nullable: true, description: 'Tax exemption code, up to 255 characters.' }),
    resetPassOnLogin: t.exposeBoolean('resetPassOnLogin', { description: 'Whether the customer must choose a new password at next login.' }),
    acceptsProductReviewAbandonedCartEmails: t.exposeBoolean('acceptsProductReviewAbandonedCartEmails', {
      description: 'Read-only: whether the customer accepts product review and abandoned cart emails.',
    }),
    formFields: t.relation('formFields', { description: 'Read-only form field values.', query: { orderBy: { name: 'asc' } } }),
    dateCreated: t.field({ type: 'DateTime', description: 'Read-only: when the customer was created.', resolve: (c) => c.dateCreated }),
    dateModified: t.field({
      type: 'DateTime',
      description: 'Read-only: when the customer last changed. An update that changes nothing keeps it.',
      resolve: (c) => c.dateModified,
    }),
    version: t.exposeInt('version', {
      description: 'Starts at 1 and grows by one with every write that changes something. Send it back as `expectedVersion`.',
    }),
    history: t.field({
      type: CustomerChangeConnection,
      description:
        'Every write to the customer, newest first: who made it (the token\'s name), when, the version it produced and ' +
        'each field it changed. A password change shows as field "password" with no values. Needs `customers:read`.',
      authScopes: { 'customers:read': true },
      args: {
        first: t.arg.int({
          defaultValue: PAGE_SIZE.default,
          description: `How many entries to return: ${PAGE_SIZE.default} when left out, at most ${PAGE_SIZE.max}.`,
        }),
        after: t.arg.string({ description: 'Return the entries after (older than) this cursor: an edge\'s `cursor`, or `pageInfo.endCursor`.' }),
      },
      resolve: async (customer, { first, after }, ctx) => {
        const page = await customerHistory(ctx.db, customer.id, { first, after }).catch((error: unknown) => {
          throw error instanceof HistoryCursorError ? badArgument(error.message) : error;
        });
        return {
          edges: page.entries.map(({ cursor, change }) => ({ cursor, node: change })),
          pageInfo: {
            hasNextPage: page.hasNextPage,
            hasPreviousPage: after !== null && after !== undefined,
            startCursor: page.entries[0]?.cursor ?? null,
            endCursor: page.entries.at(-1)?.cursor ?? null,
          },
        };
      },
    }),
  }),
});

builder.queryField('customer', (t) =>
  t.prismaField({
    type: Customer,
    nullable: true,
    description: 'One customer by id, or null when there is none. Needs `customers:read`.',
    authScopes: { 'customers:read': true },
    args: { id: t.arg.id({ required: true, description: 'The numeric customer id.' }) },
    resolve: (query, _root, { id }, { db }) => {
      const numeric = parseCustomerId(id);
      return numeric === null ? null : db.customer.findUnique({ ...query, where: { id: numeric } });
    },
  }),
);

const CustomerConnection = builder.connectionObject(
  { type: Customer, name: 'CustomerConnection', description: 'A page of customers, in id order.', edgesNullable: false, nodeNullable: false },
  { name: 'CustomerEdge', description: 'A customer and the cursor to page on from it.' },
);

builder.queryField('customers', (t) =>
  t.field({
    type: CustomerConnection,
    description: 'Customers in id order, a page at a time, optionally filtered. Needs `customers:read`.',
    authScopes: { 'customers:read': true },
    args: {
      first: t.arg.int({ defaultValue: PAGE_SIZE.default, description: `How many to return: ${PAGE_SIZE.default} when left out, at most ${PAGE_SIZE.max}.` }),
      after: t.arg.string({ description: 'Return the customers after this cursor (an edge\'s `cursor`, or `pageInfo.endCursor`).' }),
      filter: t.arg({ type: CustomerFilter, description: 'Only the customers that match every condition given.' }),
    },
    resolve: async (_root, { first, after, filter }, ctx, info) => {
      const size = pageSize(first);
      if (size === null) throw badArgument('first cannot be negative');
      const afterId = after === null || after === undefined ? null : decodeCursor(after);
      if (after && afterId === null) throw badArgument('after is not a cursor this API gave out');
      const rows = await ctx.db.customer.findMany({
        ...queryFromInfo({ context: ctx, info, path: ['edges', 'node'] }),
        where: { AND: [customerWhere(filter), afterId === null ? {} : { id: { gt: afterId } }] },
        orderBy: { id: 'asc' },
        // One more than asked tells whether there is a next page.
        take: size + 1,
      });
      const edges = rows.slice(0, size).map((node) => ({ cursor: encodeCursor(node.id), node }));
      return {
        edges,
        pageInfo: {
          hasNextPage: rows.length > size,
          hasPreviousPage: afterId !== null,
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges.at(-1)?.cursor ?? null,
        },
      };
    },
  }),
);

function badArgument(message: string) {
  return createGraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });
}

type PayloadShape = { customer: CustomerRow | null; errors: ErrorShape[] };
type BatchPayloadShape = { customers: CustomerRow[] | null; errors: ErrorShape[] };

/**
 * A customer as the Customer type resolves it. Its fields read only the columns a CustomerView
 * has, and one restored from an idempotency record has no password hash at all.
 */
function asCustomer(customer: CustomerView): CustomerRow {
  return customer as unknown as CustomerRow;
}

function toPayload(result: WriteResult<CustomerView>): PayloadShape {
  return { customer: result.customer && asCustomer(result.customer), errors: toErrorShapes(result.errors) };
}

function toBatchPayload(result: WriteResults<CustomerView>): BatchPayloadShape {
  return { customers: result.customers && result.customers.map(asCustomer), errors: toErrorShapes(result.errors) };
}

/** The token behind a mutation; mutations run only for a token with `customers:write`, so there is one. */
function principal(ctx: Context) {
  if (!ctx.principal) throw new Error('a mutation ran without a principal');
  return ctx.principal;
}

/** The token's name: the actor recorded in history. */
function actor(ctx: Context): string {
  return principal(ctx).name;
}

/** Keys belong to the token that sent them: another token's same key is another key. */
function idempotency(ctx: Context, key: string | null | undefined): IdempotencyScope | undefined {
  return key === null || key === undefined ? undefined : { tokenId: principal(ctx).tokenId, key };
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
  'arguments is IDEMPOTENCY_KEY_REUSED. A refused request stores nothing and may be retried. Keys are kept for at least 24 hours.';

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
    resolve: async (_root, { id, input, expectedVersion, idempotencyKey }, ctx) =>
      toPayload(await updateCustomer(ctx.db, { id, input, expectedVersion, actor: actor(ctx), idempotency: idempotency(ctx, idempotencyKey) })),
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
    resolve: async (_root, { input, idempotencyKey }, ctx) =>
      toPayload(await createCustomer(ctx.db, { input, actor: actor(ctx), idempotency: idempotency(ctx, idempotencyKey) })),
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
    resolve: async (_root, { items, idempotencyKey }, ctx) =>
      toBatchPayload(await updateCustomers(ctx.db, { items, actor: actor(ctx), idempotency: idempotency(ctx, idempotencyKey) })),
  }),
);
