/**
 * The field table is the one list of writable fields: every surface that names fields must name
 * each of them, in the table's order. A field added to the table and forgotten elsewhere fails here.
 */
import { readFileSync } from 'node:fs';
import { getNamedType, isNonNullType, type GraphQLInputObjectType, type GraphQLObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { CUSTOMER_COLUMNS, CUSTOMER_FIELDS, FIELD_NAMES, fieldSpec } from '../../src/domain/customer-fields.ts';
import { checkCreateInput, checkUpdateInput } from '../../src/domain/customer-input.ts';
import { inOrder } from '../../src/domain/errors.ts';
import { getDatamodel } from '../../src/generated/pothos-prisma-types.ts';
import { schema } from '../../src/schema/index.ts';

const SCALAR_OF_KIND = { text: 'String', email: 'EmailAddress', decimal: 'Decimal', ip: 'IP', integer: 'Int', boolean: 'Boolean' };

/** A valid value of each field, as a client would send it. */
const SAMPLE = { text: 'Some text', email: 'someone@example.com', decimal: '12.5', ip: '192.0.2.1', integer: 7, boolean: true };

describe('the customer field table', () => {
  const update = schema.getType('UpdateCustomerInput') as GraphQLInputObjectType;
  const create = schema.getType('CreateCustomerInput') as GraphQLInputObjectType;
  const customer = schema.getType('Customer') as GraphQLObjectType;
  const model = getDatamodel().datamodel.models.Customer!;
  const CUSTOMER_MODEL = /model Customer \{[^}]*\}/.exec(readFileSync(new URL('../../prisma/schema.prisma', import.meta.url), 'utf8'))![0];

  it.each(FIELD_NAMES)('%s is in every surface', (field) => {
    const spec = fieldSpec(field);
    // The GraphQL inputs, with the table's type and rule.
    const updateField = update.getFields()[field];
    expect(updateField, 'UpdateCustomerInput').toBeDefined();
    expect(getNamedType(updateField!.type).name).toBe(SCALAR_OF_KIND[spec.kind]);
    expect(isNonNullType(updateField!.type)).toBe(false);
    const createField = create.getFields()[field];
    if (spec.onCreate === 'absent') expect(createField, 'CreateCustomerInput').toBeUndefined();
    else expect(isNonNullType(createField!.type), 'CreateCustomerInput').toBe(spec.onCreate === 'required');
    if (spec.maxLength !== undefined && spec.kind !== 'ip') {
      expect(updateField!.description).toContain(spec.maxLength.toLocaleString('en-US'));
    }
    // The output type.
    expect(customer.getFields()[field], 'Customer').toBeDefined();
    // The Prisma model, on the table's column.
    const line = new RegExp(`^\\s+${field}\\s+\\S+(.*)$`, 'm').exec(CUSTOMER_MODEL);
    expect(line, 'schema.prisma').not.toBeNull();
    expect(/@map\("([^"]+)"\)/.exec(line![1]!)?.[1] ?? field).toBe(spec.column);
    // The columns the write statements are built from.
    expect(CUSTOMER_COLUMNS.find((column) => column.field === field)?.column).toBe(spec.column);
    // The input rules accept a valid value and keep it.
    const checked = checkUpdateInput({ [field]: SAMPLE[spec.kind] });
    expect(checked.errors).toEqual([]);
    expect(checked.values).toHaveProperty(field);
    // Error order follows the table.
    expect(inOrder([{ code: 'INVALID', path: ['input', field], message: '' }, { code: 'INVALID', path: ['input', 'authentication'], message: '' }])[0]!.path).toEqual([
      'input',
      field,
    ]);
  });

  it('lists the inputs in the table\'s order', () => {
    expect(Object.keys(update.getFields())).toEqual([...FIELD_NAMES, 'authentication'].sort());
    const tableOrder = FIELD_NAMES.filter((field) => CUSTOMER_FIELDS[field].onCreate !== 'absent');
    const errors = checkCreateInput({ firstName: null, lastName: null, email: null } as never).errors.map((error) => error.path[1]);
    expect(errors).toEqual(tableOrder.filter((field) => CUSTOMER_FIELDS[field].onCreate === 'required'));
  });

  it('has a column for every writable column of the Prisma model', () => {
    const readOnly = new Set(['id', 'acceptsProductReviewAbandonedCartEmails', 'passwordHash', 'version', 'dateCreated', 'dateModified']);
    const writable = model.fields.filter((field) => field.kind === 'scalar' && !readOnly.has(field.name)).map((field) => field.name);
    expect(writable.sort()).toEqual([...FIELD_NAMES].sort());
  });
});
