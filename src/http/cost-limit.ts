/**
 * The cost limit: an operation is measured with its variables and its arguments' defaults
 * resolved, so `customers(first: $n)` costs what `$n` asks for (graphql-armor's cost limit reads
 * neither: a page size in a variable or left out counted as one item). The fields' costs are
 * declared in the schema (@pothos/plugin-complexity); the cost is kept in the request's state for
 * the rate limit, and an operation over `maxCost` is refused as a validation error, before it runs.
 */
import { complexityFromQuery } from '@pothos/plugin-complexity';
import { getOperationAST, getVariableValues, Kind, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode, type TypeNode } from 'graphql';
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
 * An operation's cost depends on its variables only through page sizes (`first`), which are Int
 * arguments, and through how many entities `_entities` is asked for, a list: it is measured once
 * per document, operation, Int variable values and list variable lengths, and kept. The requests
 * after the first then skip the walk of the document and a second coercion of their variables (a
 * write's big input object is coerced by execution alone).
 */
const costs = new WeakMap<DocumentNode, Map<string, number | undefined>>();
const costVariables = new WeakMap<OperationDefinitionNode, CostVariable[]>();

/** A variable a cost can depend on: an Int by its value, a list by its length. */
interface CostVariable {
  name: string;
  kind: 'int' | 'list';
}
/** Distinct page sizes kept per document: past it, costs are measured and not kept. */
const MAX_KEPT_PER_DOCUMENT = 64;

/**
 * The cost of the operation the request runs. Undefined when execution will refuse it before
 * running anything (no such operation, or page sizes that are not integers).
 */
function costOf(schema: GraphQLSchema, document: DocumentNode, params: GraphQLParams): number | undefined {
  const operation = getOperationAST(document, params.operationName);
  if (!operation) return undefined;
  const given = params.variables ?? {};
  const values = costVariablesOf(operation).map(({ name, kind }) => {
    const value = given[name];
    if (kind === 'int' || value === undefined || value === null) return value;
    // A single value where a list is expected is coerced to a list of one.
    return Array.isArray(value) ? value.length : 1;
  });
  // Anything else than an integer, null or nothing is refused by execution's own coercion.
  if (!values.every((value) => value === undefined || value === null || Number.isSafeInteger(value))) return undefined;
  const key = `${params.operationName ?? ''}\u0000${JSON.stringify(values)}`;
  const kept = costs.get(document) ?? new Map<string, number | undefined>();
  if (kept.has(key)) return kept.get(key);
  // Measured once with the request's own variables: it then holds for every request that sends
  // this document with these page sizes. Variables execution would refuse are not measured.
  const variables = params.variables ?? {};
  if (getVariableValues(schema, operation.variableDefinitions ?? [], variables).errors) return undefined;
  // complexityFromQuery measures a document's first operation: give it the one that runs.
  const only: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: document.definitions.filter((definition) => definition.kind !== Kind.OPERATION_DEFINITION || definition === operation),
  };
  const cost = complexityFromQuery(only, { schema, variables }).complexity;
  if (kept.size < MAX_KEPT_PER_DOCUMENT) {
    kept.set(key, cost);
    costs.set(document, kept);
  }
  return cost;
}

/** The operation's variables of type Int or Int!, and of list types: the only ones a cost can depend on. */
function costVariablesOf(operation: OperationDefinitionNode): CostVariable[] {
  let variables = costVariables.get(operation);
  if (!variables) {
    variables = (operation.variableDefinitions ?? []).flatMap(({ type, variable }): CostVariable[] => {
      const nullable = type.kind === Kind.NON_NULL_TYPE ? type.type : type;
      if (nullable.kind === Kind.LIST_TYPE) return [{ name: variable.name.value, kind: 'list' }];
      return namedTypeOf(type) === 'Int' ? [{ name: variable.name.value, kind: 'int' }] : [];
    });
    costVariables.set(operation, variables);
  }
  return variables;
}

function namedTypeOf(type: TypeNode): string {
  return type.kind === Kind.NAMED_TYPE ? type.name.value : namedTypeOf(type.type);
}
