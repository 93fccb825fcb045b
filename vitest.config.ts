import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

/** The run's PostgreSQL: only the projects that need one start it (see test/support/global-setup.ts). */
const POSTGRES = ['test/support/global-setup.ts'];

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
    // A pyramid: pure rules without a database, HTTP over real PostgreSQL, then whole processes.
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], isolate: false } },
      { extends: true, test: { name: 'integration', include: ['test/integration/**/*.test.ts'], globalSetup: POSTGRES } },
      { extends: true, test: { name: 'system', include: ['test/system/**/*.test.ts'], globalSetup: POSTGRES } },
    ],
  },
});
