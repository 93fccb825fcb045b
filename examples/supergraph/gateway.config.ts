/**
 * Hive Gateway in front of customer-gateway and other subgraphs (README, "Use it in a
 * supergraph"). The gateway's CLI reads this file beside a composed `supergraph.graphql`;
 * test/integration/supergraph.test.ts runs these same settings in @graphql-hive/gateway-runtime.
 */
import type { GatewayConfigSupergraph, GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { GraphQLError } from 'graphql';

/** customer-gateway's name in the supergraph, as it was composed. */
export const CUSTOMERS_SUBGRAPH = 'customers';

/** customer-gateway's refusals, with the HTTP status it gives them when called directly. */
const STATUS_OF: Record<string, number> = { UNAUTHENTICATED: 401, FORBIDDEN: 403, RATE_LIMITED: 429 };

/** What customer-gateway tells about the client's rate limit (README, "Rate limiting"). */
const RATE_LIMIT_HEADERS = [
  'retry-after',
  'x-rate-limit-requests-quota',
  'x-rate-limit-requests-left',
  'x-rate-limit-time-reset-ms',
  'x-rate-limit-time-window-ms',
];

export const gatewayConfig = {
  propagateHeaders: {
    // The client's token goes to customer-gateway alone, which decides what it may do.
    fromClientToSubgraphs: ({ request, subgraphName }) =>
      subgraphName === CUSTOMERS_SUBGRAPH
        ? { 'x-auth-token': request.headers.get('x-auth-token'), authorization: request.headers.get('authorization') }
        : undefined,
    fromSubgraphsToClient: ({ response, subgraphName }) =>
      subgraphName === CUSTOMERS_SUBGRAPH
        ? Object.fromEntries(RATE_LIMIT_HEADERS.map((name) => [name, response.headers.get(name)]))
        : undefined,
    deduplicateHeaders: true,
  },
  plugins: () => [useRefusalStatus()],
} satisfies Partial<GatewayConfigSupergraph>;

/**
 * A gateway answers 200 whatever a subgraph's status was; this gives a refusal of
 * customer-gateway's its HTTP status back (401, 403, 429), so clients see what they would see
 * calling it directly.
 */
function useRefusalStatus(): GatewayPlugin {
  return {
    onExecutionResult({ result, setResult }) {
      if (!result || Symbol.asyncIterator in result || !result.errors?.some((error) => STATUS_OF[String(error.extensions?.['code'])])) return;
      setResult({
        ...result,
        errors: result.errors.map((error) => {
          const status = STATUS_OF[String(error.extensions?.['code'])];
          return status ? new GraphQLError(error.message, { ...error, extensions: { ...error.extensions, http: { status } } }) : error;
        }),
      });
    },
  };
}
