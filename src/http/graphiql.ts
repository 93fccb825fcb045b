/** GraphiQL as a developer first sees it: a ready-to-run example, and their token already filled in. */
import type { GraphiQLOptions } from 'graphql-yoga';

export const EXAMPLE_OPERATION = /* GraphQL */ `# customer-gateway: read and update store customers.
# Customer data needs a token: X-Auth-Token or Authorization: Bearer (see the Headers tab below).
# Press the run button to update demo customer 1. Running it twice changes nothing the second time.

mutation UpdateCustomer {
  updateCustomer(id: "1", input: { company: "Acme Corporation", storeCredit: "30.00" }) {
    customer {
      id
      firstName
      lastName
      company
      storeCredit
      version
      dateModified
    }
    errors {
      __typename
      ... on Error {
        message
        code
        path
      }
    }
  }
}
`;

/** A `Host` that names this machine: localhost, 127.0.0.1 or [::1], with any port. */
const LOOPBACK_HOST = /^(localhost|127\.0\.0\.1|\[::1\])(:\d{1,5})?$/i;

/**
 * GraphiQL's options for each request. The development token goes only into pages asked for by
 * a loopback `Host`: a web page whose name an attacker re-points at 127.0.0.1 (DNS rebinding)
 * reaches this server with its own name as `Host`, and gets the page without the token.
 */
export function graphiqlOptions(developmentToken: string | undefined): (request: Request) => GraphiQLOptions {
  const options: GraphiQLOptions = {
    title: 'customer-gateway',
    defaultQuery: EXAMPLE_OPERATION,
    // GraphiQL opens subscriptions as GETs without a content type, which CSRF prevention refuses
    // from a page that cannot set headers; this page can, being the server's own script.
    additionalHeaders: { 'x-graphql-yoga-csrf': 'graphiql' },
  };
  if (!developmentToken) return () => options;
  const withToken: GraphiQLOptions = { ...options, headers: JSON.stringify({ 'X-Auth-Token': developmentToken }, null, 2) };
  return (request) => (LOOPBACK_HOST.test(request.headers.get('host') ?? '') ? withToken : options);
}
