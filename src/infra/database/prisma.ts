/** The one Prisma client of a process, on node-postgres through Prisma's driver adapter. */
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../generated/prisma/client.ts';

export type Database = PrismaClient;

export interface DatabaseOptions {
  connectionString: string;
  poolSize?: number;
}

export function createDatabase({ connectionString, poolSize = 10 }: DatabaseOptions): Database {
  const adapter = new PrismaPg({
    connectionString,
    max: poolSize,
    application_name: 'customer-gateway',
    // Fail fast while the database is unreachable instead of queueing requests forever.
    connectionTimeoutMillis: 5_000,
  });
  return new PrismaClient({ adapter });
}
