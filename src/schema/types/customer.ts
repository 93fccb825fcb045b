/** The Customer type, its read-only FormField values, and its history. */
import { createContextCache } from '@pothos/core';
import type { Customer as CustomerRow } from '../../generated/prisma/client.ts';
import type { CustomerView } from '../../domain/customer-snapshot.ts';
import { customerLoader, formFieldsLoader } from '../../domain/customer-reads.ts';
import { historyLoader } from '../../domain/customer-history.ts';
import { describeStoredRule } from '../../domain/customer-fields.ts';
import { PAGE_SIZE, pageOf } from '../../domain/paging.ts';
import { builder, type Context } from '../builder.ts';
import { CustomerChangeConnection } from './customer-change.ts';
import { pageArguments, pageCost } from './paging.ts';

/** The Customer type reads only the columns a CustomerView has: never the password hash. */
export const asCustomer = (customer: CustomerView) => customer as CustomerRow;

/** One history loader per request, so the customers of a page share their history's statement. */
const histories = createContextCache((ctx: Context) => historyLoader(ctx.reads));
const customers = createContextCache((ctx: Context) => customerLoader(ctx.reads));
const formFields = createContextCache((ctx: Context) => formFieldsLoader(ctx.reads));

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
    firstName: t.exposeString('firstName', { description: describeStoredRule('firstName') }),
    lastName: t.exposeString('lastName', { description: describeStoredRule('lastName') }),
    email: t.field({ type: 'EmailAddress', description: describeStoredRule('email'), resolve: (c) => c.email }),
    company: t.exposeString('company', { nullable: true, description: describeStoredRule('company') }),
    phone: t.exposeString('phone', { nullable: true, description: describeStoredRule('phone') }),
    notes: t.exposeString('notes', { nullable: true, description: describeStoredRule('notes') }),
    storeCredit: t.field({ type: 'Decimal', description: describeStoredRule('storeCredit'), resolve: (c) => c.storeCredit }),
    registrationIpAddress: t.field({
      type: 'IP',
      nullable: true,
      description: describeStoredRule('registrationIpAddress'),
      resolve: (c) => c.registrationIpAddress,
    }),
    customerGroupId: t.exposeInt('customerGroupId', { nullable: true, description: describeStoredRule('customerGroupId') }),
    taxExemptCategory: t.exposeString('taxExemptCategory', { nullable: true, description: describeStoredRule('taxExemptCategory') }),
    resetPassOnLogin: t.exposeBoolean('resetPassOnLogin', { description: describeStoredRule('resetPassOnLogin') }),
    acceptsProductReviewAbandonedCartEmails: t.exposeBoolean('acceptsProductReviewAbandonedCartEmails', {
      description: 'Read-only: whether the customer accepts product review and abandoned cart emails.',
    }),
    // Loaded with the customers where plugin-prisma reads them (pages, write payloads); for a
    // customer read by its own statement (customer(id), _entities), one statement per request.
    formFields: t.relation('formFields', {
      description: 'Read-only form field values.',
      query: { orderBy: { name: 'asc' } },
      resolve: (_query, customer, _args, ctx) => formFields(ctx).load(customer.id),
    }),
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
      complexity: pageCost,
      args: {
        first: t.arg.int({
          defaultValue: PAGE_SIZE.default,
          description: `How many entries to return: ${PAGE_SIZE.default} when left out, at most ${PAGE_SIZE.max}.`,
        }),
        after: t.arg.string({ description: 'Return the entries after (older than) this cursor: an edge\'s `cursor`, or `pageInfo.endCursor`.' }),
      },
      resolve: async (customer, args, ctx) => {
        const page = pageArguments('change', args);
        return pageOf('change', page, await histories(ctx).load({ customerId: customer.id, page }), (change) => change.version);
      },
    }),
  }),
});

// A Federation entity: other subgraphs reference a customer by id, and the router loads it here
// through `_entities` (schema/federation.ts): all the references of one request in one read,
// routed as `customer(id)`'s.
builder.asEntity(Customer, {
  key: builder.selection<{ id: string }>('id'),
  resolveReference: async ({ id }, ctx) => {
    const customer = await customers(ctx).load(id);
    return customer && asCustomer(customer);
  },
});
