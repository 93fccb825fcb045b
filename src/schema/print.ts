import { fileURLToPath } from 'node:url';
import { graphqlSync, lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder.ts';
import { schema } from './index.ts';

export const SCHEMA_FILE = fileURLToPath(new URL('../../schema.graphql', import.meta.url));
export const SUBGRAPH_FILE = fileURLToPath(new URL('../../subgraph.graphql', import.meta.url));

/**
 * schema.graphql, for clients and code generators: the schema without Federation's additions
 * (no `_service`, `_entities`, `_Any` or directives). A test compares it with the checked-in file.
 */
export function printSchemaFile(): string {
  return `${printSchema(lexicographicSortSchema(builder.toSchema()))}\n`;
}

/** subgraph.graphql, for composing a supergraph: exactly what `_service { sdl }` answers. */
export function printSubgraphFile(): string {
  const { data, errors } = graphqlSync({ schema, source: '{ _service { sdl } }' });
  if (errors?.length) throw errors[0];
  return (data as { _service: { sdl: string } })._service.sdl;
}
