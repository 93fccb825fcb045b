/**
 * The pinned part of the public contract (API.md, "Schema"), checked against the schema the
 * server builds: every pinned type, field, argument (with its default), input field, enum value
 * and union member exists with exactly the pinned type. Output types may add fields; input
 * types may not, so no read-only field can slip into an input.
 */
import {
  buildSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isUnionType,
  print,
  astFromValue,
  type GraphQLField,
  type GraphQLInputField,
  type GraphQLNamedType,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.ts';

const PINNED = /* GraphQL */ `
  scalar DateTime
  scalar EmailAddress
  scalar IP
  scalar JSON
  scalar Decimal
  scalar URL

  type Query {
    customer(id: ID!): Customer
    customers(first: Int = 20, after: String, filter: CustomerFilter): CustomerConnection!
    passwordPolicy: PasswordPolicy!
    webhookEndpoints: [WebhookEndpoint!]!
  }

  type Mutation {
    createCustomer(input: CreateCustomerInput!, idempotencyKey: String): CreateCustomerPayload!
    updateCustomer(id: ID!, input: UpdateCustomerInput!, expectedVersion: Int, idempotencyKey: String): UpdateCustomerPayload!
    updateCustomers(items: [UpdateCustomersItem!]!, idempotencyKey: String): UpdateCustomersPayload!
    createWebhookEndpoint(input: CreateWebhookEndpointInput!): CreateWebhookEndpointPayload!
    deleteWebhookEndpoint(id: ID!): DeleteWebhookEndpointPayload!
    redeliverWebhookEvents(endpointId: ID!, afterEventId: ID): RedeliverWebhookEventsPayload!
  }

  input AuthenticationInput {
    password: String
    passwordConfirmation: String
    forceReset: Boolean
  }

  input UpdateCustomerInput {
    firstName: String
    lastName: String
    email: EmailAddress
    company: String
    phone: String
    notes: String
    storeCredit: Decimal
    registrationIpAddress: IP
    customerGroupId: Int
    taxExemptCategory: String
    resetPassOnLogin: Boolean
    authentication: AuthenticationInput
  }

  input CreateCustomerInput {
    firstName: String!
    lastName: String!
    email: EmailAddress!
    company: String
    phone: String
    notes: String
    storeCredit: Decimal
    registrationIpAddress: IP
    customerGroupId: Int
    taxExemptCategory: String
    authentication: AuthenticationInput
  }

  type Customer {
    id: ID!
    firstName: String!
    lastName: String!
    email: EmailAddress!
    company: String
    phone: String
    notes: String
    storeCredit: Decimal!
    registrationIpAddress: IP
    customerGroupId: Int
    taxExemptCategory: String
    resetPassOnLogin: Boolean!
    acceptsProductReviewAbandonedCartEmails: Boolean!
    formFields: [FormField!]!
    dateCreated: DateTime!
    dateModified: DateTime!
    version: Int!
    history(first: Int = 20, after: String): CustomerChangeConnection!
  }

  type FormField { name: String!  value: JSON }

  interface Error { message: String!  code: ErrorCode!  path: [String!]! }

  type ValidationError implements Error { message: String! code: ErrorCode! path: [String!]! }
  type EmailAlreadyInUseError implements Error { message: String! code: ErrorCode! path: [String!]! }
  type CustomerNotFoundError implements Error { message: String! code: ErrorCode! path: [String!]! }
  type VersionConflictError implements Error { message: String! code: ErrorCode! path: [String!]! currentVersion: Int! }
  type IdempotencyKeyReusedError implements Error { message: String! code: ErrorCode! path: [String!]! }

  enum ErrorCode { INVALID REQUIRED TOO_LONG TAKEN NOT_FOUND PASSWORD_MISMATCH PASSWORD_TOO_WEAK VERSION_CONFLICT IDEMPOTENCY_KEY_REUSED }

  union UpdateCustomerError = ValidationError | EmailAlreadyInUseError | CustomerNotFoundError | VersionConflictError | IdempotencyKeyReusedError
  union CreateCustomerError = ValidationError | EmailAlreadyInUseError | IdempotencyKeyReusedError

  type UpdateCustomerPayload { customer: Customer  errors: [UpdateCustomerError!]! }
  type CreateCustomerPayload { customer: Customer  errors: [CreateCustomerError!]! }

  # "Batch updates and history"
  input UpdateCustomersItem { id: ID!  input: UpdateCustomerInput!  expectedVersion: Int }
  type UpdateCustomersPayload { customers: [Customer!]  errors: [UpdateCustomerError!]! }
  type CustomerChange { id: ID!  at: DateTime!  actor: String!  version: Int!  changes: [FieldChange!]! }
  type FieldChange { field: String!  from: JSON  to: JSON }

  # "Change events: webhooks and a live feed" (endpoint management)
  enum CustomerEventType { CUSTOMER_CREATED CUSTOMER_UPDATED }
  input CreateWebhookEndpointInput { url: URL!  eventTypes: [CustomerEventType!] }
  type CreateWebhookEndpointPayload { endpoint: WebhookEndpoint  secret: String  errors: [ValidationError!]! }
  type DeleteWebhookEndpointPayload { deletedId: ID  errors: [ValidationError!]! }
  type RedeliverWebhookEventsPayload { queued: Int!  errors: [ValidationError!]! }
  type WebhookEndpoint {
    id: ID!  url: URL!  eventTypes: [CustomerEventType!]!  enabled: Boolean!  createdAt: DateTime!
    deliveries(first: Int = 20, after: String, status: WebhookDeliveryStatus): WebhookDeliveryConnection!
  }
  enum WebhookDeliveryStatus { PENDING DELIVERED FAILED }
  type WebhookDelivery {
    id: ID!  eventId: ID!  eventType: CustomerEventType!  status: WebhookDeliveryStatus!  attempts: Int!
    lastStatusCode: Int  lastError: String  lastAttemptAt: DateTime  nextAttemptAt: DateTime  deliveredAt: DateTime
  }
  type WebhookDeliveryConnection { edges: [WebhookDeliveryEdge!]! pageInfo: PageInfo! }
  type WebhookDeliveryEdge { cursor: String! node: WebhookDelivery! }
  type Subscription {
    customerChanges(after: String, customerId: ID): CustomerChangeEvent!
  }
  type CustomerChangeEvent { cursor: String!  type: CustomerEventType!  customerId: ID!  change: CustomerChange! }

  # Yours to shape, but they must exist.
  type CustomerConnection { edges: [CustomerEdge!]! pageInfo: PageInfo! }
  type CustomerEdge { cursor: String! node: Customer! }
  type CustomerChangeConnection { edges: [CustomerChangeEdge!]! pageInfo: PageInfo! }
  type CustomerChangeEdge { cursor: String! node: CustomerChange! }
  type PageInfo { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
  input CustomerFilter { email: String name: String customerGroupId: Int }
  type PasswordPolicy { minLength: Int! maxLength: Int! requiresLetter: Boolean! requiresDigit: Boolean! rejectsCommonPasswords: Boolean! }
`;

const pinned = buildSchema(PINNED);
const pinnedTypes = Object.values(pinned.getTypeMap()).filter((type) => !type.name.startsWith('__') && !['String', 'Int', 'Boolean', 'ID', 'Float'].includes(type.name));
/** Types the contract leaves to us: their pinned fields must exist, extra ones are fine. */
const OPEN_INPUTS = new Set(['CustomerFilter']);

function actual(name: string): GraphQLNamedType {
  const type = schema.getType(name);
  if (!type) throw new Error(`${name} is missing from the schema`);
  return type;
}

function argumentSignature(field: GraphQLField<unknown, unknown>) {
  return Object.fromEntries(
    field.args.map((arg) => {
      const defaultValue = arg.defaultValue === undefined ? undefined : print(astFromValue(arg.defaultValue, arg.type)!);
      return [arg.name, `${String(arg.type)}${defaultValue === undefined ? '' : ` = ${defaultValue}`}`];
    }),
  );
}

function inputFieldSignature(fields: Record<string, GraphQLInputField>) {
  return Object.fromEntries(Object.values(fields).map((field) => [field.name, String(field.type)]));
}

describe('the schema keeps the pinned contract', () => {
  for (const expected of pinnedTypes) {
    it(`${expected.name}`, () => {
      const found = actual(expected.name);
      if (isScalarType(expected)) {
        expect(isScalarType(found)).toBe(true);
      } else if (isEnumType(expected)) {
        expect(isEnumType(found) && found.getValues().map((value) => value.name).sort()).toEqual(expected.getValues().map((value) => value.name).sort());
      } else if (isUnionType(expected)) {
        expect(isUnionType(found) && found.getTypes().map((type) => type.name).sort()).toEqual(expected.getTypes().map((type) => type.name).sort());
      } else if (isInputObjectType(expected)) {
        expect(isInputObjectType(found)).toBe(true);
        const fields = inputFieldSignature(isInputObjectType(found) ? found.getFields() : {});
        const want = inputFieldSignature(expected.getFields());
        if (OPEN_INPUTS.has(expected.name)) expect(fields).toMatchObject(want);
        else expect(fields).toEqual(want);
      } else if (isObjectType(expected) || isInterfaceType(expected)) {
        expect(isObjectType(found) || isInterfaceType(found)).toBe(true);
        const foundFields = (found as typeof expected).getFields();
        for (const field of Object.values(expected.getFields())) {
          const mine = foundFields[field.name];
          expect(mine, `${expected.name}.${field.name}`).toBeDefined();
          expect(String(mine!.type), `${expected.name}.${field.name}`).toBe(String(field.type));
          expect(argumentSignature(mine!), `${expected.name}.${field.name} arguments`).toEqual(argumentSignature(field));
        }
        const interfaces = (type: typeof expected) => type.getInterfaces().map((each) => each.name).sort();
        expect(interfaces(found as typeof expected)).toEqual(expect.arrayContaining(interfaces(expected)));
      }
    });
  }

  it('no input type carries a read-only Customer field', () => {
    const readOnly = ['id', 'dateCreated', 'dateModified', 'version', 'acceptsProductReviewAbandonedCartEmails', 'formFields'];
    for (const name of ['UpdateCustomerInput', 'CreateCustomerInput', 'AuthenticationInput']) {
      const type = actual(name);
      expect(isInputObjectType(type)).toBe(true);
      const fields = Object.keys(isInputObjectType(type) ? type.getFields() : {});
      expect(fields.filter((field) => readOnly.includes(field))).toEqual([]);
    }
  });

  it('every type, field and argument of ours has a description', () => {
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || ['String', 'Int', 'Boolean', 'ID', 'Float'].includes(type.name)) continue;
      // Federation's own types, as its specification defines them (the fields using them are ours).
      if (['_Any', '_Entity', '_Service'].includes(type.name)) continue;
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of field.args) if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
      if (isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) if (!field.description) missing.push(`${type.name}.${field.name}`);
      }
      if (isEnumType(type)) {
        for (const value of type.getValues()) if (!value.description) missing.push(`${type.name}.${value.name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
