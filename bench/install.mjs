// Run by `npm run bench` before the bench itself: installs bench/package.json's packages (the load
// generator and PostGraphile) into bench/node_modules on first use, and again when its lockfile
// changes. They stay out of the service's own install, which neither needs nor should warn about.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BENCH = fileURLToPath(new URL('.', import.meta.url));
const lock = new URL('package-lock.json', import.meta.url);
const installed = new URL('node_modules/.package-lock.json', import.meta.url);

if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs) {
  console.log('[bench] installing the benchmark packages into bench/node_modules (first use; about 20 s)');
  const npm = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: BENCH, stdio: 'inherit' });
  if (npm.status !== 0) {
    console.error('[bench] npm ci in bench/ failed');
    process.exit(npm.status ?? 1);
  }
}
