/**
 * The input types of the customer mutations and of the `customers` query. Read-only Customer
 * fields (dateCreated, version, ...) are in none of them: sending one is a GraphQL validation
 * error before anything runs.
 */
import type { InputFieldBuilder } from '@pothos/core';
import { PASSWORD_POLICY } from '../../domain/passwords.ts';
import { builder } from '../builder.ts';

type Types = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer T> ? T : never;

export const AuthenticationInput = builder.inputType('AuthenticationInput', {
  description: 'Password changes. Left out entirely, the password is unchanged.',
  fields: (t) => ({
    password: t.string({
      description:
        `A new password, stored only as an argon2id hash and never returned. It must have ${PASSWORD_POLICY.minLength} to ` +
        `${PASSWORD_POLICY.maxLength} characters, a letter and a digit, and not be a well-known common password ` +
        '(the `passwordPolicy` query lists the rules). Null or left out: unchanged.',
    }),
    passwordConfirmation: t.string({ description: 'When sent, must equal `password` (else PASSWORD_MISMATCH).' }),
    forceReset: t.boolean({ description: 'Sets `resetPassOnLogin`: true makes the customer choose a new password at next login.' }),
  }),
});

/** The fields both mutations accept, with the same rules. */
function optionalFields(t: InputFieldBuilder<Types, 'InputObject'>) {
  return {
    company: t.string({ description: 'Up to 255 characters, trimmed. Null or blank clears it.' }),
    phone: t.string({ description: 'Up to 50 characters, trimmed. Null or blank clears it.' }),
    notes: t.string({ description: 'Staff notes, up to 65,535 characters, trimmed. Null or blank clears them.' }),
    storeCredit: t.field({ type: 'Decimal', description: 'Store credit, 0 or more, exact to 4 places. Cannot be null or blank.' }),
    registrationIpAddress: t.field({ type: 'IP', description: 'An IPv4 or IPv6 address. Null clears it.' }),
    customerGroupId: t.int({ description: 'The customer group, 0 or more. Null clears it.' }),
    taxExemptCategory: t.string({ description: 'Tax exemption code, up to 255 characters, trimmed. Null or blank clears it.' }),
  };
}

export const UpdateCustomerInput = builder.inputType('UpdateCustomerInput', {
  description:
    'The fields to change. A field left out is unchanged; null clears a field the customer may lack. ' +
    'Text is trimmed of surrounding white space, which is not stored and does not count toward lengths.',
  fields: (t) => ({
    firstName: t.string({ description: '1 to 100 characters. Cannot be null or blank.' }),
    lastName: t.string({ description: '1 to 100 characters. Cannot be null or blank.' }),
    email: t.field({
      type: 'EmailAddress',
      description: '3 to 255 characters, unique among customers without regard to case. Cannot be null or blank.',
    }),
    ...optionalFields(t),
    resetPassOnLogin: t.boolean({ description: 'Whether the customer must choose a new password at next login. Cannot be null.' }),
    authentication: t.field({ type: AuthenticationInput, description: 'A new password and password options.' }),
  }),
});

export const UpdateCustomersItem = builder.inputType('UpdateCustomersItem', {
  description: 'One customer\'s change in updateCustomers, with the same rules as updateCustomer\'s arguments.',
  fields: (t) => ({
    id: t.id({ required: true, description: 'The numeric customer id; each customer at most once per batch.' }),
    input: t.field({ type: UpdateCustomerInput, required: true, description: 'The fields to change.' }),
    expectedVersion: t.int({
      description: 'The version this change is based on; when the customer is at another one, nothing in the batch is written (VERSION_CONFLICT).',
    }),
  }),
});

export const CreateCustomerInput = builder.inputType('CreateCustomerInput', {
  description:
    'A new customer. Left out: storeCredit is 0, resetPassOnLogin false, and a strong random password is set (never shown). ' +
    'Text is trimmed of surrounding white space.',
  fields: (t) => ({
    firstName: t.string({ required: true, description: '1 to 100 characters.' }),
    lastName: t.string({ required: true, description: '1 to 100 characters.' }),
    email: t.field({ type: 'EmailAddress', required: true, description: '3 to 255 characters, unique among customers without regard to case.' }),
    ...optionalFields(t),
    authentication: t.field({
      type: AuthenticationInput,
      description: 'The password (a strong random one when left out) and whether it must be changed at first login.',
    }),
  }),
});

export const DateTimeRange = builder.inputType('DateTimeRange', {
  description: 'A span of time; both ends are included, and either may be left out.',
  fields: (t) => ({
    from: t.field({ type: 'DateTime', description: 'The earliest time included.' }),
    to: t.field({ type: 'DateTime', description: 'The latest time included.' }),
  }),
});

export const CustomerFilter = builder.inputType('CustomerFilter', {
  description: 'Which customers to list; every condition given must hold.',
  fields: (t) => ({
    email: t.string({ description: 'The whole email address, without regard to case.' }),
    name: t.string({ description: 'Part of the first or the last name, without regard to case.' }),
    customerGroupId: t.int({ description: 'Customers of this group.' }),
    dateModified: t.field({ type: DateTimeRange, description: 'Customers last changed in this span.' }),
  }),
});
