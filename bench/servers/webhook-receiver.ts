/**
 * The `gateway-webhook` variant's receiver, in a process of its own so the load generator's
 * busy event loop does not slow its answers: answers every POST 204 at once, and keeps for each
 * event how long after its commit the first attempt arrived. GET /stats gives the figures.
 */
import { createServer } from 'node:http';
import { serve } from './serve.ts';

const firstAttempt = new Map<string, number>();
let attempts = 0;

const server = createServer((request, response) => {
  if (request.method === 'GET') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ attempts, latencies: [...firstAttempt.values()] }));
    return;
  }
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const arrived = Date.now();
    attempts++;
    const body = JSON.parse(Buffer.concat(chunks).toString()) as { data: { eventId: string; at: string } };
    if (!firstAttempt.has(body.data.eventId)) firstAttempt.set(body.data.eventId, arrived - Date.parse(body.data.at));
    response.writeHead(204).end();
  });
});

await serve(server, async () => {});
