/**
 * Headers for caches and browsers. GraphQL answers depend on the caller's token (customer data,
 * or the GraphiQL page with the development token) and their CORS headers on the Origin, so no
 * cache may keep one or hand it to another caller, even for a GET of the same URL. And no answer
 * is content-sniffed.
 */
import type { Plugin } from 'graphql-yoga';

const VARY = ['Origin', 'X-Auth-Token', 'Authorization'];

export function useResponseHeaders({ graphqlEndpoint }: { graphqlEndpoint: string }): Plugin {
  return {
    onResponse({ request, response }) {
      response.headers.set('X-Content-Type-Options', 'nosniff');
      if (request.method === 'OPTIONS' || new URL(request.url).pathname !== graphqlEndpoint) return;
      response.headers.set('Cache-Control', 'no-store');
      vary(response.headers, VARY);
    },
  };
}

/** Adds each name to Vary unless it is there already (CORS may have set Vary: Origin). */
function vary(headers: Headers, names: readonly string[]): void {
  const present = new Set((headers.get('vary') ?? '').split(',').map((name) => name.trim().toLowerCase()));
  for (const name of names) if (!present.has(name.toLowerCase())) headers.append('Vary', name);
}
