/** The CustomerChange and FieldChange types and their connection: a customer's history (`Customer.history`). */
import type { CustomerChange as CustomerChangeRow } from '../../generated/prisma/client.ts';
import type { FieldChange as FieldChangeShape } from '../../domain/customer-history.ts';
import { builder } from '../builder.ts';

export const FieldChange = builder.objectRef<FieldChangeShape>('FieldChange').implement({
  description: 'One field a write changed, with its value before and after. A password change shows neither.',
  fields: (t) => ({
    field: t.exposeString('field', {
      description: 'The field\'s API name, e.g. "storeCredit", or "password" for a new password.',
    }),
    from: t.field({
      type: 'JSON',
      nullable: true,
      description: 'The value before the write, as the API shows it (money as 4-place text); null when there was none, and always for "password".',
      resolve: (change) => change.from,
    }),
    to: t.field({
      type: 'JSON',
      nullable: true,
      description: 'The value after the write; null when the field was cleared, and always for "password".',
      resolve: (change) => change.to,
    }),
  }),
});

export const CustomerChange = builder.objectRef<CustomerChangeRow>('CustomerChange').implement({
  description: 'One write to a customer: who made it, when, the version it produced and what it changed.',
  fields: (t) => ({
    id: t.id({ description: 'The numeric id of this history entry, as a string.', resolve: (change) => String(change.id) }),
    at: t.field({ type: 'DateTime', description: 'When the write was made.', resolve: (change) => change.at }),
    actor: t.exposeString('actor', { description: 'The name of the API token that made the write.' }),
    version: t.exposeInt('version', { description: 'The customer\'s version after the write (1 for the creation).' }),
    changes: t.field({
      type: [FieldChange],
      description: 'Each field the write changed, in the order the API lists the fields.',
      // Written only by recordChange, always as this array.
      resolve: (change) => change.changes as unknown as FieldChangeShape[],
    }),
  }),
});

export const CustomerChangeConnection = builder.connectionObject(
  {
    type: CustomerChange,
    name: 'CustomerChangeConnection',
    description: 'A page of a customer\'s history, newest first.',
    edgesNullable: false,
    nodeNullable: false,
  },
  { name: 'CustomerChangeEdge', description: 'A history entry and the cursor to page on from it.' },
);
