/**
 * The input types of the customer mutations and of the `customers` query. Read-only Customer
 * fields (dateCreated, version, ...) are in none of them: sending one is a GraphQL validation
 * error before anything runs.
 */
import type { InputFieldBuilder, InputFieldRef } from '@pothos/core';
import { describeInputRule, FIELD_NAMES, fieldSpec, type CustomerField, type CustomerFieldInput, type FieldKind } from '../../domain/customer-fields.ts';
import { FILTER_MAX_LENGTH, NAME_CONTAINS_MIN_RUN } from '../../domain/customer-search.ts';
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

const SCALARS = {
  text: 'String',
  email: 'EmailAddress',
  decimal: 'Decimal',
  ip: 'IP',
  integer: 'Int',
  boolean: 'Boolean',
} as const satisfies Record<FieldKind, string>;

/** The writable fields from the field table, in its order, with its rules as descriptions. */
function customerFields(t: InputFieldBuilder<Types, 'InputObject'>, mode: 'update' | 'create') {
  const fields: Record<string, InputFieldRef<Types, unknown>> = {};
  for (const field of FIELD_NAMES) {
    const spec = fieldSpec(field);
    if (mode === 'create' && spec.onCreate === 'absent') continue;
    fields[field] = t.field({
      type: SCALARS[spec.kind] as 'String',
      required: mode === 'create' && spec.onCreate === 'required',
      description: describeInputRule(field, mode),
    }) as InputFieldRef<Types, unknown>;
  }
  return fields as { [F in CustomerField]: InputFieldRef<Types, CustomerFieldInput[F]> };
}

export const UpdateCustomerInput = builder.inputType('UpdateCustomerInput', {
  description:
    'The fields to change. A field left out is unchanged; null clears a field the customer may lack. ' +
    'Text is trimmed of surrounding white space, which is not stored and does not count toward lengths.',
  fields: (t) => ({
    ...customerFields(t, 'update'),
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
    ...customerFields(t, 'create'),
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
  description: 'Which customers to list; every condition given must hold. Text holding NUL or half a surrogate pair is BAD_USER_INPUT.',
  fields: (t) => ({
    email: t.string({
      description: `The whole email address, without regard to case; at most ${FILTER_MAX_LENGTH.email} characters (BAD_USER_INPUT when longer).`,
    }),
    name: t.string({
      description:
        `Part of the first or the last name, without regard to case: text with ${NAME_CONTAINS_MIN_RUN} or more letters or digits in a row ` +
        '(`smi`, `O\'Bri`) matches anywhere in either name; shorter text (`Li`, `Wu`, `J.`) matches a first or last name that starts with it. ' +
        `% and _ are the characters themselves. BAD_USER_INPUT when it has no letter or digit, or more than ${FILTER_MAX_LENGTH.name} characters.`,
    }),
    customerGroupId: t.int({ description: 'Customers of this group.' }),
    dateModified: t.field({ type: DateTimeRange, description: 'Customers last changed in this span.' }),
  }),
});
