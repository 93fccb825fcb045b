/** The `customer` and `customers` queries. */
import { queryFromInfo } from '@pothos/plugin-prisma';
import { findCustomer } from '../../domain/customer-reads.ts';
import { CustomerFilterError, customerWhere } from '../../domain/customer-search.ts';
import { PAGE_SIZE, pageOf } from '../../domain/paging.ts';
import { badUserInput } from '../../http/graphql-errors.ts';
import { builder } from '../builder.ts';
import { asCustomer, Customer } from './customer.ts';
import { CustomerFilter } from './customer-inputs.ts';
import { pageArguments, pageCost } from './paging.ts';

builder.queryField('customer', (t) =>
  t.field({
    type: Customer,
    nullable: true,
    description: 'One customer by id, or null when there is none. Needs `customers:read`.',
    authScopes: { 'customers:read': true },
    args: { id: t.arg.id({ required: true, description: 'The numeric customer id.' }) },
    // Relations (formFields) are loaded by plugin-prisma when selected, as for a write's payload.
    resolve: async (_root, { id }, { reads }) => {
      const customer = await reads.run((db) => findCustomer(db, id));
      return customer && asCustomer(customer);
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
    complexity: pageCost,
    args: {
      first: t.arg.int({ defaultValue: PAGE_SIZE.default, description: `How many to return: ${PAGE_SIZE.default} when left out, at most ${PAGE_SIZE.max}.` }),
      after: t.arg.string({ description: 'Return the customers after this cursor (an edge\'s `cursor`, or `pageInfo.endCursor`).' }),
      filter: t.arg({ type: CustomerFilter, description: 'Only the customers that match every condition given.' }),
    },
    resolve: async (_root, { first, after, filter }, ctx, info) => {
      const page = pageArguments('customer', { first, after });
      const where = filterArgument(filter);
      const rows = await ctx.reads.run((db) =>
        db.customer.findMany({
          ...queryFromInfo({ context: ctx, info, path: ['edges', 'node'] }),
          where: { AND: [where, page.after === null ? {} : { id: { gt: page.after } }] },
          orderBy: { id: 'asc' },
          take: page.size + 1,
        }),
      );
      return pageOf('customer', page, rows, (customer) => customer.id);
    },
  }),
);

/** The filter as the schema reads it: text no customer can hold is the client's error. */
function filterArgument(filter: Parameters<typeof customerWhere>[0]) {
  try {
    return customerWhere(filter);
  } catch (error) {
    if (error instanceof CustomerFilterError) throw badUserInput(error.message);
    throw error;
  }
}
