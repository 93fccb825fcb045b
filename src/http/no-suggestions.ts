/**
 * No "Did you mean ...?" in any error: graphql-js appends suggestions to validation messages
 * (fields, arguments, types, enum values, inline fragments on an interface) and to variable
 * coercion messages (input fields), and each one names a part of the schema that introspection
 * may be hiding. graphql-armor's blockFieldSuggestion covers only some of them.
 */
import type { Plugin } from 'graphql-yoga';

/** graphql-js's `didYouMean` always appends this, last, to the message. */
const SUGGESTION = ' Did you mean ';

export function withoutSuggestions(message: string): string {
  const at = message.lastIndexOf(SUGGESTION);
  return at === -1 ? message : message.slice(0, at);
}

export function useNoSuggestions(): Plugin {
  return {
    onResultProcess({ result }) {
      for (const one of Array.isArray(result) ? result : [result]) {
        if (!one || typeof one !== 'object' || !('errors' in one) || !one.errors) continue;
        for (const error of one.errors) {
          const message = withoutSuggestions(error.message);
          if (message !== error.message) (error as { message: string }).message = message;
        }
      }
    },
  };
}
