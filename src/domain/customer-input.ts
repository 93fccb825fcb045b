/**
 * The rules for the fields a client may write: trimming, lengths, required fields, `null` that
 * clears, and the password rules. Every problem of an input is collected, none stops the others.
 */
import { isIP } from 'node:net';
import type { DomainError, ErrorPath, PlainErrorCode } from './errors.ts';
import { isNegative, parseDecimal, DecimalFormatError } from './money.ts';
import { passwordWeaknesses } from './passwords.ts';

/** A client's password choices; `null` and left out mean the same: no choice made. */
export interface AuthenticationInput {
  password?: string | null;
  passwordConfirmation?: string | null;
  forceReset?: boolean | null;
}

/**
 * The writable fields, as the API names them. Left out (undefined) means unchanged; `null`
 * clears a field the customer may lack. storeCredit is a decimal's text, e.g. "12.5".
 */
export interface CustomerInput {
  firstName?: string | null;
  lastName?: string | null;
  email?: string | null;
  company?: string | null;
  phone?: string | null;
  notes?: string | null;
  storeCredit?: string | null;
  registrationIpAddress?: string | null;
  customerGroupId?: number | null;
  taxExemptCategory?: string | null;
  resetPassOnLogin?: boolean | null;
  authentication?: AuthenticationInput | null;
}

/** The values to store, trimmed and canonical; only the fields the input named are present. */
export interface CustomerValues {
  firstName?: string;
  lastName?: string;
  email?: string;
  company?: string | null;
  phone?: string | null;
  notes?: string | null;
  /** Canonical 4-place text. */
  storeCredit?: string;
  registrationIpAddress?: string | null;
  customerGroupId?: number | null;
  taxExemptCategory?: string | null;
  resetPassOnLogin?: boolean;
}

export type CustomerField = keyof CustomerValues;

/** The fields in the order the API lists them: errors and history follow it. */
export const CUSTOMER_FIELDS: readonly CustomerField[] = [
  'firstName',
  'lastName',
  'email',
  'company',
  'phone',
  'notes',
  'storeCredit',
  'registrationIpAddress',
  'customerGroupId',
  'taxExemptCategory',
  'resetPassOnLogin',
];

interface TextRule {
  required: boolean;
  maxLength: number;
  minLength?: number;
  /** A format check on the trimmed value; returns the complaint or null. */
  format?: (value: string) => string | null;
}

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+$/;
/** NUL, or half of a surrogate pair without its other half: text PostgreSQL cannot store as sent. */
export const UNSTORABLE_TEXT = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Lengths are in characters (Unicode code points), as PostgreSQL's varchar counts them. */
export const TEXT_RULES = {
  firstName: { required: true, maxLength: 100 },
  lastName: { required: true, maxLength: 100 },
  email: {
    required: true,
    minLength: 3,
    maxLength: 255,
    // The EmailAddress scalar checks the full syntax; this keeps the rule true without it.
    format: (value) => (EMAIL_SHAPE.test(value) ? null : 'is not an email address'),
  },
  company: { required: false, maxLength: 255 },
  phone: { required: false, maxLength: 50 },
  notes: { required: false, maxLength: 65_535 },
  registrationIpAddress: {
    required: false,
    maxLength: 45,
    format: (value) => (isIP(value) ? null : 'is not an IPv4 or IPv6 address'),
  },
  taxExemptCategory: { required: false, maxLength: 255 },
} satisfies Record<string, TextRule>;

type TextField = keyof typeof TEXT_RULES;

export interface CheckedInput {
  values: CustomerValues;
  /** The new password in plain text, to be hashed and forgotten; absent when unchanged. */
  password?: string;
  errors: DomainError[];
}

/**
 * Checks an update: every field is optional, and `required` fields may not be cleared. `path`
 * is where the input sits among the mutation's arguments, e.g. ["input"].
 */
export function checkUpdateInput(input: CustomerInput, path: ErrorPath = ['input']): CheckedInput {
  return checkInput(input, path, 'update');
}

/** Checks a creation: firstName, lastName and email must be given. */
export function checkCreateInput(input: CustomerInput, path: ErrorPath = ['input']): CheckedInput {
  return checkInput(input, path, 'create');
}

function checkInput(input: CustomerInput, base: ErrorPath, mode: 'update' | 'create'): CheckedInput {
  const values: CustomerValues = {};
  const errors: DomainError[] = [];
  const at = (...rest: string[]) => [...base, ...rest];
  const fail = (code: PlainErrorCode, path: ErrorPath, message: string) => {
    errors.push({ code, path, message });
  };

  for (const field of CUSTOMER_FIELDS) {
    const given = input[field];
    if (given === undefined) {
      if (mode === 'create' && field in TEXT_RULES && TEXT_RULES[field as TextField].required) {
        fail('REQUIRED', at(field), `${field} is required`);
      }
      continue;
    }
    if (field in TEXT_RULES) {
      const checked = checkText(field as TextField, given as string | null, at(field));
      if ('error' in checked) errors.push(checked.error);
      else (values as Record<string, unknown>)[field] = checked.value;
    } else if (field === 'storeCredit') {
      const checked = checkStoreCredit(given as string | null, at(field));
      if ('error' in checked) errors.push(checked.error);
      else values.storeCredit = checked.value;
    } else if (field === 'customerGroupId') {
      const id = given as number | null;
      if (id !== null && !(Number.isInteger(id) && id >= 0 && id <= 2_147_483_647)) {
        fail('INVALID', at(field), 'customerGroupId must be a whole number, 0 or more');
      } else values.customerGroupId = id;
    } else if (field === 'resetPassOnLogin') {
      if (given === null) fail('REQUIRED', at(field), 'resetPassOnLogin cannot be null; send true or false');
      else values.resetPassOnLogin = given as boolean;
    }
  }

  let password: string | undefined;
  const authentication = input.authentication;
  if (authentication) {
    const authPath = at('authentication');
    const { password: chosen, passwordConfirmation, forceReset } = authentication;
    if (chosen !== undefined && chosen !== null) {
      const weaknesses = passwordWeaknesses(chosen);
      if (weaknesses.length > 0) {
        fail('PASSWORD_TOO_WEAK', [...authPath, 'password'], `The password must ${weaknesses.join(' and ')}`);
      } else password = chosen;
    }
    if (passwordConfirmation !== undefined && passwordConfirmation !== null && passwordConfirmation !== chosen) {
      fail('PASSWORD_MISMATCH', [...authPath, 'passwordConfirmation'], 'passwordConfirmation does not match password');
    }
    if (forceReset !== undefined && forceReset !== null) {
      if (values.resetPassOnLogin !== undefined && values.resetPassOnLogin !== forceReset) {
        fail('INVALID', [...authPath, 'forceReset'], 'forceReset and resetPassOnLogin disagree; send one of them');
      } else values.resetPassOnLogin = forceReset;
    }
  }

  return password === undefined ? { values, errors } : { values, password, errors };
}

type Checked<T> = { value: T } | { error: DomainError };

function checkText(field: TextField, given: string | null, path: ErrorPath): Checked<string | null> {
  const rule: TextRule = TEXT_RULES[field];
  const error = (code: PlainErrorCode, message: string): Checked<never> => ({ error: { code, path, message } });
  if (given === null) {
    return rule.required ? error('REQUIRED', `${field} is required and cannot be cleared`) : { value: null };
  }
  // PostgreSQL cannot store NUL, and a lone surrogate would be stored as something else.
  if (UNSTORABLE_TEXT.test(given)) return error('INVALID', `${field} contains characters that cannot be stored`);
  const value = given.trim();
  if (value === '') {
    // A blank optional field is the same as no value: one way to say "none".
    return rule.required ? error('REQUIRED', `${field} is required and cannot be blank`) : { value: null };
  }
  const length = [...value].length;
  if (length > rule.maxLength) return error('TOO_LONG', `${field} must be at most ${rule.maxLength} characters, not ${length}`);
  if (rule.minLength !== undefined && length < rule.minLength) {
    return error('INVALID', `${field} must be at least ${rule.minLength} characters`);
  }
  const complaint = rule.format?.(value);
  if (complaint) return error('INVALID', `${field} ${complaint}`);
  return { value };
}

function checkStoreCredit(given: string | null, path: ErrorPath): Checked<string> {
  if (given === null || given.trim() === '') {
    return { error: { code: 'REQUIRED', path, message: 'storeCredit is required; send 0 for none' } };
  }
  let amount: string;
  try {
    amount = parseDecimal(given.trim());
  } catch (error) {
    if (error instanceof DecimalFormatError) return { error: { code: 'INVALID', path, message: error.message } };
    throw error;
  }
  if (isNegative(amount)) return { error: { code: 'INVALID', path, message: 'storeCredit cannot be negative' } };
  return { value: amount };
}
