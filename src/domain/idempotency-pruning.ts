/** Deletes idempotency records once the contract's retention is over: the timer, apart from the rules. */
import type { Database } from '../infra/database/prisma.ts';

/** The contract keeps keys for at least 24 hours; pruning removes them only after that. */
export const IDEMPOTENCY_KEY_RETENTION_MS = 24 * 60 * 60 * 1000;
export const IDEMPOTENCY_KEY_PRUNE_INTERVAL_MS = 60 * 60 * 1000;

/** Deletes the records created before `olderThan`; returns how many. */
export async function pruneIdempotencyKeys(db: Database, olderThan: Date): Promise<number> {
  const { count } = await db.idempotencyKey.deleteMany({ where: { createdAt: { lt: olderThan } } });
  return count;
}

export interface PruningOptions {
  /** How long a key is kept; at least the contract's 24 hours. */
  retentionMs?: number;
  intervalMs?: number;
  onPruned?: (count: number) => void;
  onError?: (error: unknown) => void;
}

/**
 * Prunes now and then every `intervalMs`, on a timer that never keeps the process alive; `stop`
 * ends it and waits for a run in progress.
 */
export function startIdempotencyKeyPruning(db: Database, options: PruningOptions = {}): { stop(): Promise<void> } {
  const { retentionMs = IDEMPOTENCY_KEY_RETENTION_MS, intervalMs = IDEMPOTENCY_KEY_PRUNE_INTERVAL_MS } = options;
  let running: Promise<void> | undefined;
  const run = () => {
    // A slow run is not overlapped by the next one.
    running ??= pruneIdempotencyKeys(db, new Date(Date.now() - retentionMs))
      .then((count) => options.onPruned?.(count), (error: unknown) => options.onError?.(error))
      .finally(() => {
        running = undefined;
      });
  };
  run();
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
