/**
 * Waiting for something to happen, by asking until it has: never a fixed sleep. The check
 * returns a truthy value once the condition holds (a check that throws has not yet held).
 */
export interface WaitOptions {
  /** Fail after this long; a generous bound, not a measure of speed. */
  timeoutMs?: number;
  intervalMs?: number;
  /** What is awaited, for the failure message. */
  what?: string;
}

/** Resolves with the check's first truthy result; rejects with the last result or error after `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, { timeoutMs = 10_000, intervalMs = 20, what }: WaitOptions = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const result = await check();
      if (result) return result;
      last = result;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`waited ${timeoutMs} ms for ${what ?? String(check)}; last seen: ${seen}`, { cause: last });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
