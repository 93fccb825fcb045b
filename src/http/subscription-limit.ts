/**
 * Live subscriptions open at once, per token and process: each holds a connection and follows the
 * change log, so one token may not open them without bound. One more is refused before it starts
 * (429 TOO_MANY_SUBSCRIPTIONS); a subscription's place is given back when it ends, however it
 * ends: the client leaves, the server stops it, or it fails.
 */
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { tooManySubscriptions } from './graphql-errors.ts';
import { requestState } from './request-state.ts';

export interface SubscriptionLimit {
  /** Subscriptions one token may have open at once in this process. */
  maxPerToken: number;
}

export function useSubscriptionLimit({ maxPerToken }: SubscriptionLimit): Plugin {
  const open = new Map<number, number>();
  const release = (tokenId: number) => {
    const left = (open.get(tokenId) ?? 1) - 1;
    if (left > 0) open.set(tokenId, left);
    else open.delete(tokenId);
  };
  return {
    onSubscribe({ args, setResultAndStopExecution }) {
      const request = (args.contextValue as { request?: Request }).request;
      const principal = request && requestState(request).principal;
      // Without a token the field refuses (401) before anything is followed.
      if (!principal) return;
      const { tokenId } = principal;
      const held = open.get(tokenId) ?? 0;
      if (held >= maxPerToken) {
        setResultAndStopExecution({ errors: [tooManySubscriptions(maxPerToken)] });
        return;
      }
      open.set(tokenId, held + 1);
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) setResult(releasing(result, () => release(tokenId)));
          else release(tokenId);
        },
      };
    },
  };
}

/** `source`, calling `release` once when it ends: done, failed, or ended by its reader. */
function releasing<T>(source: AsyncIterable<T>, release: () => void): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let held = true;
  const end = () => {
    if (held) release();
    held = false;
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: () =>
      iterator.next().then(
        (result) => {
          if (result.done) end();
          return result;
        },
        (error: unknown) => {
          end();
          throw error;
        },
      ),
    return: (value?: unknown) => {
      end();
      return iterator.return?.(value) ?? Promise.resolve({ done: true, value: undefined });
    },
    throw: (error?: unknown) => {
      end();
      return iterator.throw?.(error) ?? Promise.reject(error);
    },
  };
}
