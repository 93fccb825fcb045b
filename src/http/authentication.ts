/**
 * Who is calling: the token from `X-Auth-Token` or `Authorization: Bearer`. No token is allowed
 * through (introspection and GraphiQL need none; fields that need a scope refuse with 401 later);
 * a token that is presented but unknown or revoked is refused at once with 401.
 */
import type { Plugin } from 'graphql-yoga';
import { TokenCache } from '../domain/token-cache.ts';
import { authenticate, TOKEN_CHANGES_CHANNEL } from '../domain/tokens.ts';
import { listenForNotifications, type Heartbeat } from '../infra/database/notifications.ts';
import type { Database } from '../infra/database/prisma.ts';
import { unauthenticated } from './graphql-errors.ts';
import { requestState } from './request-state.ts';

/** The token a request presents, from `X-Auth-Token` or `Authorization: Bearer`. */
export function presentedToken(headers: Headers): string | null {
  const direct = headers.get('x-auth-token');
  if (direct) return direct.trim();
  const authorization = headers.get('authorization');
  const match = authorization ? /^Bearer\s+(.+)$/i.exec(authorization) : null;
  return match?.[1]?.trim() ?? null;
}

export interface AuthenticationOptions {
  cacheTokens: boolean;
  /** How long a cached token is served: the longest a revocation can take if notifications fail. */
  ttlMs: number;
  /** Default: `DEFAULT_HEARTBEAT`. */
  heartbeat?: Heartbeat | false | undefined;
}

/**
 * With `cacheTokens`, tokens already seen are served from memory for `ttlMs` at most, and only
 * while this process hears the database's announcements of token changes (a revocation reaches
 * every replica within milliseconds); while it cannot hear them, every request looks its token up
 * again.
 */
export function useAuthentication(db: Database, { cacheTokens, ttlMs, heartbeat }: AuthenticationOptions): Plugin {
  const cache = cacheTokens ? new TokenCache({ ttlMs }) : undefined;
  const listener =
    cache &&
    listenForNotifications(
      db,
      TOKEN_CHANGES_CHANNEL,
      { onNotification: (tokenHash) => cache.forget(tokenHash), onListening: (listening) => cache.setActive(listening) },
      { heartbeat },
    );
  return {
    onDispose: () => listener?.close(),
    async onParams({ request }) {
      const secret = presentedToken(request.headers);
      if (!secret) return;
      const principal = await authenticate(db, secret, cache);
      if (!principal) throw unauthenticated('This API token is unknown or revoked');
      requestState(request).principal = principal;
    },
  };
}
