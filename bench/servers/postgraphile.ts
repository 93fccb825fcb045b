/**
 * PostGraphile 5 (amber preset) over the same database: the generated `updateCustomerByRowId`
 * mutation and `customerByRowId` query, as a reference point for "GraphQL over PostgreSQL
 * without hand-written resolvers". It cannot express `version = version + 1`; bench/run.ts
 * installs a trigger doing that (and `date_modified = now()`) for its write variants only, so
 * every variant makes the same write (bench/database.ts).
 */
// First: PostGraphile's reads need it on Node 20.
import './promise-with-resolvers.ts';
import { createServer } from 'node:http';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { databaseUrl, POOL_SIZE, serve } from './serve.ts';

const pgl = postgraphile({
  extends: [PostGraphileAmberPreset],
  pgServices: [makePgService({ connectionString: databaseUrl(), schemas: ['public'], poolConfig: { max: POOL_SIZE } })],
  grafserv: { graphqlPath: '/graphql', graphiql: false, watch: false },
  grafast: { explain: false },
});
const serv = pgl.createServ(grafserv);
// Build the schema now, so the first measured request does not pay for introspection.
await pgl.getSchema();
const server = createServer();
await serv.addTo(server);

await serve(server, async () => {
  await serv.release();
  await pgl.release();
});
