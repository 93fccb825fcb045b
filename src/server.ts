/**
 * Builds the HTTP application from its dependencies. Nothing here reads the environment or
 * listens on a port: `main.ts` does, and tests call this factory directly.
 */
import { createYoga, useReadinessCheck, type YogaServerInstance } from 'graphql-yoga';
import type { Database } from './infra/database/prisma.ts';
import { authenticate } from './domain/tokens.ts';
import { schema } from './schema/index.ts';
import type { Context } from './schema/builder.ts';

export interface ServerDependencies {
  db: Database;
  /** Production turns off GraphiQL and other development conveniences. */
  production?: boolean;
}

export type GatewayServer = YogaServerInstance<Record<string, unknown>, Context>;

/** The token a request presents, from `X-Auth-Token` or `Authorization: Bearer`. */
export function presentedToken(headers: Headers): string | null {
  const direct = headers.get('x-auth-token');
  if (direct) return direct.trim();
  const authorization = headers.get('authorization');
  const match = authorization ? /^Bearer\s+(.+)$/i.exec(authorization) : null;
  return match?.[1]?.trim() ?? null;
}

export function createServer({ db, production = false }: ServerDependencies): GatewayServer {
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: '/graphql',
    healthCheckEndpoint: '/healthz',
    landingPage: false,
    graphiql: !production && { title: 'customer-gateway' },
    context: async ({ request }): Promise<Context> => {
      const secret = presentedToken(request.headers);
      return { db, principal: secret ? await authenticate(db, secret) : null };
    },
    plugins: [
      useReadinessCheck({
        endpoint: '/readyz',
        check: async () => {
          try {
            await db.$queryRaw`SELECT 1`;
            return true;
          } catch {
            return false;
          }
        },
      }),
    ],
  });
}
