/**
 * The cost limit: an operation is measured with its variables and its arguments' defaults
 * resolved, so `customers(first: $n)` costs what `$n` asks for (graphql-armor's cost limit reads
 * neither: a page size in a variable or left out counted as one item). The fields' costs are
 * declared in the schema (@pothos/plugin-complexity); the cost is kept in the request's state for
 * the rate limit, and an operation over `maxCost` is refused as a validation error, before it runs.
 */
import { complexityFromQuery } from '@pothos/plugin-complexity';
import { getOperationAST, getVariableValues, Kind, type DocumentNode, type GraphQLSchema } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import { queryTooComplex } from './graphql-errors.ts';
import { requestState } from './request-state.ts';

export interface CostLimitOptions {
  maxCost: number;
  /** How the refusal reads; it names neither the limit nor the cost. */
  message: string;
}

export function useCostLimit({ maxCost, message }: CostLimitOptions): Plugin<{ request: Request; params: GraphQLParams }> {
  return {
    // After validation, on every request: the same document costs what each request's variables
    // ask for. Thrown, as armor's refusals are, rather than set as the validation result, which
    // yoga would cache for the document and so refuse its cheap uses too.
    onValidate({ params: { schema, documentAST }, context: { request, params } }) {
      return ({ valid }) => {
        if (!valid) return;
        const cost = costOf(schema, documentAST, params);
        if (cost === undefined) return;
        requestState(request).cost = cost;
        if (cost > maxCost) throw queryTooComplex(message);
      };
    },
  };
}

/**
 * The cost of the operation the request runs. Undefined when execution will refuse it before
 * running anything (no such operation, or variables that do not fit their types).
 */
function costOf(schema: GraphQLSchema, document: DocumentNode, params: GraphQLParams): number | undefined {
  const operation = getOperationAST(document, params.operationName);
  if (!operation) return undefined;
  const variables = params.variables ?? {};
  if (getVariableValues(schema, operation.variableDefinitions ?? [], variables).errors) return undefined;
  // complexityFromQuery measures a document's first operation: give it the one that runs.
  const only: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: document.definitions.filter((definition) => definition.kind !== Kind.OPERATION_DEFINITION || definition === operation),
  };
  return complexityFromQuery(only, { schema, variables }).complexity;
}
