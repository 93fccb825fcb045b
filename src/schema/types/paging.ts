/** Page arguments as the schema reads them: a bad `first` or `after` is the client's error. */
import { badUserInput } from '../../http/graphql-errors.ts';
import { pageRequest, PagingError, type CursorKind, type PageRequest } from '../../domain/paging.ts';

export function pageArguments(kind: CursorKind, args: { first?: number | null; after?: string | null }): PageRequest {
  try {
    return pageRequest(kind, args);
  } catch (error) {
    if (error instanceof PagingError) throw badUserInput(error.message);
    throw error;
  }
}
