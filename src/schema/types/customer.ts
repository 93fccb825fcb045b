/** The Customer type and its queries. */
import { builder } from '../builder.ts';

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
      const numeric = toCustomerId(id);
      return numeric === null ? null : db.customer.findUnique({ ...query, where: { id: numeric } });
    },
  }),
);

/** A customer id from the API, or null when it cannot name any customer. */
export function toCustomerId(id: string | number): number | null {
  const text = String(id);
  if (!/^\d{1,10}$/.test(text)) return null;
  const value = Number(text);
  return value >= 1 && value <= 2_147_483_647 ? value : null;
}
