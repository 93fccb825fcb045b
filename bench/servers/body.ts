/** The request body of the two bare servers: which customer, and the first name to give it. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface UpdateRequest {
  id: number;
  firstName: string;
}

export async function readUpdateRequest(request: IncomingMessage): Promise<UpdateRequest | null> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Partial<UpdateRequest>;
    return Number.isInteger(body.id) && typeof body.firstName === 'string' ? (body as UpdateRequest) : null;
  } catch {
    return null;
  }
}

export function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
