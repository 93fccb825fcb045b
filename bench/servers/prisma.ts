/**
 * The same write as `limit.ts`, through the project's Prisma client (driver adapter on pg):
 * the cost of the ORM alone, without GraphQL.
 */
import { createServer } from 'node:http';
import { createDatabase } from '../../src/infra/database/prisma.ts';
import { readUpdateRequest, sendJson } from './body.ts';
import { databaseUrl, POOL_SIZE, serve } from './serve.ts';

const db = createDatabase({ connectionString: databaseUrl(), poolSize: POOL_SIZE });

const server = createServer(async (request, response) => {
  if (request.method !== 'POST' || request.url !== '/update') return sendJson(response, 404, { error: 'not found' });
  const update = await readUpdateRequest(request);
  if (!update) return sendJson(response, 400, { error: 'expected {"id": <int>, "firstName": <string>}' });
  try {
    const customer = await db.customer.update({
      where: { id: update.id },
      data: { firstName: update.firstName, version: { increment: 1 }, dateModified: new Date() },
      select: { id: true, version: true, storeCredit: true },
    });
    sendJson(response, 200, { ...customer, storeCredit: customer.storeCredit.toFixed(4) });
  } catch (error) {
    // P2025: no record to update.
    if ((error as { code?: string }).code === 'P2025') return sendJson(response, 404, { error: 'no such customer' });
    sendJson(response, 500, { error: (error as Error).message });
  }
});

await serve(server, () => db.$disconnect());
