/** The results of a bench: one entry per variant and connection count, as a table and as JSON. */
import type { StartupResult } from './startup.ts';
import type { WebhookFigures } from './webhooks.ts';
import { effectOf, type Variant } from './workloads.ts';

export interface Entry {
  variant: Variant;
  connections: number;
  /** Customers seeded for the run, and how long seeding took (the same for every entry of a run). */
  customers: number;
  seedMs: number;
  /** Distinct customers each request names (10 for gateway-batch). */
  customersPerRequest: number;
  /** Why the variant did not run (e.g. a mutation not built yet); no figures then. */
  skipped?: string;
  /** The run failed; no figures then. */
  error?: string;
  warmupS: number;
  durationS: number;
  /** Successful responses per second in the measured window. */
  rps: number | null;
  /** Write variants: customers written per second (rps x customers per request). */
  customersPerSecond: number | null;
  /** Latency percentiles (ms) of successful responses; for `mixed`, of the non-password ones. */
  p50: number | null;
  p99: number | null;
  /** Measured-window 2xx responses reporting an error, plus connection errors and timeouts of the whole run. */
  errors: number | null;
  /** Measured-window responses with another status than 2xx. */
  non2xx: number | null;
  /** Connection errors and timeouts over the whole run. */
  transportErrors: number | null;
  /** Server process CPU (user + system) per measured response. */
  cpuMsPerRequest: number | null;
  /** PostgreSQL CPU (all its processes) per measured response. */
  postgresCpuMsPerRequest: number | null;
  /** The load generator's CPU per measured response (it shares the machine). */
  loadCpuMsPerRequest: number | null;
  rssAfterWarmupMb: number | null;
  rssPeakMb: number | null;
  /** For runs with password changes: their share of measured successes and their latencies. */
  password?: { share: number; requests: number; p50: number | null; p99: number | null };
  /** gateway-webhook: what the endpoint received (bench/webhooks.ts). */
  webhooks?: WebhookFigures;
  /**
   * Write variants: writes the database shows for this run (sum of versions) against successful
   * responses (warm-up included) times the customers each names; `history` the customer_changes
   * rows added, for variants that record one per write (null otherwise); `wrong` 200 responses
   * that did not show the write done.
   */
  writes: {
    acknowledged: number;
    expected: number;
    applied: number;
    history: number | null;
    unanswered: number;
    wrong: number;
    match: boolean;
  } | null;
  /** Read variants: 200 responses without the asked data, and writes the run made (both must be 0). */
  reads: { answered: number; wrong: number; applied: number; match: boolean } | null;
  /** Writes: customers per second against limit, postgraphile and postgraphile-audited. Reads by id: req/s against postgraphile-read. */
  ratioToLimit: number | null;
  ratioToPostgraphile: number | null;
  ratioToPostgraphileAudited: number | null;
}

/** Nearest-rank percentile of unsorted values. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * What each ratio compares a variant with: the same work done another way. Writes compare
 * customers written per second; reads by id compare req/s with PostGraphile's read. A name search
 * has no peer: PostGraphile's amber preset has no substring filter.
 */
function peers(variant: Variant): { limit: Variant | null; postgraphile: Variant | null; audited: Variant | null } {
  if (effectOf(variant) === 'write') return { limit: 'limit', postgraphile: 'postgraphile', audited: 'postgraphile-audited' };
  return { limit: null, postgraphile: variant === 'gateway-search' ? null : 'postgraphile-read', audited: null };
}

const throughput = (entry: Entry) => entry.customersPerSecond ?? entry.rps;

export function addRatios(entries: Entry[]): void {
  const ratio = (entry: Entry, peer: Variant | null) => {
    const other = entries.find((candidate) => candidate.variant === peer && candidate.connections === entry.connections);
    const mine = throughput(entry);
    const theirs = other ? throughput(other) : null;
    return mine !== null && theirs ? Number((mine / theirs).toFixed(3)) : null;
  };
  for (const entry of entries) {
    const peer = peers(entry.variant);
    entry.ratioToLimit = ratio(entry, peer.limit);
    entry.ratioToPostgraphile = ratio(entry, peer.postgraphile);
    entry.ratioToPostgraphileAudited = ratio(entry, peer.audited);
  }
}

function checkCell(entry: Entry): string {
  const { writes, reads } = entry;
  if (reads) return reads.match ? `reads ok (${reads.answered})` : `WRONG: ${reads.wrong} of ${reads.answered} reads wrong, ${reads.applied} writes`;
  if (!writes) return '-';
  const history = writes.history === null ? '' : `, ${writes.history} history`;
  return writes.match
    ? `ok (${writes.applied}${history})`
    : `MISMATCH: ${writes.applied} applied, ${writes.expected} acknowledged${history}${writes.wrong ? `, ${writes.wrong} wrong answers` : ''}`;
}

const fixed = (value: number | null | undefined, places: number) => (value === null || value === undefined ? '-' : value.toFixed(places));

export function formatTable(entries: Entry[], startup: StartupResult | string | undefined): string {
  const header = ['variant', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx', 'CPU ms/req', 'PG CPU ms/req', 'x limit', 'x postgraphile', 'x audited', 'check'];
  const rows = entries.map((entry) => {
    if (entry.skipped || entry.error) {
      return [entry.variant, String(entry.connections), `${entry.skipped ? 'skipped' : 'failed'}: ${entry.skipped ?? entry.error}`];
    }
    return [
      entry.variant,
      String(entry.connections),
      fixed(entry.rps, 0),
      fixed(entry.p50, 2),
      fixed(entry.p99, 2),
      String(entry.errors),
      String(entry.non2xx),
      fixed(entry.cpuMsPerRequest, 3),
      fixed(entry.postgresCpuMsPerRequest, 3),
      fixed(entry.ratioToLimit, 2),
      fixed(entry.ratioToPostgraphile, 2),
      fixed(entry.ratioToPostgraphileAudited, 2),
      checkCell(entry),
    ];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...rows.filter((row) => row.length > 3).map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    cells.length <= 3
      ? `${cells[0]!.padEnd(widths[0]!)}  ${cells[1]!.padStart(widths[1]!)}  ${cells[2]}`
      : cells.map((cell, column) => (column === 0 || column === cells.length - 1 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  const out = [line(header), ...rows.map(line)];

  const notes: string[] = [];
  const first = entries[0];
  if (first) notes.push(`${first.customers.toLocaleString('en-US')} customers seeded in ${first.seedMs.toLocaleString('en-US')} ms`);
  for (const entry of entries) {
    if (entry.customersPerRequest <= 1 || entry.customersPerSecond === null) continue;
    const single = entries.find((other) => other.variant === 'gateway' && other.connections === entry.connections)?.customersPerSecond;
    notes.push(
      `${entry.variant} @${entry.connections}: ${entry.customersPerRequest} customers a request, ${fixed(entry.customersPerSecond, 0)} customers/s` +
        (single ? ` (${(entry.customersPerSecond / single).toFixed(2)}x gateway's single updates)` : ''),
    );
  }
  for (const entry of entries) {
    if (!entry.variant.endsWith('-pgbouncer') || entry.rps === null) continue;
    const named = entries.find((other) => other.variant === entry.variant.replace(/-pgbouncer$/, '') && other.connections === entry.connections);
    if (!named?.rps) continue;
    const relative = (mine: number | null, theirs: number | null) => (mine !== null && theirs ? `${(mine / theirs).toFixed(2)}x` : '-');
    notes.push(
      `${entry.variant} @${entry.connections} (unnamed statements) against ${named.variant}: ${relative(entry.rps, named.rps)} the req/s, ` +
        `${relative(entry.cpuMsPerRequest, named.cpuMsPerRequest)} the server CPU and ${relative(entry.postgresCpuMsPerRequest, named.postgresCpuMsPerRequest)} the PostgreSQL CPU per request`,
    );
  }
  for (const entry of entries) {
    if (entry.password && entry.variant === 'mixed') {
      notes.push(
        `mixed @${entry.connections}: p50/p99 are the ordinary updates'; password changes were ${(entry.password.share * 100).toFixed(1)}% ` +
          `(${entry.password.requests}, p50 ${fixed(entry.password.p50, 2)} ms, p99 ${fixed(entry.password.p99, 2)} ms)`,
      );
    }
  }
  for (const entry of entries) {
    const hooks = entry.webhooks;
    if (!hooks) continue;
    notes.push(
      `${entry.variant} @${entry.connections}: ${hooks.delivered} of ${hooks.events} events delivered (${hooks.duplicates} duplicates, ${hooks.missing} never queued); ` +
        `commit to first attempt at full load p50 ${fixed(hooks.p50Ms, 0)} ms, p95 ${fixed(hooks.p95Ms, 0)} ms, p99 ${fixed(hooks.p99Ms, 0)} ms ` +
        `(queue drained ${hooks.drainMs} ms after the load)` +
        (hooks.steady
          ? `; at a steady ${hooks.steady.rate} writes/s: p50 ${fixed(hooks.steady.p50Ms, 0)} ms, p95 ${fixed(hooks.steady.p95Ms, 0)} ms, p99 ${fixed(hooks.steady.p99Ms, 0)} ms`
          : ''),
    );
  }
  const memory = entries.filter((entry) => entry.variant.startsWith('gateway') || ['password', 'mixed'].includes(entry.variant) && typeof entry.rssPeakMb === 'number');
  for (const entry of memory) {
    notes.push(`${entry.variant} @${entry.connections} resident memory: ${fixed(entry.rssAfterWarmupMb, 0)} MiB after warm-up, ${fixed(entry.rssPeakMb, 0)} MiB at peak`);
  }
  if (typeof startup === 'string') notes.push(`npm start -> first request: not measured (${startup})`);
  else if (startup) {
    notes.push(
      `npm start -> first request (warm embedded database): ${startup.firstRequestMs.toFixed(0)} ms ` +
        `(ready line at ${startup.readyLineMs.toFixed(0)} ms; the process reports "ready in ${startup.reportedReadyMs} ms"; ` +
        `first start creating the database: ${startup.coldFirstRequestMs.toFixed(0)} ms)`,
      `NODE_ENV=production node dist/main.js -> first request (warm embedded database): ${startup.production.firstRequestMs.toFixed(0)} ms ` +
        `(ready line at ${startup.production.readyLineMs.toFixed(0)} ms; "ready in ${startup.production.reportedReadyMs} ms")`,
    );
  }
  return [...out, '', ...notes].join('\n');
}
