/**
 * PostGraphile 5 needs Node 22 or later: its reads call `Promise.withResolvers`, which Node 20
 * lacks (every `customerByRowId` then fails, while its mutations do not use it). Node 20 is still
 * supported here, so the PostGraphile server provides it when missing, as the standard defines it.
 */
declare global {
  interface PromiseConstructor {
    withResolvers?: unknown;
  }
}

if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers<T>(this: PromiseConstructor) {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new this<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

export {};
