/** The live feed: the `customerChanges` subscription and the CustomerChangeEvent it sends. */
import type { CustomerChange as CustomerChangeRow } from '../../generated/prisma/client.ts';
import { changeStream } from '../../domain/change-stream.ts';
import { eventTypeOf } from '../../domain/customer-events.ts';
import { parseCustomerId } from '../../domain/customer-id.ts';
import { encodeCursor } from '../../domain/paging.ts';
import { builder } from '../builder.ts';
import { CustomerChange } from './customer-change.ts';
import { CustomerEventType } from './customer-events.ts';
import { afterArgument } from './paging.ts';

export const CustomerChangeEvent = builder.objectRef<CustomerChangeRow>('CustomerChangeEvent').implement({
  description: 'One committed write to a customer, as the live feed sends it: the write\'s history entry, with its place in the feed.',
  fields: (t) => ({
    cursor: t.string({
      description: 'This event\'s place in the feed: subscribe again with it as `after` to go on from here.',
      resolve: (change) => encodeCursor('event', change.id),
    }),
    type: t.field({
      type: CustomerEventType,
      description: 'CUSTOMER_CREATED for the write that created the customer (version 1), CUSTOMER_UPDATED for every later one.',
      resolve: (change) => eventTypeOf(change.version),
    }),
    customerId: t.id({ description: 'The numeric id of the customer written, as a string.', resolve: (change) => String(change.customerId) }),
    change: t.field({
      type: CustomerChange,
      description: 'The write itself, as `Customer.history` shows it: who, when, the new version and each changed field.',
      resolve: (change) => change,
    }),
  }),
});

builder.subscriptionField('customerChanges', (t) =>
  t.field({
    type: CustomerChangeEvent,
    description:
      'Every committed write to a customer, in the order of the change log (a customer\'s versions in order), as it happens. ' +
      'Without `after`, the writes committed once the subscription started; with `after`, first every event after that ' +
      'one, then live, with no gap and no repeat. Needs `customers:read`.',
    authScopes: { 'customers:read': true },
    args: {
      after: t.arg.string({ description: 'Start after this event: the `cursor` of the last event received.' }),
      customerId: t.arg.id({ description: 'Only this customer\'s events. An id that names no customer gets none, as `customer(id)` gets null.' }),
    },
    subscribe: (_root, { after, customerId }, { db, changeFeed }) =>
      changeStream(db, changeFeed, { after: afterArgument('event', after), customerId: customerFilter(customerId) }),
    resolve: (change) => change,
  }),
);

/** `customerId` read as `customer(id)` reads it; text that names no customer matches none (no customer has id 0). */
function customerFilter(id: string | number | null | undefined): number | null {
  if (id === null || id === undefined) return null;
  return parseCustomerId(id) ?? 0;
}
