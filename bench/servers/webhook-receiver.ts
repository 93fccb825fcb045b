/**
 * The `gateway-webhook` variant's receiver, in a process of its own so the load generator's
 * busy event loop does not slow its answers: answers every POST 204 at once, and keeps for each
 * event how long after its commit the first attempt arrived. GET /stats gives the figures.
 */
import { createServer } from 'node:http';
import { serve } from './serve.ts';

/** Per event: its commit time and how long after it the first attempt arrived. */
const firstAttempt = new Map<string, { at: number; ms: number }>();
let attempts = 0;

const server = createServer((request, response) => {
  if (request.method === 'GET') {
    // ?since=<ms>: only the events committed from then on
    const since = Number(new URL(request.url ?? '/', 'http://x').searchParams.get('since') ?? 0);
    const latencies = [...firstAttempt.values()].filter((event) => event.at >= since).map((event) => event.ms);
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ attempts, latencies }));
    return;
  }
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const arrived = Date.now();
    attempts++;
    const body = JSON.parse(Buffer.concat(chunks).toString()) as { data: { eventId: string; at: string } };
    const at = Date.parse(body.data.at);
    if (!firstAttempt.has(body.data.eventId)) firstAttempt.set(body.data.eventId, { at, ms: arrived - at });
    response.writeHead(204).end();
  });
});

await serve(server, async () => {});
