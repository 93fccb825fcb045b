/** createWebhookEndpoint, deleteWebhookEndpoint and redeliverWebhookEvents, their input and payloads. */
import type { EventType } from '../../domain/customer-events.ts';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  redeliverWebhookEvents,
  REDELIVER_LIMIT,
  WEBHOOK_URL_MAX_LENGTH,
  type WebhookEndpointView,
} from '../../domain/webhook-endpoints.ts';
import { builder } from '../builder.ts';
import { toValidationErrors, ValidationError, type ErrorShape } from './errors.ts';
import { CustomerEventType } from './customer-events.ts';
import { WebhookEndpoint } from './webhook-endpoint.ts';

const CreateWebhookEndpointInput = builder.inputType('CreateWebhookEndpointInput', {
  description: 'A receiver of change events.',
  fields: (t) => ({
    url: t.field({
      type: 'URL',
      required: true,
      description:
        `Where to POST events: http or https, at most ${WEBHOOK_URL_MAX_LENGTH} characters, and a host that is and resolves only ` +
        'to public addresses (not loopback, private, link-local or unspecified), unless the server allows private networks.',
    }),
    eventTypes: t.field({
      type: [CustomerEventType],
      required: { list: false, items: true },
      description: 'The kinds of event to send; null or left out: every kind (stored as the full list).',
    }),
  }),
});

type CreatePayloadShape = { endpoint: WebhookEndpointView | null; secret: string | null; errors: ErrorShape[] };

const CreateWebhookEndpointPayload = builder.objectRef<CreatePayloadShape>('CreateWebhookEndpointPayload').implement({
  description: 'The new endpoint and its signing secret, or the reasons none was created.',
  fields: (t) => ({
    endpoint: t.field({ type: WebhookEndpoint, nullable: true, description: 'The endpoint created; null when there are errors.', resolve: (p) => p.endpoint }),
    secret: t.exposeString('secret', {
      nullable: true,
      description:
        'The signing secret, `whsec_` and the base64 of 32 random bytes (Standard Webhooks). Shown here only, once: keep it to ' +
        'verify the `webhook-signature` header. Null when there are errors.',
    }),
    errors: t.field({ type: [ValidationError], description: 'Every reason nothing was created; empty on success.', resolve: (p) => p.errors }),
  }),
});

const DeleteWebhookEndpointPayload = builder.objectRef<{ deletedId: string | null; errors: ErrorShape[] }>('DeleteWebhookEndpointPayload').implement({
  description: 'The id of the endpoint deleted, or why none was.',
  fields: (t) => ({
    deletedId: t.exposeID('deletedId', { nullable: true, description: 'The id of the endpoint deleted; null when there are errors.' }),
    errors: t.field({ type: [ValidationError], description: 'NOT_FOUND when no endpoint has the id; empty on success.', resolve: (p) => p.errors }),
  }),
});

type RedeliverPayloadShape = { queued: number; lastQueuedEventId: string | null; errors: ErrorShape[] };

const RedeliverWebhookEventsPayload = builder.objectRef<RedeliverPayloadShape>('RedeliverWebhookEventsPayload').implement({
  description: 'How many events were queued again.',
  fields: (t) => ({
    queued: t.exposeInt('queued', { description: `How many events were queued again (at most ${REDELIVER_LIMIT.toLocaleString('en-US')}); 0 when there are errors.` }),
    lastQueuedEventId: t.exposeID('lastQueuedEventId', {
      nullable: true,
      description:
        `The id of the last event queued; null when none was. When \`queued\` is ${REDELIVER_LIMIT.toLocaleString('en-US')}, more may follow: ` +
        'call again with it as `afterEventId`.',
    }),
    errors: t.field({ type: [ValidationError], description: 'Every reason nothing was queued; empty on success.', resolve: (p) => p.errors }),
  }),
});

builder.mutationField('createWebhookEndpoint', (t) =>
  t.field({
    type: CreateWebhookEndpointPayload,
    description:
      'Registers a receiver of change events. It gets the events committed after it was created; its signing secret is ' +
      'returned here, and never again. Needs `webhooks:manage`.',
    authScopes: { 'webhooks:manage': true },
    args: { input: t.arg({ type: CreateWebhookEndpointInput, required: true, description: 'The receiver.' }) },
    resolve: async (_root, { input }, ctx) => {
      const result = await createWebhookEndpoint(ctx.db, {
        url: input.url.href,
        eventTypes: input.eventTypes as EventType[] | null | undefined,
        createdBy: ctx.principal!.name,
        settings: ctx.webhooks,
      });
      return { endpoint: result.endpoint, secret: result.secret, errors: toValidationErrors(result.errors) };
    },
  }),
);

builder.mutationField('deleteWebhookEndpoint', (t) =>
  t.field({
    type: DeleteWebhookEndpointPayload,
    description: 'Deletes an endpoint and its delivery log, pending deliveries included. Needs `webhooks:manage`.',
    authScopes: { 'webhooks:manage': true },
    args: { id: t.arg.id({ required: true, description: 'The endpoint\'s id.' }) },
    resolve: async (_root, { id }, ctx) => {
      const result = await deleteWebhookEndpoint(ctx.db, id);
      return { deletedId: result.deletedId, errors: toValidationErrors(result.errors) };
    },
  }),
);

builder.mutationField('redeliverWebhookEvents', (t) =>
  t.field({
    type: RedeliverWebhookEventsPayload,
    description:
      'Queues again, in order, every event after `afterEventId` (all when null) that the endpoint took since it was created, ' +
      `of its event types, at most ${REDELIVER_LIMIT.toLocaleString('en-US')} per call; each is sent again with the same \`webhook-id\`. An endpoint ` +
      'disabled by a 410 Gone is enabled again. Needs `webhooks:manage`.',
    authScopes: { 'webhooks:manage': true },
    args: {
      endpointId: t.arg.id({ required: true, description: 'The endpoint\'s id.' }),
      afterEventId: t.arg.id({ description: 'Queue the events after this event id (a `CustomerChange.id`); null: from the first.' }),
    },
    resolve: async (_root, { endpointId, afterEventId }, ctx) => {
      const result = await redeliverWebhookEvents(ctx.db, endpointId, afterEventId);
      return { ...result, errors: toValidationErrors(result.errors) };
    },
  }),
);
