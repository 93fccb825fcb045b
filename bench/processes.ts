/**
 * The processes a benchmark run owns: benchmark servers started as children (with an IPC channel,
 * so they exit when this process goes away), what /proc says about their CPU time and memory, and
 * one list of things to undo, run once whether the bench ends normally, fails or is interrupted.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from '../scripts/build.mjs';
import type { ServerMessage } from './servers/serve.ts';
import type { ServerName } from './workloads.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));

// ---------------------------------------------------------------------------------------------
// Cleanup

const undo: Array<() => Promise<unknown>> = [];

/** Registers something to undo at the end; returns a function that forgets it once undone early. */
export function atExit(action: () => Promise<unknown>): () => void {
  undo.push(action);
  return () => {
    const index = undo.indexOf(action);
    if (index >= 0) undo.splice(index, 1);
  };
}

/** Runs every registered action, newest first; a failing one does not stop the others. */
export async function cleanUp(log: (message: string) => void): Promise<void> {
  while (undo.length > 0) {
    const action = undo.pop()!;
    await action().catch((error: unknown) => log(`cleanup: ${(error as Error).message}`));
  }
}

// ---------------------------------------------------------------------------------------------
// Children

const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** Ends a child: SIGTERM, then SIGKILL if it is still there after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Keeps the last few kilobytes a child wrote, to show when it fails. */
export function tail(stream: NodeJS.ReadableStream | null, limit = 4_000): () => string {
  let text = '';
  stream?.on('data', (chunk: Buffer) => {
    text = (text + chunk.toString('utf8')).slice(-limit);
  });
  return () => text.trim();
}

export interface BenchServer {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000;

// Inside the repository, so the bundles find the packages left out of them in node_modules/.
const BUILT = path.join(ROOT, 'bench', '.build');

/**
 * Bundles `bench/servers/<name>.ts` for each name, so every server runs as plain JavaScript under
 * node, as in production: no tsx loader in its CPU or memory. The gateway is bundled exactly as
 * `npm run build` bundles it; the peers with esbuild's defaults for node, which PostGraphile
 * needs (with the ES module builds of its packages it answers every request with an error).
 */
export async function buildServers(names: readonly ServerName[]): Promise<void> {
  await rm(BUILT, { recursive: true, force: true });
  const servers = path.join(ROOT, 'bench', 'servers');
  const gateway = names.filter((name) => name === 'gateway');
  const peers = names.filter((name) => name !== 'gateway');
  await bundle({ entries: gateway, outdir: BUILT, sourceRoot: servers });
  await bundle({ entries: peers, outdir: path.join(BUILT, 'peers'), sourceRoot: servers, preferModules: false });
}

const builtServer = (name: ServerName) => path.join(BUILT, ...(name === 'gateway' ? [] : ['peers']), `${name}.js`);

/**
 * Starts the built `bench/servers/<name>.ts` (see buildServers) in a fresh Node process. Resolves with the server, or with the
 * reason the variant cannot run on this build.
 */
export async function startServer(
  name: ServerName,
  env: Record<string, string>,
  nodeFlags: string[] = [],
): Promise<BenchServer | { unavailable: string }> {
  const child = spawn(process.execPath, [...nodeFlags, builtServer(name)], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production', ...env },
    // stdout (the gateway's request log in production) is written and thrown away, as a log
    // shipper would take it; stderr is kept for failures.
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const forget = atExit(() => stopChild(child));
  const stderr = tail(child.stderr);
  let stopping = false;
  const stop = async () => {
    stopping = true;
    await stopChild(child);
    forget();
  };
  try {
    const message = await new Promise<ServerMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      child.once('message', (value) => {
        clearTimeout(timer);
        resolve(value as ServerMessage);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`exited during start (${code ?? signal})`));
      });
    });
    if (message.type === 'unavailable') {
      await stop();
      return { unavailable: message.reason };
    }
    child.on('exit', (code, signal) => {
      if (!stopping) console.error(`[bench] the ${name} server exited unexpectedly (${code ?? signal}):\n${stderr()}`);
    });
    return { pid: child.pid!, port: message.port, stop };
  } catch (error) {
    await stop();
    throw new Error(`the ${name} server did not start: ${(error as Error).message}\n${stderr()}`);
  }
}

// ---------------------------------------------------------------------------------------------
// /proc

/** The fields of /proc/<pid>/stat after the command name, which may itself hold spaces. */
function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

// Indexes in statFields(): ppid is field 4 of the file, utime 14, stime 15, cutime 16, cstime 17.
const PPID = 1;
const UTIME = 11;

function ticks(fields: string[], from: number, count: number): number {
  let sum = 0;
  for (let i = from; i < from + count; i++) sum += Number(fields[i]);
  return sum;
}

/** CPU time (user + system) a process has used so far, in ms. */
export function cpuMs(pid: number): number {
  const fields = statFields(pid);
  if (!fields) throw new Error(`process ${pid} is gone`);
  return (ticks(fields, UTIME, 2) * 1000) / TICKS_PER_SECOND;
}

/**
 * CPU time of a PostgreSQL server so far, in ms: the postmaster, its live children (backends,
 * background workers) and the children it has already reaped.
 */
export function postgresCpuMs(postmasterPid: number): number {
  const postmaster = statFields(postmasterPid);
  if (!postmaster) throw new Error(`PostgreSQL (process ${postmasterPid}) is gone`);
  let total = ticks(postmaster, UTIME, 4);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields && Number(fields[PPID]) === postmasterPid) total += ticks(fields, UTIME, 2);
  }
  return (total * 1000) / TICKS_PER_SECOND;
}

/** Resident memory of a process in MiB, or undefined once it is gone. */
export function rssMb(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}
