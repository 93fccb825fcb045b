/** The `webhookEndpoints` query. */
import { listWebhookEndpoints, WEBHOOK_MAX_ENDPOINTS } from '../../domain/webhook-endpoints.ts';
import { builder } from '../builder.ts';
import { WebhookEndpoint } from './webhook-endpoint.ts';

builder.queryField('webhookEndpoints', (t) =>
  t.field({
    type: [WebhookEndpoint],
    description: 'Every webhook endpoint, oldest first, without their secrets. Needs `webhooks:manage`.',
    authScopes: { 'webhooks:manage': true },
    // What each endpoint selects counts once per endpoint there may be.
    complexity: { field: 1, multiplier: WEBHOOK_MAX_ENDPOINTS },
    resolve: (_root, _args, ctx) => listWebhookEndpoints(ctx.db),
  }),
);
