/** Page arguments as the schema reads them: a bad `first` or `after` is the client's error. */
import { badUserInput } from '../../http/graphql-errors.ts';
import { pageRequest, pageSize, PagingError, type CursorKind, type PageRequest } from '../../domain/paging.ts';

export function pageArguments(kind: CursorKind, args: { first?: number | null; after?: string | null }): PageRequest {
  try {
    return pageRequest(kind, args);
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
