/** Page arguments as the schema reads them: a bad `first` or `after` is the client's error. */
import { badUserInput } from '../../http/graphql-errors.ts';
import { afterKey, pageRequest, pageSize, PagingError, type CursorKind, type PageRequest } from '../../domain/paging.ts';

export function pageArguments(kind: CursorKind, args: { first?: number | null; after?: string | null }): PageRequest {
  return asClientError(() => pageRequest(kind, args));
}

/** The key an `after` names (a live feed's event), null when it is left out. */
export function afterArgument(kind: CursorKind, after: string | null | undefined): bigint | null {
  return after === null || after === undefined ? null : asClientError(() => afterKey(kind, after));
}

function asClientError<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof PagingError) throw badUserInput(error.message);
    throw error;
  }
}

/**
 * The cost of a paged field (see builder.ts): 1, plus what it selects once per item of the page
 * its `first` asks for, with the resolvers' default and cap (a negative `first` is refused: 0).
 */
export function pageCost(args: { first?: number | null }) {
  return { field: 1, multiplier: Math.max(0, pageSize(args.first)) };
}
