import { databasePool } from '../../src/infra/database/prisma.ts';
import type { TestServer } from './server.ts';

/**
 * Statements the server's pool ran for one request (each query outside a transaction takes a
 * connection). The least of three tries: the change feed's background reads share the pool.
 */
export async function statementsFor(server: TestServer, send: () => Promise<unknown>): Promise<number> {
  const pool = databasePool(server.database.db);
  const counts: number[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    let count = 0;
    const counting = () => count++;
    pool.on('acquire', counting);
    try {
      await send();
    } finally {
      pool.off('acquire', counting);
    }
    counts.push(count);
  }
  return Math.min(...counts);
}
