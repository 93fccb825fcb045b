/**
 * The floor: a bare node:http handler doing the one UPDATE a customer write needs, through pg.
 * Nothing a real API does (auth, validation, GraphQL, history) is here; every other variant is
 * compared with this one.
 */
import { createServer } from 'node:http';
import pg from 'pg';
import { readUpdateRequest, sendJson } from './body.ts';
import { databaseUrl, POOL_SIZE, serve } from './serve.ts';

const pool = new pg.Pool({ connectionString: databaseUrl(), max: POOL_SIZE, application_name: 'bench-limit' });
pool.on('error', () => {});

// A named statement: parsed and planned once per connection, as a tuned service would do.
const UPDATE_CUSTOMER = {
  name: 'bench-update-customer',
  text: `UPDATE customers SET first_name = $2, version = version + 1, date_modified = now()
         WHERE id = $1 RETURNING id, version, store_credit`,
};

const server = createServer(async (request, response) => {
  if (request.method !== 'POST' || request.url !== '/update') return sendJson(response, 404, { error: 'not found' });
  const update = await readUpdateRequest(request);
  if (!update) return sendJson(response, 400, { error: 'expected {"id": <int>, "firstName": <string>}' });
  try {
    const { rows } = await pool.query({ ...UPDATE_CUSTOMER, values: [update.id, update.firstName] });
    const row = rows[0] as { id: number; version: number; store_credit: string } | undefined;
    if (!row) return sendJson(response, 404, { error: 'no such customer' });
    sendJson(response, 200, { id: row.id, version: row.version, storeCredit: row.store_credit });
  } catch (error) {
    sendJson(response, 500, { error: (error as Error).message });
  }
});

await serve(server, () => pool.end());
