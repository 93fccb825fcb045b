/**
 * Drives one server with autocannon over one set of keep-alive connections, in three phases
 * chosen by the clock when each request is sent:
 *
 * - warm-up: real requests, not measured;
 * - measure: real requests, measured (latency from send to complete response, per request kind);
 * - drain: for writes, writes to customers that do not exist, which change nothing (for reads,
 *   more reads). With one request in flight per connection, once every real request has its
 *   response nothing more can be applied, so the count of acknowledged writes can be compared
 *   exactly with the database.
 */
import autocannon, { type RequestContext, type RequestParams } from 'autocannon';
import type { BenchRequest, RequestKind, Workload } from './workloads.ts';

export interface LoadPlan {
  port: number;
  connections: number;
  warmupMs: number;
  measureMs: number;
  workload: Workload;
  /** Makes this run's written values unique among all runs of the bench. */
  run: number;
  /** Customer ids are drawn uniformly from this range. */
  ids: { min: number; max: number };
  random: () => number;
  /** Called as the measured window opens and as it closes (CPU and memory snapshots). */
  onMeasureStart: () => void;
  onMeasureEnd: () => void;
  log: (message: string) => void;
}

export interface LoadResult {
  /** The measured window's actual length. */
  measuredMs: number;
  /** Latencies (ms) of the measured window's successful responses, by request kind. */
  latencies: Record<RequestKind, number[]>;
  /** Measured-window responses that were not a success: 2xx reporting an error, and non-2xx. */
  failed: number;
  non2xx: number;
  /** Successful responses over warm-up and measure: the writes the database must show. */
  acknowledged: number;
  /** 200 responses over warm-up and measure that did not show the request done. */
  wrong: number;
  /** Real requests that never got a response (a connection error or timeout cut them off). */
  unanswered: number;
  /** Connection errors and timeouts over the whole run, as autocannon counts them. */
  transportErrors: number;
}

type Phase = 'warmup' | 'measure' | 'drain';

interface Sent extends RequestContext {
  phase: Phase;
  request: BenchRequest;
  sentAt: number;
}

/** `count` distinct customer ids drawn uniformly from the range. */
export function pickIds(ids: { min: number; max: number }, count: number, random: () => number): number[] {
  const span = ids.max - ids.min + 1;
  const picked = new Set<number>();
  while (picked.size < Math.min(count, span)) picked.add(ids.min + Math.floor(random() * span));
  return [...picked];
}

/** Ids past the seeded range name no customer (the bench creates none): writes to them change nothing. */
const noSuchCustomers = (ids: { max: number }, count: number) => Array.from({ length: count }, (_, i) => ids.max + 1 + i);

/** How long in-flight real requests may take to answer once the measured window closes. */
const DRAIN_TIMEOUT_MS = 15_000;
const REQUEST_TIMEOUT_S = 10;

export function drive(plan: LoadPlan): Promise<LoadResult> {
  const { workload, random } = plan;
  let phase: Phase = 'warmup';
  let seq = 0;
  let realSent = 0;
  let realAnswered = 0;
  let measureStart = 0;
  let measureEnd = 0;
  const result: LoadResult = {
    measuredMs: 0,
    latencies: { update: [], password: [] },
    failed: 0,
    non2xx: 0,
    acknowledged: 0,
    wrong: 0,
    unanswered: 0,
    transportErrors: 0,
  };
  const count = workload.customersPerRequest;

  const setupRequest = (request: RequestParams, context: RequestContext): RequestParams => {
    const sent = context as Sent;
    sent.phase = phase;
    const kind = phase !== 'drain' && random() < workload.passwordShare ? 'password' : 'update';
    const ids = phase === 'drain' && workload.effect === 'write' ? noSuchCustomers(plan.ids, count) : pickIds(plan.ids, count, random);
    if (phase !== 'drain') realSent++;
    seq++;
    sent.request = { run: plan.run, seq, ids, kind };
    sent.sentAt = performance.now();
    return { ...request, body: workload.body(sent.request) };
  };

  const onResponse = (status: number, body: string, context: RequestContext) => {
    const sent = context as Sent;
    const latency = performance.now() - sent.sentAt;
    if (sent.phase === 'drain') return;
    realAnswered++;
    const ok = workload.succeeded(status, body, sent.request);
    if (ok) result.acknowledged++;
    else if (status === 200) result.wrong++;
    if (sent.phase !== 'measure') return;
    if (ok) result.latencies[sent.request.kind].push(latency);
    else if (status >= 200 && status < 300) result.failed++;
    else result.non2xx++;
  };

  return new Promise((resolve, reject) => {
    const timers: NodeJS.Timeout[] = [];
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${plan.port}`,
        connections: plan.connections,
        pipelining: 1,
        timeout: REQUEST_TIMEOUT_S,
        // An upper bound only: the run is stopped once the drain is complete.
        duration: Math.ceil((plan.warmupMs + plan.measureMs + DRAIN_TIMEOUT_MS) / 1000) + 5,
        requests: [{ method: 'POST', path: workload.path, headers: workload.headers, setupRequest, onResponse }],
      },
      (error, summary) => {
        timers.forEach(clearTimeout);
        if (error) return reject(error);
        result.transportErrors = summary.errors;
        result.unanswered = realSent - realAnswered;
        result.measuredMs = measureEnd - measureStart;
        resolve(result);
      },
    );

    timers.push(
      setTimeout(() => {
        phase = 'measure';
        measureStart = performance.now();
        plan.onMeasureStart();
      }, plan.warmupMs),
      setTimeout(() => {
        phase = 'drain';
        measureEnd = performance.now();
        plan.onMeasureEnd();
        const drainStart = performance.now();
        const poll = setInterval(() => {
          const drained = realAnswered === realSent;
          if (drained || performance.now() - drainStart > DRAIN_TIMEOUT_MS) {
            clearInterval(poll);
            if (!drained) plan.log(`${realSent - realAnswered} requests still unanswered after ${DRAIN_TIMEOUT_MS / 1000} s; stopping`);
            instance.stop();
          }
        }, 10);
        timers.push(poll);
      }, plan.warmupMs + plan.measureMs),
    );
  });
}

export interface PacedPlan {
  port: number;
  workload: Workload;
  run: number;
  ids: { min: number; max: number };
  random: () => number;
  /** Requests per second, sent evenly spaced (autocannon's own rate sends each second's share in a burst). */
  rate: number;
  durationMs: number;
}

/** Real writes at an even pace; resolves once every one is answered. */
export async function drivePaced(plan: PacedPlan): Promise<{ acknowledged: number; unanswered: number }> {
  const intervalMs = 1_000 / plan.rate;
  const start = performance.now();
  const inFlight: Array<Promise<void>> = [];
  let acknowledged = 0;
  let unanswered = 0;
  for (let seq = 1; performance.now() - start < plan.durationMs; seq++) {
    const request: BenchRequest = { run: plan.run, seq, ids: pickIds(plan.ids, plan.workload.customersPerRequest, plan.random), kind: 'update' };
    inFlight.push(
      fetch(`http://127.0.0.1:${plan.port}${plan.workload.path}`, {
        method: 'POST',
        headers: plan.workload.headers,
        body: plan.workload.body(request),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_S * 1_000),
      }).then(
        async (response) => {
          if (plan.workload.succeeded(response.status, await response.text(), request)) acknowledged++;
        },
        () => {
          unanswered++;
        },
      ),
    );
    const next = start + seq * intervalMs - performance.now();
    if (next > 0) await new Promise((resolve) => setTimeout(resolve, next));
  }
  await Promise.all(inFlight);
  return { acknowledged, unanswered };
}
