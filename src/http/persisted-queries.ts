/**
 * Automatic persisted queries (Apollo's protocol) through @graphql-yoga/plugin-apq, which
 * answers hashes and checks that a query matches its hash. What it stores is decided here: a
 * query is kept only when an authenticated caller sent it, it passed validation (document limits
 * included), and it is at most `maxQueryBytes`; the store keeps the `maxQueries` most recently
 * used. Running a stored hash needs no more than running its text would.
 */
import { createInMemoryAPQStore, useAPQ } from '@graphql-yoga/plugin-apq';
import type { Plugin } from 'graphql-yoga';
import { requestState } from './request-state.ts';

export interface PersistedQueryOptions {
  maxQueryBytes: number;
  maxQueries: number;
}

export function usePersistedQueries({ maxQueryBytes, maxQueries }: PersistedQueryOptions): Plugin {
  const store = createInMemoryAPQStore({ max: maxQueries });
  // A query sent with its hash, kept beside the request until validation has judged it.
  const offered = new WeakMap<Request, { hash: string; query: string }>();
  return {
    onPluginInit({ addPlugin }) {
      addPlugin(useAPQ({ store: { get: (hash) => store.get(hash), set: () => {} } }));
    },
    onParams({ request, params }) {
      const hash = (params.extensions?.['persistedQuery'] as { sha256Hash?: unknown } | undefined)?.sha256Hash;
      if (typeof hash !== 'string' || typeof params.query !== 'string') return;
      if (Buffer.byteLength(params.query) <= maxQueryBytes) offered.set(request, { hash, query: params.query });
    },
    onValidate({ context }) {
      const request = (context as { request?: Request }).request;
      const candidate = request && offered.get(request);
      if (!request || !candidate) return;
      return ({ valid }) => {
        if (valid && requestState(request).principal) store.set(candidate.hash, candidate.query);
      };
    },
  };
}
