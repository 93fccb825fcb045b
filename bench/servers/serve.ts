/**
 * What every benchmark server shares with `bench/run.ts`: the database it is given, its pool
 * size, and the IPC messages that announce its port. A server listens on a free loopback port,
 * reports it, and stops (closing its pool) on SIGTERM, SIGINT or when the orchestrator's IPC
 * channel goes away, so no server outlives a benchmark run.
 */
import type { Server } from 'node:http';

/** Every variant gets the same pool, so the comparison is of code paths, not of connections. */
export const POOL_SIZE = 10;

export type ServerMessage =
  | { type: 'ready'; port: number }
  /** The variant cannot run against this build (e.g. a mutation that has not landed yet). */
  | { type: 'unavailable'; reason: string };

export function databaseUrl(): string {
  const url = process.env.BENCH_DATABASE_URL;
  if (!url) throw new Error('BENCH_DATABASE_URL is not set; benchmark servers are started by bench/run.ts');
  return url;
}

function report(message: ServerMessage): void {
  if (process.send) process.send(message);
  else console.log(JSON.stringify(message));
}

/** Reports that this variant cannot run here, then exits. */
export function unavailable(reason: string): never {
  report({ type: 'unavailable', reason });
  process.exit(0);
}

export async function serve(server: Server, close: () => Promise<unknown>): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the server has no TCP address');

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    server.close();
    server.closeAllConnections();
    // A pool that will not close must not keep the process alive past the orchestrator's patience.
    setTimeout(() => process.exit(1), 5_000).unref();
    close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
  report({ type: 'ready', port: address.port });
}
