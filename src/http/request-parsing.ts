/**
 * A request whose parameters cannot be parsed is the client's mistake: 400 and BAD_REQUEST, in
 * words that do not quote the request back. yoga's GET and form parsers `JSON.parse` the
 * `variables` and `extensions` parameters unguarded, so `?variables=not-json` reached clients as
 * a 500 "Unexpected error."; its JSON body parser puts the parser's message, which quotes part
 * of the body (a password, say), under `extensions.originalError`: only its name is kept.
 */
import { GraphQLError } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { badRequest } from './graphql-errors.ts';

export function useRequestParsingErrors(): Plugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return;
      setRequestParser(async (request) => {
        try {
          return await requestParser(request);
        } catch (error) {
          throw asBadRequest(error);
        }
      });
    },
  };
}

function asBadRequest(error: unknown): unknown {
  if (error instanceof SyntaxError) {
    return badRequest('The variables or extensions parameter is not valid JSON.');
  }
  const original = error instanceof GraphQLError ? error.extensions['originalError'] : undefined;
  if (original && typeof original === 'object' && 'message' in original) {
    // Its name stays: yoga answers 400 rather than 200 for an error that has an original one.
    const { name } = original as { name?: unknown };
    return createGraphQLError((error as GraphQLError).message, { extensions: { ...(error as GraphQLError).extensions, originalError: { name } } });
  }
  return error;
}
