import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { findPgBouncer, PGBOUNCER_MISSING, PGBOUNCER_REQUIRED } from './test/support/pgbouncer.ts';

const require = createRequire(import.meta.url);

/** The run's PostgreSQL: only the projects that need one start it (see test/support/global-setup.ts). */
const POSTGRES = ['test/support/global-setup.ts'];

/**
 * The contract and concurrency suites, run a second time with the code under test reaching
 * PostgreSQL through PgBouncer in transaction mode (test/support/pgbouncer-setup.ts).
 */
const THROUGH_PGBOUNCER = [
  'test/integration/update-customer.test.ts',
  'test/integration/update-customers.test.ts',
  'test/integration/idempotency.test.ts',
  'test/integration/email-race.test.ts',
  'test/system/concurrency.test.ts',
];
// Skipped where pgbouncer is missing, except in CI, where its setup then fails the run.
const withPgBouncer = Boolean(findPgBouncer()) || PGBOUNCER_REQUIRED;
// Vitest reads this file once per project: say it once.
const WARNED = Symbol.for('customer-gateway.pgbouncer-missing');
if (!withPgBouncer && !(globalThis as Record<symbol, unknown>)[WARNED]) {
  (globalThis as Record<symbol, unknown>)[WARNED] = true;
  console.warn(`[customer-gateway] ${PGBOUNCER_MISSING}: the PgBouncer project is skipped`);
}

/**
 * Vitest orders projects by name (integration, system, unit), which would leave the longest
 * files, the system tests, for the end of the run. They go first, and the short files fill in.
 */
class SystemFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const order = ['system', 'pgbouncer', 'integration', 'unit'];
    return (await super.sort(files)).sort((a, b) => order.indexOf(a.project.name) - order.indexOf(b.project.name));
  }
}

export default defineConfig({
  resolve: {
    // graphql 16 ships CommonJS and ESM builds; Node (and so every dependency) loads the CommonJS
    // one, while Vite would pick the ESM one for our sources: two copies that refuse each other.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default on two cores is one worker; most files wait on PostgreSQL or a child
    // process, so two at a time finish the run sooner.
    maxWorkers: 2,
    reporters: ['default'],
    sequence: { sequencer: SystemFirst },
    // A pyramid: pure rules without a database, HTTP over real PostgreSQL, then whole processes.
    projects: [
      // Pure functions and no state: the unit files may share one module graph.
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], isolate: false } },
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'], globalSetup: POSTGRES } },
      { extends: true, test: { name: 'system', include: ['test/system/**/*.test.ts'], globalSetup: POSTGRES } },
      ...(withPgBouncer
        ? [{ extends: true as const, test: { name: 'pgbouncer', include: THROUGH_PGBOUNCER, globalSetup: [...POSTGRES, 'test/support/pgbouncer-setup.ts'] } }]
        : []),
    ],
  },
});
