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

export function graphiqlOptions(developmentToken: string | undefined): GraphiQLOptions {
  return {
    title: 'customer-gateway',
    defaultQuery: EXAMPLE_OPERATION,
    ...(developmentToken ? { headers: JSON.stringify({ 'X-Auth-Token': developmentToken }, null, 2) } : {}),
  };
}
