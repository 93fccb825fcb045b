/**
 * GraphQL over SSE ("distinct connections" mode) answers every request with 200 and reports
 * refusals inside the stream, as a `next` event holding the errors: clients such as graphql-sse
 * treat any other status as a broken connection and retry it, never showing the error. Yoga
 * gives an event stream the status of its errors (401, 403, 429...); this puts it back to 200,
 * keeping the errors' codes and headers such as Retry-After.
 */
import type { Plugin } from 'graphql-yoga';

export function useEventStreamStatus(): Plugin {
  return {
    onResponse({ response, setResponse, fetchAPI }) {
      if (response.status === 200 || !response.headers.get('content-type')?.startsWith('text/event-stream')) return;
      setResponse(new fetchAPI.Response(response.body, { status: 200, headers: response.headers }));
    },
  };
}
