/**
 * The PgBouncer project's PgBouncer, in front of the run's PostgreSQL (global-setup.ts, listed
 * before this file): the suites of that project reach their databases through it.
 */
import type { TestProject } from 'vitest/node';
import { startPgBouncer } from './pgbouncer.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The `postgres` database through PgBouncer, with `pgbouncer=true`; unset outside the PgBouncer project. */
    pgbouncerUrl: string | undefined;
  }
}

export default async function setup(project: TestProject) {
  const bouncer = await startPgBouncer(project.getProvidedContext().adminUrl);
  project.provide('pgbouncerUrl', bouncer.url('postgres'));
  return () => bouncer.stop();
}
