/**
 * The schema as an Apollo Federation v2 subgraph (@pothos/plugin-federation): `Customer` is an
 * entity keyed by `id`, `_service { sdl }` gives a router our part of the supergraph, and
 * `_entities` loads the customers other subgraphs reference. `_entities` is added by the plugin
 * outside Pothos' field options, so it is given here what `customer(id)` declares: its scope, its
 * cost (which the rate limit counts) and descriptions.
 */
import type { GraphQLFieldResolver, GraphQLSchema } from 'graphql';
import { badUserInput } from '../http/graphql-errors.ts';
import { builder, refusal, type Context } from './builder.ts';

/** The Federation version the SDL links to, and what it imports from it. */
const FEDERATION = { linkUrl: 'https://specs.apollo.dev/federation/v2.6', federationDirectives: ['@key'] };

/** The types other subgraphs may reference, by `__typename`. */
const ENTITIES = new Set(['Customer']);

export function subgraphSchema(): GraphQLSchema {
  const schema = builder.toSubGraphSchema(FEDERATION);
  const query = schema.getQueryType()!.getFields();
  const entities = query['_entities']!;
  const load = entities.resolve as GraphQLFieldResolver<unknown, Context, { representations: unknown[] }>;
  entities.description =
    'The customers other subgraphs reference, one per representation, in their order (null for an id that names none); ' +
    'for a router, not for clients. Needs `customers:read`.';
  entities.args[0]!.description = 'References from other subgraphs, each `{ __typename: "Customer", id }`.';
  // Like a page of customers: 1, plus what it selects once per representation.
  entities.extensions = {
    ...entities.extensions,
    complexity: (args: { representations: unknown[] }) => ({ field: 1, multiplier: args.representations.length }),
  };
  entities.resolve = (root, args: { representations: unknown[] }, ctx: Context, info) => {
    if (!ctx.principal?.scopes.has('customers:read')) throw refusal(ctx);
    return load(root, { representations: references(args.representations) }, ctx, info);
  };
  query['_service']!.description = 'This subgraph\'s SDL, with its Federation directives, for composing a supergraph.';
  return schema;
}

/**
 * The representations with their ids as strings (the key's type). One that names no entity of
 * ours is the caller's mistake (400), not an unexpected error: @apollo/subgraph would throw a
 * plain Error for an unknown `__typename`.
 */
function references(representations: unknown[]): Array<{ __typename: string; id: string }> {
  return representations.map((representation, index) => {
    const { __typename: typename, id } = (representation ?? {}) as Record<string, unknown>;
    if (typeof typename !== 'string' || !ENTITIES.has(typename) || (typeof id !== 'string' && typeof id !== 'number')) {
      throw badUserInput(`representations[${index}] is not a reference to a Customer ({ __typename: "Customer", id })`);
    }
    return { __typename: typename, id: String(id) };
  });
}
