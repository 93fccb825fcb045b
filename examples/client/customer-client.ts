/**
 * A small typed client for the gateway, on Apollo Client and the documents GraphQL Code Generator
 * writes from `examples/operations/` (`npm run codegen`). The web example uses it; it type-checks
 * against the generated types, so a schema change that would break clients breaks this first.
 */
import { ApolloClient, HttpLink, InMemoryCache } from '@apollo/client';
import {
  CustomerDocument,
  UpdateCustomerDocument,
  type CustomerFieldsFragment,
  type UpdateCustomerInput,
  type UpdateCustomerMutation,
} from '@generated/graphql';
import introspection from '@generated/possible-types';

export type Customer = CustomerFieldsFragment;
export type { UpdateCustomerInput };
export type UpdateError = UpdateCustomerMutation['updateCustomer']['errors'][number];

export interface ClientOptions {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql or a same-origin /graphql. */
  uri: string;
  /** An API token with customers:write (customers:read to only read). */
  token: string;
}

export function createCustomerClient({ uri, token }: ClientOptions): ApolloClient {
  return new ApolloClient({
    link: new HttpLink({ uri, headers: { 'X-Auth-Token': token } }),
    cache: new InMemoryCache({
      // Without these the cache cannot tell that `... on Error` applies to EmailAlreadyInUseError
      // and the other union members, and drops `code`, `path` and `message` from every error.
      possibleTypes: introspection.possibleTypes,
    }),
  });
}

/** The customer, or null when no customer has this id. Always asks the server. */
export async function loadCustomer(client: ApolloClient, id: string): Promise<Customer | null> {
  const { data } = await client.query({ query: CustomerDocument, variables: { id }, fetchPolicy: 'network-only' });
  return data?.customer ?? null;
}

export type SaveResult = { saved: true; customer: Customer } | { saved: false; errors: UpdateError[] };

/**
 * Runs updateCustomer. Typed errors (the payload's `errors`) come back as a result; anything else
 * (no or a bad token, a malformed value, the network) is thrown by Apollo Client.
 * On success Apollo's cache already holds the new values under the customer's id.
 */
export async function saveCustomer(
  client: ApolloClient,
  id: string,
  input: UpdateCustomerInput,
  expectedVersion?: number,
): Promise<SaveResult> {
  const { data } = await client.mutate({ mutation: UpdateCustomerDocument, variables: { id, input, expectedVersion } });
  if (!data) throw new Error('updateCustomer returned no data');
  const { customer, errors } = data.updateCustomer;
  if (errors.length > 0) return { saved: false, errors };
  if (!customer) throw new Error('updateCustomer returned neither a customer nor errors');
  return { saved: true, customer };
}

/** The names of the form fields an error can belong to: the input's fields, the password's, and the id. */
export type FormField = Exclude<keyof UpdateCustomerInput, 'authentication'> | 'password' | 'passwordConfirmation' | 'forceReset' | 'id';

const AUTHENTICATION_FIELDS: ReadonlySet<string> = new Set(['password', 'passwordConfirmation', 'forceReset']);

/**
 * The form field an error's `path` names: ["input","email"] is `email`,
 * ["input","authentication","password"] is `password`, ["id"] is `id`. Null for errors about the
 * request as a whole (e.g. ["expectedVersion"]).
 */
export function formFieldOf(error: UpdateError): FormField | null {
  const [head, second, third] = error.path;
  if (head === 'id' && second === undefined) return 'id';
  if (head !== 'input' || second === undefined) return null;
  if (second === 'authentication') return third !== undefined && AUTHENTICATION_FIELDS.has(third) ? (third as FormField) : null;
  return second as FormField;
}

/**
 * A sentence for people, by kind of error. The switch covers every member of the union: a new
 * kind of error in the schema makes this fail to compile until it is handled.
 */
export function describeError(error: UpdateError): string {
  switch (error.__typename) {
    case 'ValidationError':
      return error.message;
    case 'EmailAlreadyInUseError':
      return 'Another customer already uses this email address.';
    case 'CustomerNotFoundError':
      return 'No customer has this id.';
    case 'VersionConflictError':
      return `Someone else changed this customer meanwhile (it is now at version ${error.currentVersion}): load it again, then redo your change.`;
    case 'IdempotencyKeyReusedError':
      return error.message;
    default:
      return unhandled(error);
  }
}

function unhandled(error: never): never {
  throw new Error(`unhandled error ${JSON.stringify(error)}`);
}
