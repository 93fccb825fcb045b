/**
 * A federation gateway in front of customer-gateway and other subgraphs (README, "Use it in a
 * supergraph"): Apollo Gateway's query planner and executor (@apollo/gateway), served by
 * graphql-yoga through @envelop/apollo-federation. test/integration/supergraph.test.ts runs it.
 *
 * What customer-gateway needs from a router: the client's token forwarded to it alone, and its
 * answers passed on as it gave them (its errors' codes, its rate-limit headers, the HTTP status
 * of a refusal).
 */
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { useApolloFederation } from '@envelop/apollo-federation';
import { GraphQLError } from 'graphql';
import { createYoga, maskError, type Plugin, type YogaServerInstance } from 'graphql-yoga';

/** customer-gateway's name in the supergraph, as it was composed. */
export const CUSTOMERS_SUBGRAPH = 'customers';

/** How a client presents its customer-gateway token. */
const TOKEN_HEADERS = ['x-auth-token', 'authorization'];

/** What customer-gateway tells about the client's rate limit, and when to retry after a 429. */
const RATE_LIMIT_HEADERS = ['retry-after', 'x-rate-limit-requests-quota', 'x-rate-limit-requests-left', 'x-rate-limit-time-reset-ms', 'x-rate-limit-time-window-ms'];

/** customer-gateway's refusals, with the HTTP status it gives them when called directly. */
const STATUS_OF: Record<string, number> = { UNAUTHENTICATED: 401, FORBIDDEN: 403, RATE_LIMITED: 429 };

type GatewayContext = { request: Request };

export async function createSupergraphGateway(supergraphSdl: string): Promise<YogaServerInstance<{}, {}>> {
  // Headers customer-gateway answered with, per client request, for the client's response.
  const passedBack = new WeakMap<Request, Headers>();
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ name, url }) =>
      new RemoteGraphQLDataSource<GatewayContext>({
        url,
        fetcher: keepGraphQLRefusals,
        willSendRequest({ request, context }) {
          if (name !== CUSTOMERS_SUBGRAPH || !context?.request) return;
          for (const header of TOKEN_HEADERS) {
            const value = context.request.headers.get(header);
            if (value) request.http?.headers.set(header, value);
          }
        },
        didReceiveResponse({ response, context }) {
          const headers = response.http?.headers;
          if (name === CUSTOMERS_SUBGRAPH && headers && context.request) {
            const kept = passedBack.get(context.request) ?? new Headers();
            for (const header of RATE_LIMIT_HEADERS) {
              const value = headers.get(header);
              if (value) kept.set(header, value);
            }
            passedBack.set(context.request, kept);
          }
          return response;
        },
      }),
  });
  await gateway.load();
  const passThrough: Plugin = {
    onResponse({ request, response }) {
      for (const [header, value] of passedBack.get(request) ?? []) response.headers.set(header, value);
    },
  };
  return createYoga({
    schema: gateway.schema!,
    plugins: [useApolloFederation({ gateway }), useRefusalStatus(), passThrough],
    // A subgraph's errors (Apollo names the subgraph in `serviceName`) pass as it wrote them; the
    // gateway's own unexpected errors stay masked.
    maskedErrors: { maskError: (error, message, isDev) => (fromSubgraph(error) ? (error as Error) : maskError(error, message, isDev)) },
    logging: false,
  });
}

function fromSubgraph(error: unknown): boolean {
  return error instanceof GraphQLError && typeof error.extensions['serviceName'] === 'string' && typeof error.extensions['code'] === 'string';
}

/**
 * customer-gateway answers a refused request with its GraphQL errors and a 4xx status (GraphQL
 * over HTTP); Apollo's data source would replace them with a bare "403: Forbidden". Such a JSON
 * answer is read as the GraphQL response it is.
 */
async function keepGraphQLRefusals(url: string, init?: object): Promise<Response> {
  const response = await fetch(url, init as RequestInit);
  const json = /^application\/(graphql-response\+)?json/.test(response.headers.get('content-type') ?? '');
  const refusal = response.status >= 400 && response.status < 500 && json;
  return refusal ? new Response(response.body, { status: 200, headers: response.headers }) : response;
}

/**
 * A gateway answers 200 whatever a subgraph's status was; this gives customer-gateway's refusals
 * their HTTP status back (401, 403, 429), so clients see what they would see calling it directly.
 */
function useRefusalStatus(): Plugin {
  return {
    onExecutionResult({ result, setResult }) {
      if (!result || Symbol.asyncIterator in result || !result.errors?.some((error) => STATUS_OF[String(error.extensions?.['code'])])) return;
      setResult({
        ...result,
        errors: result.errors.map((error) => {
          const status = STATUS_OF[String(error.extensions?.['code'])];
          return status ? new GraphQLError(error.message, { path: error.path, extensions: { ...error.extensions, http: { status } } }) : error;
        }),
      });
    },
  };
}
