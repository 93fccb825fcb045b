/**
 * A webhook receiver: a real HTTP server that verifies every delivery with the `standardwebhooks`
 * library (never with the service's own code) and keeps what arrived. How it answers each
 * attempt is up to the test: a status, or no answer at all (to make the sender time out).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedDelivery {
  /** The path and query the delivery was posted to: which endpoint it was for. */
  path: string;
  webhookId: string;
  timestamp: number;
  /** Whether the signature verified with the endpoint's secret. */
  verified: boolean;
  body: {
    type: string;
    timestamp: string;
    data: { eventId: string; customerId: string; version: number; actor: string; at: string; changes: Array<{ field: string; from: unknown; to: unknown }> };
  };
  receivedAt: number;
  /** What the receiver answered: a status, or null for none. */
  answered: number | null;
}

/** A status to answer with, or 'hang' to never answer. */
export type Answer = number | 'hang';

export interface WebhookReceiver {
  url: string;
  /** Every attempt, in arrival order, the refused ones too. */
  received: ReceivedDelivery[];
  /** Attempts that were answered 2xx. */
  delivered(): ReceivedDelivery[];
  /** The secret of the endpoint registered at `url + path`; each endpoint's deliveries verify with its own. */
  setSecret(secret: string, path?: string): void;
  close(): Promise<void>;
}

const PATH = '/hooks';

export async function startWebhookReceiver(answer: (delivery: ReceivedDelivery) => Answer = () => 204): Promise<WebhookReceiver> {
  const verifiers = new Map<string, Webhook>();
  const received: ReceivedDelivery[] = [];
  const hanging = new Set<IncomingMessage>();
  const server: Server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString();
    const headers = {
      'webhook-id': String(request.headers['webhook-id'] ?? ''),
      'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''),
      'webhook-signature': String(request.headers['webhook-signature'] ?? ''),
    };
    let verified = false;
    try {
      const verifier = verifiers.get(request.url ?? '');
      verifier?.verify(raw, headers);
      verified = verifier !== undefined;
    } catch {
      verified = false;
    }
    const delivery: ReceivedDelivery = {
      path: request.url ?? '',
      webhookId: headers['webhook-id'],
      timestamp: Number(headers['webhook-timestamp']),
      verified,
      body: JSON.parse(raw),
      receivedAt: Date.now(),
      answered: null,
    };
    const status = answer(delivery);
    received.push(delivery);
    if (status === 'hang') {
      hanging.add(request);
      return;
    }
    delivery.answered = status;
    response.writeHead(status).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${PATH}`,
    received,
    delivered: () => received.filter((delivery) => delivery.answered !== null && delivery.answered >= 200 && delivery.answered < 300),
    setSecret(secret, path = '') {
      verifiers.set(`${PATH}${path}`, new Webhook(secret));
    },
    async close() {
      for (const request of hanging) request.socket.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
