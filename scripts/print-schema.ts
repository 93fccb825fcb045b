/** Writes schema.graphql (for clients) and subgraph.graphql (for a router) from the Pothos schema. */
import { writeFileSync } from 'node:fs';
import { printSchemaFile, printSubgraphFile, SCHEMA_FILE, SUBGRAPH_FILE } from '../src/schema/print.ts';

writeFileSync(SCHEMA_FILE, printSchemaFile());
console.log(`wrote ${SCHEMA_FILE}`);
writeFileSync(SUBGRAPH_FILE, printSubgraphFile());
console.log(`wrote ${SUBGRAPH_FILE}`);
