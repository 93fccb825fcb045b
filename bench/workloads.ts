/**
 * What each variant is sent, and how a response proves it did what was asked.
 *
 * Write variants change the first name of random customers to values no customer has had before
 * in this run, so every successful request is exactly one write per customer it names
 * (version + 1), even for the gateway, which skips writes that change nothing. Read variants
 * write nothing: a success is a response carrying the customers that were asked for.
 */
import { seededLastName, type Trigger } from './database.ts';

export const VARIANTS = [
  'limit',
  'prisma',
  'postgraphile',
  'postgraphile-audited',
  'gateway',
  'gateway-pgbouncer',
  'gateway-batch',
  'gateway-webhook',
  'password',
  'mixed',
  'postgraphile-read',
  'gateway-read',
  'gateway-read-pgbouncer',
  'gateway-search',
] as const;
export type Variant = (typeof VARIANTS)[number];

/** Variants that write nothing; every other variant writes. */
const READ_VARIANTS: readonly Variant[] = ['postgraphile-read', 'gateway-read', 'gateway-read-pgbouncer', 'gateway-search'];
export type Effect = 'write' | 'read';
export const effectOf = (variant: Variant): Effect => (READ_VARIANTS.includes(variant) ? 'read' : 'write');

/** The server script under bench/servers/ each variant runs. */
export const SERVER_NAMES = ['limit', 'prisma', 'postgraphile', 'gateway', 'webhook-receiver'] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

export type RequestKind = 'update' | 'password';

/** The customers one batch names: as many as `updateCustomers` takes. */
export const BATCH_SIZE = 10;

/** One request: its number in the run and the distinct customers it names. */
export interface BenchRequest {
  /** Makes written values unique across the runs of one bench. */
  run: number;
  seq: number;
  ids: readonly number[];
  kind: RequestKind;
}

export interface Workload {
  server: ServerName;
  /** What the server is started with besides its database. */
  env?: Record<string, string>;
  effect: Effect;
  /** Installed on `customers` for this variant's run only (bench/database.ts). */
  triggers: readonly Trigger[];
  /** The run must add one `customer_changes` row per write. */
  recordsHistory: boolean;
  /** Distinct customers each request names. */
  customersPerRequest: number;
  path: string;
  headers: Record<string, string>;
  /** Share of requests that change the password instead of the first name (0 to 1). */
  passwordShare: number;
  body(request: BenchRequest): string;
  /** True when the response shows the request done: the writes applied, or the asked data read. */
  succeeded(status: number, body: string, request: BenchRequest): boolean;
}

const firstName = (request: BenchRequest, item = 0) => `Bench ${request.run}-${request.seq}${item ? `.${item}` : ''}`;
// Meets the password policy (8+ characters, a letter and a digit, not a common password).
const password = (request: BenchRequest) => `Bench-${request.run}-${request.seq}-pw9`;

type GraphQLResponse = { data?: Record<string, unknown> | null; errors?: unknown[] };

/** The response's data when it is a 200 without errors. */
function dataOf(status: number, body: string): Record<string, unknown> | undefined {
  if (status !== 200) return undefined;
  try {
    const response = JSON.parse(body) as GraphQLResponse;
    return response.errors ? undefined : (response.data ?? undefined);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Writes

const GATEWAY_UPDATE = `mutation($id: ID!, $input: UpdateCustomerInput!) {
  updateCustomer(id: $id, input: $input) { customer { id version storeCredit } errors { __typename } }
}`;

const GATEWAY_BATCH = `mutation($items: [UpdateCustomersItem!]!) {
  updateCustomers(items: $items) { customers { id firstName version } errors { __typename } }
}`;

const POSTGRAPHILE_UPDATE = `mutation($id: Int!, $firstName: String!) {
  updateCustomerByRowId(input: { rowId: $id, customerPatch: { firstName: $firstName } }) {
    customer { rowId version storeCredit }
  }
}`;

const JSON_HEADERS = { 'content-type': 'application/json' };

const bare = (server: 'limit' | 'prisma'): Workload => ({
  server,
  effect: 'write',
  triggers: [],
  recordsHistory: false,
  customersPerRequest: 1,
  path: '/update',
  headers: JSON_HEADERS,
  passwordShare: 0,
  body: (request) => JSON.stringify({ id: request.ids[0], firstName: firstName(request) }),
  succeeded: (status) => status === 200,
});

const gatewayBase = (token: string) => ({
  server: 'gateway' as const,
  triggers: [],
  path: '/graphql',
  headers: { ...JSON_HEADERS, 'x-auth-token': token },
  passwordShare: 0,
});

function gateway(token: string, passwordShare: number): Workload {
  return {
    ...gatewayBase(token),
    effect: 'write',
    recordsHistory: true,
    customersPerRequest: 1,
    passwordShare,
    body: (request) =>
      JSON.stringify({
        query: GATEWAY_UPDATE,
        variables: {
          id: String(request.ids[0]),
          input: request.kind === 'password' ? { authentication: { password: password(request) } } : { firstName: firstName(request) },
        },
      }),
    succeeded: (status, body) => {
      const payload = dataOf(status, body)?.updateCustomer as { customer?: unknown; errors?: unknown[] } | undefined;
      return !!payload?.customer && payload.errors?.length === 0;
    },
  };
}

/**
 * 10 customers a request. A success lists every customer in item order with the name it was
 * given and a version; no version of a customer may be claimed by two batches, so with the
 * database's count (10 writes per success) every customer of every batch was written once.
 */
function gatewayBatch(token: string): Workload {
  const claimed = new Set<string>();
  return {
    ...gatewayBase(token),
    effect: 'write',
    recordsHistory: true,
    customersPerRequest: BATCH_SIZE,
    body: (request) =>
      JSON.stringify({
        query: GATEWAY_BATCH,
        variables: { items: request.ids.map((id, item) => ({ id: String(id), input: { firstName: firstName(request, item) } })) },
      }),
    succeeded: (status, body, request) => {
      const payload = dataOf(status, body)?.updateCustomers as
        | { customers?: Array<{ id: string; firstName: string; version: number }> | null; errors?: unknown[] }
        | undefined;
      const customers = payload?.customers;
      if (!customers || payload.errors?.length !== 0 || customers.length !== request.ids.length) return false;
      const listed = customers.every(
        (customer, item) => customer.id === String(request.ids[item]) && customer.firstName === firstName(request, item) && customer.version > 1,
      );
      if (!listed) return false;
      const versions = customers.map((customer) => `${customer.id}@${customer.version}`);
      if (versions.some((version) => claimed.has(version))) return false;
      for (const version of versions) claimed.add(version);
      return true;
    },
  };
}

function postgraphileUpdate(triggers: readonly Trigger[]): Workload {
  return {
    server: 'postgraphile',
    effect: 'write',
    triggers,
    recordsHistory: triggers.includes('audit'),
    customersPerRequest: 1,
    path: '/graphql',
    headers: JSON_HEADERS,
    passwordShare: 0,
    body: (request) => JSON.stringify({ query: POSTGRAPHILE_UPDATE, variables: { id: request.ids[0], firstName: firstName(request) } }),
    succeeded: (status, body) => {
      const payload = dataOf(status, body)?.updateCustomerByRowId as { customer?: unknown } | undefined;
      return !!payload?.customer;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Reads

/** What a customer's profile page shows: the same fields from both servers. */
const PROFILE = 'firstName lastName email company phone storeCredit customerGroupId dateModified version';

const GATEWAY_READ = `query($id: ID!) { customer(id: $id) { id ${PROFILE} } }`;
const POSTGRAPHILE_READ = `query($id: Int!) { customerByRowId(rowId: $id) { rowId ${PROFILE} } }`;
/** A page of search results, as a search box shows them. */
const SEARCH_PAGE = 20;
const GATEWAY_SEARCH = `query($name: String!) {
  customers(first: ${SEARCH_PAGE}, filter: { name: $name }) { edges { node { id ${PROFILE} } } }
}`;

/** The search term of a request: 4 letters of the named customer's seeded last name. */
const SEARCH_LENGTH = 4;
function searchTerm(request: BenchRequest, ids: { min: number }): string {
  const name = seededLastName(request.ids[0]! - ids.min + 1);
  const start = request.seq % (name.length - SEARCH_LENGTH + 1);
  return name.slice(start, start + SEARCH_LENGTH);
}

function read(server: 'gateway' | 'postgraphile', headers: Record<string, string>, query: string, field: string, idField: string): Workload {
  return {
    server,
    effect: 'read',
    triggers: [],
    recordsHistory: false,
    customersPerRequest: 1,
    path: '/graphql',
    headers,
    passwordShare: 0,
    body: (request) => JSON.stringify({ query, variables: { id: server === 'gateway' ? String(request.ids[0]) : request.ids[0] } }),
    succeeded: (status, body, request) => {
      const customer = dataOf(status, body)?.[field] as Record<string, unknown> | null | undefined;
      return !!customer && String(customer[idField]) === String(request.ids[0]) && typeof customer.lastName === 'string';
    },
  };
}

/** Name search: every customer listed matches the term, and the one it was taken from exists. */
function gatewaySearch(token: string, ids: { min: number }): Workload {
  return {
    ...gatewayBase(token),
    effect: 'read',
    recordsHistory: false,
    customersPerRequest: 1,
    body: (request) => JSON.stringify({ query: GATEWAY_SEARCH, variables: { name: searchTerm(request, ids) } }),
    succeeded: (status, body, request) => {
      const edges = (dataOf(status, body)?.customers as { edges?: Array<{ node: { firstName: string; lastName: string } }> } | undefined)?.edges;
      const term = searchTerm(request, ids).toLowerCase();
      const matches = (node: { firstName: string; lastName: string }) =>
        node.firstName.toLowerCase().includes(term) || node.lastName.toLowerCase().includes(term);
      return !!edges && edges.length >= 1 && edges.length <= SEARCH_PAGE && edges.every((edge) => matches(edge.node));
    },
  };
}

/**
 * The gateway as it runs behind PgBouncer (`pgbouncer=true`: no named prepared statements), but
 * straight on PostgreSQL, so that the statements' naming is all that differs from `gateway`.
 */
const UNNAMED_STATEMENTS = { BENCH_PGBOUNCER: 'true' };

export function workload(variant: Variant, token: string, ids: { min: number }): Workload {
  switch (variant) {
    case 'limit':
    case 'prisma':
      return bare(variant);
    case 'gateway':
    // The same updates, with one webhook endpoint registered (bench/webhooks.ts).
    case 'gateway-webhook':
      return gateway(token, 0);
    case 'gateway-pgbouncer':
      return { ...gateway(token, 0), env: UNNAMED_STATEMENTS };
    case 'gateway-batch':
      return gatewayBatch(token);
    case 'password':
      return gateway(token, 1);
    case 'mixed':
      return gateway(token, 0.05);
    // PostGraphile's patch cannot say `version = version + 1`: a trigger makes the same write.
    case 'postgraphile':
      return postgraphileUpdate(['version']);
    // What a PostGraphile user adds for an audit trail: a trigger writing the gateway's history row.
    case 'postgraphile-audited':
      return postgraphileUpdate(['version', 'audit']);
    case 'gateway-read':
      return read('gateway', gatewayBase(token).headers, GATEWAY_READ, 'customer', 'id');
    case 'gateway-read-pgbouncer':
      return { ...read('gateway', gatewayBase(token).headers, GATEWAY_READ, 'customer', 'id'), env: UNNAMED_STATEMENTS };
    case 'postgraphile-read':
      return read('postgraphile', JSON_HEADERS, POSTGRAPHILE_READ, 'customerByRowId', 'rowId');
    case 'gateway-search':
      return gatewaySearch(token, ids);
  }
}
