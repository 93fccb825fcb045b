/**
 * The rules for what a client writes, driven by the field table: trimming, lengths, required
 * fields, `null` that clears, and the password rules. Every problem of an input is collected;
 * none stops the others.
 */
import { isIP } from 'node:net';
import { FIELD_NAMES, fieldSpec, type CustomerField, type CustomerFieldInput, type CustomerValues, type FieldSpec } from './customer-fields.ts';
import type { DomainError, ErrorPath, PlainErrorCode } from './errors.ts';
import { isNegative, parseDecimal, DecimalFormatError } from './money.ts';
import { passwordWeaknesses } from './passwords.ts';

export type { CustomerValues } from './customer-fields.ts';

/** A client's password choices; `null` and left out mean the same: no choice made. */
export interface AuthenticationInput {
  password?: string | null;
  passwordConfirmation?: string | null;
  forceReset?: boolean | null;
}

/** The writable fields and the password choices. storeCredit is a decimal's text, e.g. "12.5". */
export type CustomerInput = CustomerFieldInput & { authentication?: AuthenticationInput | null };

export interface CheckedInput {
  values: CustomerValues;
  /** The new password in plain text, to be hashed and forgotten; absent when unchanged. */
  password?: string;
  errors: DomainError[];
}

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+$/;
/** NUL, or half of a surrogate pair without its other half: text PostgreSQL cannot store as sent. */
export const UNSTORABLE_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const MAX_INTEGER = 2_147_483_647;

/**
 * Checks an update: every field is optional, and `required` fields may not be cleared. `path`
 * is where the input sits among the mutation's arguments, e.g. ["input"].
 */
export function checkUpdateInput(input: CustomerInput, path: ErrorPath = ['input']): CheckedInput {
  return checkInput(input, path, 'update');
}

/** Checks a creation: the fields the table marks required on creation must be given. */
export function checkCreateInput(input: CustomerInput, path: ErrorPath = ['input']): CheckedInput {
  return checkInput(input, path, 'create');
}

type Checked = { value: string | number | boolean | null } | { error: DomainError };

function checkInput(input: CustomerInput, base: ErrorPath, mode: 'update' | 'create'): CheckedInput {
  const values: Record<string, unknown> = {};
  const errors: DomainError[] = [];

  for (const field of FIELD_NAMES) {
    const spec = fieldSpec(field);
    const given = input[field];
    if (given === undefined) {
      if (mode === 'create' && spec.onCreate === 'required') errors.push({ code: 'REQUIRED', path: [...base, field], message: `${field} is required` });
      continue;
    }
    const checked = checkField(field, spec, given, [...base, field]);
    if ('error' in checked) errors.push(checked.error);
    else values[field] = checked.value;
  }

  let password: string | undefined;
  const authentication = input.authentication;
  if (authentication) {
    const authPath = [...base, 'authentication'];
    const { password: chosen, passwordConfirmation, forceReset } = authentication;
    if (chosen !== undefined && chosen !== null) {
      const weaknesses = passwordWeaknesses(chosen);
      if (weaknesses.length > 0) {
        errors.push({ code: 'PASSWORD_TOO_WEAK', path: [...authPath, 'password'], message: `The password must ${weaknesses.join(' and ')}` });
      } else password = chosen;
    }
    if (passwordConfirmation !== undefined && passwordConfirmation !== null && passwordConfirmation !== chosen) {
      errors.push({ code: 'PASSWORD_MISMATCH', path: [...authPath, 'passwordConfirmation'], message: 'passwordConfirmation does not match password' });
    }
    if (forceReset !== undefined && forceReset !== null) {
      if (values.resetPassOnLogin !== undefined && values.resetPassOnLogin !== forceReset) {
        errors.push({ code: 'INVALID', path: [...authPath, 'forceReset'], message: 'forceReset and resetPassOnLogin disagree; send one of them' });
      } else values.resetPassOnLogin = forceReset;
    }
  }

  const result = { values: values as CustomerValues, errors };
  return password === undefined ? result : { ...result, password };
}

function checkField(field: CustomerField, spec: FieldSpec, given: string | number | boolean | null, path: ErrorPath): Checked {
  const fail = (code: PlainErrorCode, message: string): Checked => ({ error: { code, path, message } });
  if (given === null) {
    if (!spec.required) return { value: null };
    if (spec.kind === 'boolean') return fail('REQUIRED', `${field} cannot be null; send true or false`);
    if (spec.kind === 'decimal') return fail('REQUIRED', `${field} is required; send 0 for none`);
    return fail('REQUIRED', `${field} is required and cannot be cleared`);
  }
  switch (spec.kind) {
    case 'boolean':
      return { value: given as boolean };
    case 'integer': {
      const id = given as number;
      return Number.isInteger(id) && id >= 0 && id <= MAX_INTEGER ? { value: id } : fail('INVALID', `${field} must be a whole number, 0 or more`);
    }
    case 'decimal':
      return checkDecimal(field, given as string, fail);
    default:
      return checkText(field, spec, given as string, fail);
  }
}

function checkText(field: CustomerField, spec: FieldSpec, given: string, fail: (code: PlainErrorCode, message: string) => Checked): Checked {
  // PostgreSQL cannot store NUL, and a lone surrogate would be stored as something else.
  if (UNSTORABLE_TEXT.test(given)) return fail('INVALID', `${field} contains characters that cannot be stored`);
  const value = given.trim();
  // A blank optional field is the same as no value: one way to say "none".
  if (value === '') return spec.required ? fail('REQUIRED', `${field} is required and cannot be blank`) : { value: null };
  const length = [...value].length;
  if (spec.maxLength !== undefined && length > spec.maxLength) {
    return fail('TOO_LONG', `${field} must be at most ${spec.maxLength} characters, not ${length}`);
  }
  if (spec.minLength !== undefined && length < spec.minLength) return fail('INVALID', `${field} must be at least ${spec.minLength} characters`);
  // The EmailAddress and IP scalars check the full syntax; these keep the rules true without them.
  if (spec.kind === 'email' && !EMAIL_SHAPE.test(value)) return fail('INVALID', `${field} is not an email address`);
  if (spec.kind === 'ip' && !isIP(value)) return fail('INVALID', `${field} is not an IPv4 or IPv6 address`);
  return { value };
}

function checkDecimal(field: CustomerField, given: string, fail: (code: PlainErrorCode, message: string) => Checked): Checked {
  if (given.trim() === '') return fail('REQUIRED', `${field} is required; send 0 for none`);
  let amount: string;
  try {
    amount = parseDecimal(given.trim());
  } catch (error) {
    if (error instanceof DecimalFormatError) return fail('INVALID', error.message);
    throw error;
  }
  return isNegative(amount) ? fail('INVALID', `${field} cannot be negative`) : { value: amount };
}
