/**
 * `/readyz`: 503 at once when shutdown has begun, else whether the database answers. The
 * database's answer is kept for `cacheMs`, and probes arriving while a check runs share it, so
 * a flood of probes costs at most one query per period.
 */
import { useReadinessCheck, type Plugin } from 'graphql-yoga';

export interface ReadinessOptions {
  endpoint: string;
  /** True when the database answers; must never throw nor hang. */
  check: () => Promise<boolean>;
  cacheMs: number;
  isShuttingDown?: (() => boolean) | undefined;
}

export function useReadiness({ endpoint, check, cacheMs, isShuttingDown }: ReadinessOptions): Plugin {
  let last: { at: number; ready: Promise<boolean> } | undefined;
  const cachedCheck = () => {
    const now = performance.now();
    if (!last || now - last.at >= cacheMs) last = { at: now, ready: check() };
    return last.ready;
  };
  return useReadinessCheck({ endpoint, check: () => (isShuttingDown?.() ? false : cachedCheck()) });
}
