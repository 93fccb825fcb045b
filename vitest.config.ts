import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const require = createRequire(import.meta.url);

/** The run's PostgreSQL: only the projects that need one start it (see test/support/global-setup.ts). */
const POSTGRES = ['test/support/global-setup.ts'];

/**
 * Vitest orders projects by name (integration, system, unit), which would leave the longest
 * files, the system tests, for the end of the run. They go first, and the short files fill in.
 */
class SystemFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const order = ['system', 'integration', 'unit'];
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
    ],
  },
});
