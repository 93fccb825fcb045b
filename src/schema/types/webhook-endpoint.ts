/** The WebhookEndpoint type, its delivery log (WebhookDelivery and its connection), and the delivery status enum. */
import type { EventType } from '../../domain/customer-events.ts';
import { PAGE_SIZE } from '../../domain/paging.ts';
import {
  DELIVERY_STATUSES,
  webhookDeliveries,
  type DeliveryStatus,
  type WebhookDeliveryView,
  type WebhookEndpointView,
} from '../../domain/webhook-endpoints.ts';
import { builder } from '../builder.ts';
import { CustomerEventType } from './customer-events.ts';
import { pageArguments, pageCost } from './paging.ts';

/** PENDING for pending: the GraphQL name of each stored value. */
const enumValues = <T extends string>(values: readonly T[], describe: (value: T) => string) =>
  Object.fromEntries(values.map((value) => [value.toUpperCase(), { value, description: describe(value) }])) as Record<
    string,
    { value: T; description: string }
  >;

const DELIVERY_STATUS_DESCRIPTIONS = {
  pending: 'Not delivered yet: waiting for its first attempt or its next retry.',
  delivered: 'The receiver answered 2xx.',
  failed: 'Given up: no attempt succeeded and none is left.',
} satisfies Record<DeliveryStatus, string>;

export const WebhookDeliveryStatus = builder.enumType('WebhookDeliveryStatus', {
  description: 'Where a delivery stands.',
  values: enumValues(DELIVERY_STATUSES, (status) => DELIVERY_STATUS_DESCRIPTIONS[status]),
});

export const WebhookDelivery = builder.objectRef<WebhookDeliveryView>('WebhookDelivery').implement({
  description: 'One event sent (or to be sent) to one endpoint, and how sending it went.',
  fields: (t) => ({
    id: t.id({ description: 'The numeric id of this delivery, as a string.', resolve: (delivery) => String(delivery.id) }),
    eventId: t.id({
      description: 'The event\'s id: the `CustomerChange.id` of the write, and the `webhook-id` header of every attempt.',
      resolve: (delivery) => String(delivery.eventId),
    }),
    eventType: t.field({ type: CustomerEventType, description: 'The kind of event.', resolve: (delivery) => delivery.eventType }),
    status: t.field({
      type: WebhookDeliveryStatus,
      description: 'Pending, delivered or failed.',
      resolve: (delivery) => delivery.status as DeliveryStatus,
    }),
    attempts: t.exposeInt('attempts', { description: 'How many times it was sent.' }),
    lastStatusCode: t.exposeInt('lastStatusCode', { nullable: true, description: 'The HTTP status of the last attempt; null when none answered.' }),
    lastError: t.exposeString('lastError', {
      nullable: true,
      description: 'Why the last attempt failed, when it did: a status the receiver answered, or no answer (a timeout, a refused connection).',
    }),
    lastAttemptAt: t.field({ type: 'DateTime', nullable: true, description: 'When it was last sent.', resolve: (d) => d.lastAttemptAt }),
    nextAttemptAt: t.field({ type: 'DateTime', nullable: true, description: 'When it is sent next, while pending.', resolve: (d) => d.nextAttemptAt }),
    deliveredAt: t.field({ type: 'DateTime', nullable: true, description: 'When the receiver accepted it.', resolve: (d) => d.deliveredAt }),
  }),
});

export const WebhookDeliveryConnection = builder.connectionObject(
  {
    type: WebhookDelivery,
    name: 'WebhookDeliveryConnection',
    description: 'A page of an endpoint\'s deliveries, newest first.',
    edgesNullable: false,
    nodeNullable: false,
  },
  { name: 'WebhookDeliveryEdge', description: 'A delivery and the cursor to page on from it.' },
);

export const WebhookEndpoint = builder.objectRef<WebhookEndpointView>('WebhookEndpoint').implement({
  description:
    'A receiver of change events: each event of the types it takes is POSTed to its URL, signed with its secret ' +
    '(Standard Webhooks). The secret is shown once, when the endpoint is created.',
  fields: (t) => ({
    id: t.id({ description: 'The numeric id of the endpoint, as a string.', resolve: (endpoint) => String(endpoint.id) }),
    url: t.field({ type: 'URL', description: 'Where events are POSTed.', resolve: (endpoint) => endpoint.url }),
    eventTypes: t.field({
      type: [CustomerEventType],
      description: 'The kinds of event sent to it.',
      resolve: (endpoint) => endpoint.eventTypes as EventType[],
    }),
    enabled: t.exposeBoolean('enabled', {
      description: 'False once it answered 410 Gone: nothing more is sent until `redeliverWebhookEvents` enables it again.',
    }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was created.', resolve: (endpoint) => endpoint.createdAt }),
    createdBy: t.exposeString('createdBy', { description: 'The name of the API token that created it.' }),
    deliveries: t.field({
      type: WebhookDeliveryConnection,
      description: 'Its delivery log, newest first, optionally of one status.',
      complexity: pageCost,
      args: {
        first: t.arg.int({
          defaultValue: PAGE_SIZE.default,
          description: `How many deliveries to return: ${PAGE_SIZE.default} when left out, at most ${PAGE_SIZE.max}.`,
        }),
        after: t.arg.string({ description: 'Return the deliveries after (older than) this cursor: an edge\'s `cursor`, or `pageInfo.endCursor`.' }),
        status: t.arg({ type: WebhookDeliveryStatus, description: 'Only the deliveries with this status.' }),
      },
      resolve: (endpoint, { first, after, status }, ctx) =>
        webhookDeliveries(ctx.db, endpoint.id, pageArguments('delivery', { first, after }), status ?? null),
    }),
  }),
});
