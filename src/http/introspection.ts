/**
 * Introspection off (production, unless INTROSPECTION=true): `__schema` and `__type` are refused
 * before anything runs, and so is Federation's `_service { sdl }`, which tells as much. A router
 * in front composes from the checked-in subgraph.graphql instead, or is let in with the setting.
 */
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const NoSubgraphSdlRule: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value === '_service' && context.getParentType() === context.getSchema().getQueryType()) {
      context.reportError(new GraphQLError('GraphQL introspection, and with it the subgraph SDL (`_service`), is not allowed here.', { nodes: node }));
    }
  },
});

export function useNoIntrospection(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
      addValidationRule(NoSubgraphSdlRule);
    },
  };
}
