/**
 * The request body limit (413). yoga's own `maxRequestBodySize` pipes every body through a
 * stream to count it, which costs CPU on every request (see the README's benchmarks). A
 * Content-Length already bounds the body (Node's parser reads exactly that many bytes), so only
 * a body without one (chunked) is counted as it streams.
 */
import type { Plugin } from 'graphql-yoga';
import { badRequest, requestTooLarge } from './graphql-errors.ts';

const CONTENT_LENGTH = /^\d+$/;

export function useRequestBodyLimit(limit: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const contentLength = request.headers.get('content-length');
      if (contentLength !== null) {
        if (!CONTENT_LENGTH.test(contentLength)) {
          throw badRequest('Content-Length header is invalid.');
        }
        if (Number(contentLength) > limit) throw requestTooLarge();
        return;
      }
      if (!requestParser || !request.body) return;
      const parse = requestParser;
      setRequestParser((unbounded) => {
        let bytes = 0;
        const counted = unbounded.body!.pipeThrough(
          new fetchAPI.TransformStream({
            transform(chunk: Uint8Array, controller) {
              bytes += chunk.byteLength;
              if (bytes > limit) controller.error(requestTooLarge());
              else controller.enqueue(chunk);
            },
          }),
        );
        // @ts-expect-error duplex is required for a streamed body but missing from the types
        return parse(new fetchAPI.Request(unbounded.url, { method: unbounded.method, headers: unbounded.headers, signal: unbounded.signal, body: counted, duplex: 'half' }));
      });
    },
  };
}
