/**
 * The one table of the fields a client may write. Input rules, SQL columns and casts, history
 * values, the GraphQL input types and their descriptions, and the order of errors and changes
 * are all derived from it: adding a field starts here (see the README's "Adding a customer field").
 */
import type { ColumnSpec } from '../infra/database/customer-statements.ts';

/** How a field's value is checked, stored and shown. */
export type FieldKind = 'text' | 'email' | 'decimal' | 'ip' | 'integer' | 'boolean';

export interface FieldSpec {
  kind: FieldKind;
  /** The column in `customers`. */
  column: string;
  /** Null or blank is REQUIRED rather than clearing the field. */
  required: boolean;
  /** At creation: must be given, may be left out (then `createDefault`), or is not an input at all. */
  onCreate: 'required' | 'optional' | 'absent';
  /** What a creation stores when the field is left out (NOT NULL columns only). */
  createDefault?: string | boolean;
  /** In characters (Unicode code points), after trimming. */
  minLength?: number;
  maxLength?: number;
  /** What the field is, for people: the start of its GraphQL descriptions. */
  about: string;
}

export const CUSTOMER_FIELDS = {
  firstName: { kind: 'text', column: 'first_name', required: true, onCreate: 'required', maxLength: 100, about: 'First name' },
  lastName: { kind: 'text', column: 'last_name', required: true, onCreate: 'required', maxLength: 100, about: 'Last name' },
  email: {
    kind: 'email',
    column: 'email',
    required: true,
    onCreate: 'required',
    minLength: 3,
    maxLength: 255,
    about: 'Email address, unique among customers without regard to case',
  },
  company: { kind: 'text', column: 'company', required: false, onCreate: 'optional', maxLength: 255, about: 'Company' },
  phone: { kind: 'text', column: 'phone', required: false, onCreate: 'optional', maxLength: 50, about: 'Phone number' },
  notes: { kind: 'text', column: 'notes', required: false, onCreate: 'optional', maxLength: 65_535, about: 'Staff notes' },
  storeCredit: {
    kind: 'decimal',
    column: 'store_credit',
    required: true,
    onCreate: 'optional',
    createDefault: '0.0000',
    about: 'Store credit, 0 or more, exact to 4 places',
  },
  registrationIpAddress: {
    kind: 'ip',
    column: 'registration_ip_address',
    required: false,
    onCreate: 'optional',
    maxLength: 45,
    about: 'The IPv4 or IPv6 address the customer registered from',
  },
  customerGroupId: { kind: 'integer', column: 'customer_group_id', required: false, onCreate: 'optional', about: 'Customer group, 0 or more' },
  taxExemptCategory: {
    kind: 'text',
    column: 'tax_exempt_category',
    required: false,
    onCreate: 'optional',
    maxLength: 255,
    about: 'Tax exemption code',
  },
  resetPassOnLogin: {
    kind: 'boolean',
    column: 'reset_pass_on_login',
    required: true,
    // Set at creation through authentication.forceReset.
    onCreate: 'absent',
    createDefault: false,
    about: 'Whether the customer must choose a new password at next login',
  },
} as const satisfies Record<string, FieldSpec>;

export type CustomerField = keyof typeof CUSTOMER_FIELDS;

/** The fields in the order the API lists them: errors and history follow it. */
export const FIELD_NAMES = Object.keys(CUSTOMER_FIELDS) as CustomerField[];

export function fieldSpec(field: CustomerField): FieldSpec {
  return CUSTOMER_FIELDS[field];
}

type Spec<F extends CustomerField> = (typeof CUSTOMER_FIELDS)[F];
type KindValue<K extends FieldKind> = K extends 'integer' ? number : K extends 'boolean' ? boolean : string;

/**
 * The values to store, trimmed and canonical (money as 4-place text); only the fields an input
 * named are present, and `null` only for fields that may be cleared.
 */
export type CustomerValues = {
  -readonly [F in CustomerField]?: KindValue<Spec<F>['kind']> | (Spec<F>['required'] extends true ? never : null);
};

/** The writable fields as a client sends them: left out is unchanged, `null` clears or is refused. */
export type CustomerFieldInput = { [F in CustomerField]?: KindValue<Spec<F>['kind']> | null };

/** How each kind is stored: the SQL type a JSON value is cast to. */
const SQL_TYPES: Record<FieldKind, string> = {
  text: 'text',
  email: 'citext',
  decimal: 'numeric(20,4)',
  ip: 'text',
  integer: 'integer',
  boolean: 'boolean',
};

/** The writable columns, as the write statements are built from them. */
export const CUSTOMER_COLUMNS: readonly ColumnSpec[] = FIELD_NAMES.map((field) => {
  const spec = fieldSpec(field);
  return {
    field,
    column: spec.column,
    sqlType: SQL_TYPES[spec.kind],
    historyAsText: spec.kind === 'email' || spec.kind === 'decimal',
    createDefault: spec.createDefault,
  };
});

/** The rule of a field in words, for its GraphQL input descriptions. */
export function describeInputRule(field: CustomerField, mode: 'update' | 'create'): string {
  const spec = fieldSpec(field);
  const length =
    spec.maxLength === undefined || spec.kind === 'ip'
      ? ''
      : spec.required
        ? `${spec.minLength ?? 1} to ${spec.maxLength.toLocaleString('en-US')} characters`
        : `up to ${spec.maxLength.toLocaleString('en-US')} characters`;
  const trimmed = spec.kind === 'text' || spec.kind === 'email' ? 'trimmed' : '';
  const head = [spec.about, length, trimmed].filter(Boolean).join(', ');
  let tail: string;
  if (mode === 'create' && spec.onCreate === 'required') tail = '';
  else if (mode === 'create' && spec.createDefault !== undefined) tail = `Left out: ${String(spec.createDefault)}.`;
  else if (spec.required) tail = spec.kind === 'boolean' ? 'Cannot be null.' : 'Cannot be null or blank.';
  else tail = spec.kind === 'text' ? 'Null or blank clears it.' : 'Null clears it.';
  return `${head}.${tail ? ` ${tail}` : ''}`;
}

/** The rule of a field as stored, for the Customer type's descriptions. */
export function describeStoredRule(field: CustomerField): string {
  const spec = fieldSpec(field);
  if (spec.maxLength === undefined || spec.kind === 'ip') return `${spec.about}.`;
  const max = spec.maxLength.toLocaleString('en-US');
  return `${spec.about}, ${spec.required ? `${spec.minLength ?? 1} to ${max}` : `up to ${max}`} characters.`;
}
