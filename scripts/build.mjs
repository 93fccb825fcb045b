// `npm run build`: compiles src/ to dist/ with tsc, emit only (`--noCheck`: `npm test` type-checks,
// and isolatedModules makes each file's output independent of types), then stamps the build.
// Imported, it tells whether dist/ is older than src/ (scripts/require-fresh-build.mjs).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCES = path.join(ROOT, 'src');
const DIST = path.join(ROOT, 'dist');
/** Written after a successful build: when the sources were read. */
const STAMP = path.join(DIST, 'build.json');

/** Why dist/ cannot be run as it is, or undefined when it is as new as every source. */
export function staleBuild() {
  let builtFrom;
  try {
    builtFrom = JSON.parse(readFileSync(STAMP, 'utf8')).sourcesReadAt;
  } catch {
    return 'dist/ is missing or was not built completely';
  }
  let changed;
  try {
    changed = readdirSync(SOURCES, { recursive: true }).find((file) => statSync(path.join(SOURCES, file)).mtimeMs > builtFrom);
  } catch {
    return undefined; // no src/ beside dist/: a deployment of the build alone
  }
  return changed === undefined ? undefined : `dist/ is older than src/${changed}`;
}

function build() {
  const sourcesReadAt = Date.now();
  rmSync(DIST, { recursive: true, force: true }); // no module of a deleted source survives
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const { status } = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json'), '--noCheck'], { stdio: 'inherit' });
  if (status !== 0) process.exit(status ?? 1);
  writeFileSync(STAMP, `${JSON.stringify({ sourcesReadAt })}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) build();
