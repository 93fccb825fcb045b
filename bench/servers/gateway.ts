/**
 * The real gateway: `createServer` from src/server.ts with production settings, on the project's
 * Prisma client, in a process of its own. Before listening it checks that the schema has what
 * the requested workload sends, and reports the variant unavailable otherwise.
 */
import { createServer as createHttpServer } from 'node:http';
import { createDatabase } from '../../src/infra/database/prisma.ts';
import { schema } from '../../src/schema/index.ts';
import { createServer } from '../../src/server.ts';
import { databaseUrl, POOL_SIZE, serve, unavailable } from './serve.ts';

const updateCustomer = schema.getMutationType()?.getFields().updateCustomer;
if (!updateCustomer) unavailable('the schema has no updateCustomer mutation yet');
if (process.env.BENCH_NEEDS_PASSWORD === 'true') {
  const input = schema.getType('UpdateCustomerInput');
  const fields = input && 'getFields' in input ? input.getFields() : {};
  if (!('authentication' in fields)) unavailable('UpdateCustomerInput has no authentication field yet');
}

const db = createDatabase({ connectionString: databaseUrl(), poolSize: POOL_SIZE });
const yoga = createServer({ db, production: true });

await serve(createHttpServer(yoga), () => db.$disconnect());
