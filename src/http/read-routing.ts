/**
 * Where an operation reads (the context's `reads`): a query may read from a replica that has
 * everything its token was already given; a mutation, and a subscription's events, read the
 * primary. As each ends (each event, for a subscription), the token is recorded as given what it
 * read or wrote, so its next query never reads an older state.
 */
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Principal } from '../domain/principal.ts';
import type { ReadReplicas, ReadRoute } from '../infra/database/read-replicas.ts';

export function useReadRouting(replicas: ReadReplicas): Plugin<{ reads?: ReadRoute }> {
  const readerOf = (context: unknown) => (context as { principal?: Principal | null }).principal?.tokenId ?? null;
  return {
    onExecute({ args, extendContext }) {
      const reader = readerOf(args.contextValue);
      const query = getOperationAST(args.document, args.operationName)?.operation === 'query';
      const reads = query ? replicas.forQuery(reader) : replicas.forWrite(reader);
      extendContext({ reads });
      return { onExecuteDone: () => reads.delivered() };
    },
    onSubscribe({ args, extendContext }) {
      const reads = replicas.forWrite(readerOf(args.contextValue));
      extendContext({ reads });
      return { onSubscribeResult: () => ({ onNext: () => reads.delivered() }) };
    },
  };
}
