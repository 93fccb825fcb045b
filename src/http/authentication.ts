/**
 * Who is calling: the token from `X-Auth-Token` or `Authorization: Bearer`. No token is allowed
 * through (introspection and GraphiQL need none; fields that need a scope refuse with 401 later);
 * a token that is presented but unknown or revoked is refused at once with 401.
 */
import type { Plugin } from 'graphql-yoga';
import { authenticate } from '../domain/tokens.ts';
import type { Database } from '../infra/database/prisma.ts';
import { unauthenticated } from './errors.ts';
import { requestState } from './request-state.ts';

/** The token a request presents, from `X-Auth-Token` or `Authorization: Bearer`. */
export function presentedToken(headers: Headers): string | null {
  const direct = headers.get('x-auth-token');
  if (direct) return direct.trim();
  const authorization = headers.get('authorization');
  const match = authorization ? /^Bearer\s+(.+)$/i.exec(authorization) : null;
  return match?.[1]?.trim() ?? null;
}

export function useAuthentication(db: Database): Plugin {
  return {
    async onParams({ request }) {
      const secret = presentedToken(request.headers);
      if (!secret) return;
      const principal = await authenticate(db, secret);
      if (!principal) throw unauthenticated('This API token is unknown or revoked');
      requestState(request).principal = principal;
    },
  };
}
