/** The one SchemaBuilder of the service and its plugin list. */
import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import DirectivesPlugin from '@pothos/plugin-directives';
import FederationPlugin from '@pothos/plugin-federation';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import type PrismaTypes from '../generated/pothos-prisma-types.ts';
import { getDatamodel } from '../generated/pothos-prisma-types.ts';
import { getNamedType, isLeafType } from 'graphql';
import type { Database } from '../infra/database/prisma.ts';
import type { ReadRoute } from '../infra/database/read-replicas.ts';
import type { ChangeFeed } from '../domain/change-feed.ts';
import { SCOPES, type Principal, type Scope } from '../domain/principal.ts';
import type { WebhookSettings } from '../domain/webhook-endpoints.ts';
import { forbidden, unauthenticated } from '../http/graphql-errors.ts';

export interface Context {
  /** The primary: writes, and everything that must see the latest state. */
  db: Database;
  /** Where customer reads go: a query's may go to a read replica (http/read-routing.ts). */
  reads: ReadRoute;
  /** Null when the request carried no token, or an unknown or revoked one. */
  principal: Principal | null;
  /** New idempotency keys a token may use in 24 hours. */
  idempotencyKeysPerDay: number;
  /** This process's follower of the change log, which live feeds read. */
  changeFeed: ChangeFeed;
  /** Which receivers webhook endpoints may have, and how many endpoints there may be. */
  webhooks: WebhookSettings;
}

type ScopeFlags = { [scope in Scope]: boolean };

/** Why a field needing a scope is refused: who calls is unknown (401), or may not do this (403). */
export function refusal(ctx: Context) {
  return ctx.principal ? forbidden() : unauthenticated();
}

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  AuthScopes: ScopeFlags;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    EmailAddress: { Input: string; Output: string };
    IP: { Input: string; Output: string };
    JSON: { Input: unknown; Output: unknown };
    URL: { Input: URL; Output: URL | string };
    /** Canonical text with 4 places on input; Prisma's Decimal or text on output. */
    Decimal: { Input: string; Output: { toFixed(places: number): string } | string };
  };
}>({
  // Federation last, after the plugins that wrap resolvers; Directives puts its @key in the SDL.
  plugins: [ScopeAuthPlugin, PrismaPlugin, RelayPlugin, ComplexityPlugin, DirectivesPlugin, FederationPlugin],
  defaultFieldNullability: false,
  // An operation's cost, which http/cost-limit.ts measures and limits per request: 1 per field
  // that returns objects, 0 per scalar; a paged field counts what it selects once per item of
  // its page (paging.ts's pageCost). Connection plumbing (edges, pageInfo) costs nothing.
  complexity: {
    fieldComplexity: (_args, _ctx, field) => ({ field: isLeafType(getNamedType(field.type)) ? 0 : 1, multiplier: 1 }),
  },
  prisma: {
    // Relations (formFields) load where the operation reads.
    client: (ctx) => ctx.reads.db,
    dmmf: getDatamodel(),
    exposeDescriptions: false,
    filterConnectionTotalCount: true,
    onUnusedQuery: null,
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeQueryOptions: false,
    nodesQueryOptions: false,
    pageInfoTypeOptions: { description: 'Where a page sits in the whole list.' },
    pageInfoFieldOptions: { description: 'Whether there are more pages, and the cursors to reach them.', complexity: 0 },
    hasNextPageFieldOptions: { description: 'Whether more items follow this page (ask with `after: endCursor`).' },
    hasPreviousPageFieldOptions: { description: 'Whether items come before this page.' },
    startCursorFieldOptions: { description: 'The cursor of the first item of the page, null when the page is empty.' },
    endCursorFieldOptions: { description: 'The cursor of the last item of the page, null when the page is empty.' },
    cursorFieldOptions: { description: 'Pass it as `after` to get the items that follow this one.' },
    nodeFieldOptions: { description: 'The item.' },
    edgesFieldOptions: { description: 'The items of this page, each with its cursor.', complexity: { field: 0, multiplier: 1 } },
  },
  scopeAuth: {
    authScopes: (ctx) => Object.fromEntries(SCOPES.map((scope) => [scope, ctx.principal?.scopes.has(scope) ?? false])) as ScopeFlags,
    unauthorizedError: (_parent, ctx) => refusal(ctx),
    // A subscription's scopes are checked once, before it starts, not on each event it sends.
    authorizeOnSubscribe: true,
  },
});

builder.queryType({ description: 'Reads. Customer data needs a token with `customers:read`; webhook endpoints need `webhooks:manage`.' });
builder.mutationType({
  description:
    'Writes; customer writes need a token with `customers:write`, webhook endpoint changes one with `webhooks:manage`. ' +
    'Errors about the input come back typed in the payload (`errors`), all of them at once, and then nothing is written.',
});
builder.subscriptionType({
  description: 'Live feeds, over GraphQL over SSE (`Accept: text/event-stream` at /graphql). Customer changes need `customers:read`.',
});
