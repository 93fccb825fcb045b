/**
 * What each variant is sent, and how a response proves one applied write. Every variant changes
 * the first name of a random customer to a value no customer has had before in this run, so
 * every successful request is exactly one write (version + 1), even for the gateway, which skips
 * writes that change nothing.
 */
export const VARIANTS = ['limit', 'prisma', 'postgraphile', 'gateway', 'gateway-webhook', 'password', 'mixed'] as const;
export type Variant = (typeof VARIANTS)[number];

/** The server script under bench/servers/ each variant runs. */
export type ServerName = 'limit' | 'prisma' | 'postgraphile' | 'gateway' | 'webhook-receiver';

export type RequestKind = 'update' | 'password';

/** Serial ids start at 1: a write to this id finds no row and changes nothing. */
export const NO_SUCH_CUSTOMER = 0;

export interface Workload {
  server: ServerName;
  path: string;
  headers: Record<string, string>;
  /** Share of requests that change the password instead of the first name (0 to 1). */
  passwordShare: number;
  /** The body of request number `seq`; `run` makes values unique across the runs of one bench. */
  body(run: number, seq: number, id: number, kind: RequestKind): string;
  /** True when the response reports the write as applied. */
  succeeded(status: number, body: string): boolean;
}

const GATEWAY_UPDATE = `mutation($id: ID!, $input: UpdateCustomerInput!) {
  updateCustomer(id: $id, input: $input) { customer { id version storeCredit } errors { __typename } }
}`;

const POSTGRAPHILE_UPDATE = `mutation($id: Int!, $firstName: String!) {
  updateCustomerByRowId(input: { rowId: $id, customerPatch: { firstName: $firstName } }) {
    customer { rowId version storeCredit }
  }
}`;

const firstName = (run: number, seq: number) => `Bench ${run}-${seq}`;
// Meets the password policy (8+ characters, a letter and a digit, not a common password).
const password = (run: number, seq: number) => `Bench-${run}-${seq}-pw9`;

function parse(body: string): { data?: Record<string, unknown> | null; errors?: unknown[] } | undefined {
  try {
    return JSON.parse(body) as { data?: Record<string, unknown> | null; errors?: unknown[] };
  } catch {
    return undefined;
  }
}

const bare = (server: 'limit' | 'prisma'): Workload => ({
  server,
  path: '/update',
  headers: { 'content-type': 'application/json' },
  passwordShare: 0,
  body: (run, seq, id) => JSON.stringify({ id, firstName: firstName(run, seq) }),
  succeeded: (status) => status === 200,
});

function gateway(token: string, passwordShare: number): Workload {
  return {
    server: 'gateway',
    path: '/graphql',
    headers: { 'content-type': 'application/json', 'x-auth-token': token },
    passwordShare,
    body: (run, seq, id, kind) =>
      JSON.stringify({
        query: GATEWAY_UPDATE,
        variables: {
          id: String(id),
          input: kind === 'password' ? { authentication: { password: password(run, seq) } } : { firstName: firstName(run, seq) },
        },
      }),
    succeeded: (status, body) => {
      if (status !== 200) return false;
      const response = parse(body);
      const payload = response?.data?.updateCustomer as { customer?: unknown; errors?: unknown[] } | undefined;
      return !response?.errors && !!payload?.customer && payload.errors?.length === 0;
    },
  };
}

export function workload(variant: Variant, token: string): Workload {
  switch (variant) {
    case 'limit':
    case 'prisma':
      return bare(variant);
    case 'gateway':
    // The same updates, with one webhook endpoint registered (bench/webhooks.ts).
    case 'gateway-webhook':
      return gateway(token, 0);
    case 'password':
      return gateway(token, 1);
    case 'mixed':
      return gateway(token, 0.05);
    case 'postgraphile':
      return {
        server: 'postgraphile',
        path: '/graphql',
        headers: { 'content-type': 'application/json' },
        passwordShare: 0,
        body: (run, seq, id) => JSON.stringify({ query: POSTGRAPHILE_UPDATE, variables: { id, firstName: firstName(run, seq) } }),
        succeeded: (status, body) => {
          if (status !== 200) return false;
          const response = parse(body);
          const payload = response?.data?.updateCustomerByRowId as { customer?: unknown } | undefined;
          return !response?.errors && !!payload?.customer;
        },
      };
  }
}
