/**
 * Webhook endpoints: registering a receiver (a public http(s) URL, the event types it takes, a
 * signing secret shown once), deleting it, queueing its events again, and reading its delivery
 * log. Sending is not done here; the senders are woken with a notice after each change.
 */
import { randomBytes } from 'node:crypto';
import { EVENT_TYPES, eventTypeOf, type EventType } from './customer-events.ts';
import type { DomainError } from './errors.ts';
import { pageOf, type Page, type PageRequest } from './paging.ts';
import { announce } from '../infra/database/event-notices.ts';
import type { Database } from '../infra/database/prisma.ts';
import {
  countEndpoints,
  createEndpoint,
  deleteEndpoint,
  deliveryPage,
  endpointExists,
  listEndpoints,
  queueAgain,
  type StoredDelivery,
  type StoredEndpoint,
} from '../infra/database/webhook-endpoint-statements.ts';
import { checkPublicHost } from '../infra/network/address-policy.ts';

/** Endpoints allowed at once, unless WEBHOOK_MAX_ENDPOINTS says otherwise. */
export const WEBHOOK_MAX_ENDPOINTS = 20;
/** The longest URL kept (the column's size). */
export const WEBHOOK_URL_MAX_LENGTH = 2048;
/** Events one redeliverWebhookEvents call queues at most; the client goes on from `lastQueuedEventId`. */
export const REDELIVER_LIMIT = 10_000;

export const DELIVERY_STATUSES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export type WebhookEndpointView = StoredEndpoint;
export type WebhookDeliveryView = Omit<StoredDelivery, 'eventVersion'> & { eventType: EventType };

export interface WebhookSettings {
  /** Receivers on loopback, private and other non-public addresses are accepted (tests, local development). */
  allowPrivateNetworks: boolean;
  maxEndpoints: number;
}

export interface CreateWebhookEndpointCommand {
  url: string;
  /** Null or left out: every type. */
  eventTypes?: readonly EventType[] | null | undefined;
  /** The token's name. */
  createdBy: string;
  settings: WebhookSettings;
}

export type CreateWebhookEndpointResult =
  | { endpoint: WebhookEndpointView; secret: string; errors: [] }
  | { endpoint: null; secret: null; errors: DomainError[] };

export async function createWebhookEndpoint(db: Database, command: CreateWebhookEndpointCommand): Promise<CreateWebhookEndpointResult> {
  // 1. Check the input: the URL and where it leads, the types, and room for one more endpoint.
  const url = await checkUrl(command.url, command.settings);
  const eventTypes = checkEventTypes(command.eventTypes);
  const errors = [...url.errors, ...eventTypes.errors];
  const { maxEndpoints } = command.settings;
  // Requests racing for the last place may each take it: the cap bounds the work, not exactly.
  if ((await countEndpoints(db)) >= maxEndpoints) {
    errors.push({ code: 'TOO_LONG', path: ['input'], message: `There are already ${maxEndpoints} webhook endpoints, the most allowed: delete one first` });
  }
  if (errors.length > 0) return { endpoint: null, secret: null, errors };

  // 2. Write it, with its secret, at the change log's current position: it gets the events after it.
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const endpoint = await createEndpoint(db, { url: url.href!, eventTypes: eventTypes.types!, secret, createdBy: command.createdBy });
  announce(db, 'deliveries');
  return { endpoint, secret, errors: [] };
}

async function checkUrl(text: string, settings: WebhookSettings): Promise<{ href?: string; errors: DomainError[] }> {
  const invalid = (message: string): { errors: DomainError[] } => ({ errors: [{ code: 'INVALID', path: ['input', 'url'], message }] });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return invalid('url is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return invalid('url must start with http:// or https://');
  if (url.href.length > WEBHOOK_URL_MAX_LENGTH) {
    return { errors: [{ code: 'TOO_LONG', path: ['input', 'url'], message: `url is longer than ${WEBHOOK_URL_MAX_LENGTH} characters` }] };
  }
  if (!settings.allowPrivateNetworks) {
    const host = await checkPublicHost(url.hostname);
    if (!host.ok) return invalid(`url must lead to a public address: ${host.reason}`);
  }
  return { href: url.href, errors: [] };
}

function checkEventTypes(given: readonly EventType[] | null | undefined): { types?: EventType[]; errors: DomainError[] } {
  if (given === null || given === undefined) return { types: [...EVENT_TYPES], errors: [] };
  if (given.length === 0) {
    return { errors: [{ code: 'INVALID', path: ['input', 'eventTypes'], message: 'eventTypes needs at least one type, or null for every type' }] };
  }
  return { types: EVENT_TYPES.filter((type) => given.includes(type)), errors: [] };
}

/** Every endpoint, oldest first, without its secret. */
export function listWebhookEndpoints(db: Database): Promise<WebhookEndpointView[]> {
  return listEndpoints(db);
}

/** An endpoint id from the API, or null when it cannot name any endpoint (ids are positive 32-bit integers). */
export function parseEndpointId(id: string): number | null {
  return /^\d{1,10}$/.test(id) && Number(id) >= 1 && Number(id) <= 2_147_483_647 ? Number(id) : null;
}

const endpointNotFound = (path: string): DomainError => ({ code: 'NOT_FOUND', path: [path], message: 'No webhook endpoint has this id' });

/** Deletes the endpoint and its delivery log, pending deliveries included. */
export async function deleteWebhookEndpoint(db: Database, id: string): Promise<{ deletedId: string | null; errors: DomainError[] }> {
  const numeric = parseEndpointId(id);
  if (numeric === null || !(await deleteEndpoint(db, numeric))) return { deletedId: null, errors: [endpointNotFound('id')] };
  announce(db, 'deliveries');
  return { deletedId: String(numeric), errors: [] };
}

const MAX_EVENT_ID = 9_223_372_036_854_775_807n;

export interface RedeliverResult {
  queued: number;
  /** The last event queued, for the next call's `afterEventId`; null when none was. */
  lastQueuedEventId: string | null;
  errors: DomainError[];
}

/**
 * Queues again, as new pending deliveries, the endpoint's events after `afterEventId` (all when
 * null) up to the last one it was queued, of the types it takes, in order, at most
 * REDELIVER_LIMIT; and enables the endpoint if a 410 had disabled it.
 */
export async function redeliverWebhookEvents(db: Database, endpointId: string, afterEventId: string | null | undefined): Promise<RedeliverResult> {
  const endpoint = parseEndpointId(endpointId);
  const after = afterEventId === null || afterEventId === undefined ? 0n : parseEventId(afterEventId);
  if (after === null) {
    const errors: DomainError[] = [{ code: 'INVALID', path: ['afterEventId'], message: 'afterEventId is not an event id' }];
    if (endpoint === null || !(await endpointExists(db, endpoint))) errors.unshift(endpointNotFound('endpointId'));
    return { queued: 0, lastQueuedEventId: null, errors };
  }
  const result =
    endpoint === null
      ? null
      : await queueAgain(db, { endpointId: endpoint, afterEventId: after, limit: REDELIVER_LIMIT, firstVersionType: eventTypeOf(1), laterVersionType: eventTypeOf(2) });
  if (result === null) return { queued: 0, lastQueuedEventId: null, errors: [endpointNotFound('endpointId')] };
  announce(db, 'deliveries');
  return { queued: result.queued, lastQueuedEventId: result.lastEventId === null ? null : String(result.lastEventId), errors: [] };
}

function parseEventId(id: string): bigint | null {
  return /^\d{1,19}$/.test(id) && BigInt(id) <= MAX_EVENT_ID ? BigInt(id) : null;
}

/** A page of an endpoint's delivery log, newest first, of one status when given. */
export async function webhookDeliveries(
  db: Database,
  endpointId: number,
  page: PageRequest,
  status: DeliveryStatus | null,
): Promise<Page<WebhookDeliveryView>> {
  const rows = await deliveryPage(db, { endpointId, before: page.after === null ? null : BigInt(page.after), status, limit: page.size + 1 });
  const deliveries = rows.map(({ eventVersion, ...delivery }) => ({ ...delivery, eventType: eventTypeOf(eventVersion) }));
  return pageOf('delivery', page, deliveries, (delivery) => Number(delivery.id));
}
