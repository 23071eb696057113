import { withGlobal } from '@sinonjs/fake-timers';
import { ClientPool, isClientPoolError, type AddOptions, type PoolOptions } from '../../src/index.js';
import { LATENCY_MEDIAN_MS, LATENCY_SIGMA } from './backend.js';
import { exponential, logNormal, stream } from './rng.js';
import { quantile } from './stats.js';

/**
 * Issue 15's overload scenario: one backend whose latency doubles above `KNEE` calls in flight, offered
 * 0.5x, then 4x, then 1x of what `KNEE` in flight serve, through the real pool with a concurrency cap of
 * each kind (none, static, gradient2, AIMD). Same virtual clock and seeded streams as the fault scenarios.
 */

/** Calls in flight up to which the backend answers at its normal latency; above, twice as slow. */
export const KNEE = 8;
/** The target range of the settled limit (issue 15). */
export const LIMIT_RANGE = [6, 12] as const;
/** Mean of the log-normal latency: median x e^(sigma^2 / 2). */
const MEAN_LATENCY_MS = LATENCY_MEDIAN_MS * Math.exp((LATENCY_SIGMA * LATENCY_SIGMA) / 2);
/** Calls per second that `KNEE` calls in flight serve at the unloaded latency. */
export const KNEE_RATE = (KNEE * 1_000) / MEAN_LATENCY_MS;
/** The load of each phase, as a multiple of {@link KNEE_RATE}, and its share of the run. */
export const PHASES = [
  { name: 'unloaded', load: 0.5, share: 1 / 6 },
  { name: 'overload', load: 4, share: 1 / 2 },
  { name: 'after', load: 1, share: 1 / 3 },
] as const;
/** The limit is read this often (ms). */
const SAMPLE_MS = 100;
/** The adaptive limits' window, and the unit "windows until the limit is back" counts in (gradient2's `windowMs`). */
export const WINDOW_MS = 1_000;
/** Per-attempt timeout, as in the fault scenarios. */
const TIMEOUT_MS = 1_000;

/** A concurrency configuration of the overload scenario. */
export interface OverloadConfiguration {
  readonly id: string;
  readonly label: string;
  /** The pool's options (plus `clock`, `random`, and the defaults below). */
  readonly options: Omit<PoolOptions<OverloadBackend>, 'clock' | 'random'>;
  /** `maxInFlight` of the one client, when capped. */
  readonly maxInFlight?: AddOptions<OverloadBackend>['maxInFlight'];
}

/** Every configuration fails a call at once when the client is at its cap (`maxWait: 0`): the excess is refused, not queued. */
const POOL = { strategy: 'round-robin', timeout: TIMEOUT_MS, maxWait: 0 } as const;

export const OVERLOAD_CONFIGURATIONS: readonly OverloadConfiguration[] = [
  { id: 'no-cap', label: 'no cap', options: POOL },
  { id: 'static-8', label: 'static maxInFlight: 8', options: POOL, maxInFlight: 8 },
  { id: 'gradient2', label: "adaptive 'gradient2'", options: POOL, maxInFlight: { adaptive: 'gradient2' } },
  // About 3x the median latency (the unloaded p99): an answer slower than that is taken for queueing.
  { id: 'aimd', label: "adaptive 'aimd', timeout 60 ms", options: POOL, maxInFlight: { adaptive: 'aimd', timeout: 60 } },
];

/** What one overload run measured; a pure function of the seed. */
export interface OverloadResult {
  readonly configuration: string;
  /** p50 / p99 of the calls of the unloaded phase that succeeded (ms). */
  readonly unloadedP50: number;
  readonly unloadedP99: number;
  /** Calls that arrived in the 4x phase. */
  readonly overloadCalls: number;
  /** Of those, the ones that succeeded, and their latency (ms). */
  readonly admitted: number;
  readonly admittedP50: number;
  readonly admittedP99: number;
  /** Of those, the ones refused with `ERR_CONCURRENCY_LIMITED`, and how long the refusal took (ms). */
  readonly failedFast: number;
  readonly failFastP50: number;
  readonly failFastMax: number;
  /** Failures of the whole run by code, the refusals included. */
  readonly errors: Readonly<Record<string, number>>;
  /** The client's `maxInFlight` in `members()` over the second half of the 4x phase (undefined: uncapped). */
  readonly limitMedian: number | undefined;
  readonly limitMin: number | undefined;
  readonly limitMax: number | undefined;
  /** The limit when the load dropped to 1x. */
  readonly limitAtDrop: number | undefined;
  /** Windows after the drop until the limit is first in {@link LIMIT_RANGE}: 0 when it was in range at the drop; `null` if never. */
  readonly recoveryWindows: number | null | undefined;
  /** Share of the limit's readings in the 1x phase that were in {@link LIMIT_RANGE}. */
  readonly inRangeAfter: number | undefined;
  /** Calls unfinished at the end of the drain. */
  readonly hung: number;
}

/** The backend: log-normal latency, twice as long for a request that arrives with more than {@link KNEE} in flight. */
export class OverloadBackend {
  readonly name = 'b0';
  inFlight = 0;
  readonly #random: () => number;

  constructor(random: () => number) {
    this.#random = random;
  }

  request(signal: AbortSignal): Promise<void> {
    this.inFlight++;
    const slowdown = this.inFlight > KNEE ? 2 : 1;
    const latency = Math.max(1, Math.round(logNormal(this.#random, LATENCY_MEDIAN_MS, LATENCY_SIGMA) * slowdown));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        this.inFlight--;
        reject(signal.reason as Error);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        this.inFlight--;
        resolve();
      }, latency);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

const TO_FAKE = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] as const;
const DRAIN_MS = 5_000;

/** Run the overload scenario with one configuration for `durationMs` of virtual time (the phases split it). */
export async function runOverload(configuration: OverloadConfiguration, options: { readonly seed: number; readonly durationMs: number }): Promise<OverloadResult> {
  const clock = withGlobal(globalThis).install({ now: 0, toFake: [...TO_FAKE] });
  try {
    return await drive(configuration, options.seed, options.durationMs, () => clock.now, (ms) => clock.tickAsync(ms));
  } finally {
    clock.uninstall();
  }
}

interface Finished {
  readonly startedAt: number;
  readonly ms: number;
  readonly code: string | undefined;
}

async function drive(configuration: OverloadConfiguration, seed: number, durationMs: number, now: () => number, tick: (ms: number) => Promise<unknown>): Promise<OverloadResult> {
  const bounds: number[] = [];
  let at = 0;
  for (const phase of PHASES) bounds.push((at += Math.round(phase.share * durationMs)));
  const [overloadStart, dropAt] = [bounds[0]!, bounds[1]!];
  const phaseAt = (t: number): number => bounds.findIndex((end) => t < end);

  const backend = new OverloadBackend(stream(seed, 'overload-latency'));
  const pool = new ClientPool<OverloadBackend>({ ...configuration.options, clock: { now }, random: stream(seed, 'pool') });
  pool.add(backend, { name: backend.name, ...(configuration.maxInFlight === undefined ? {} : { maxInFlight: configuration.maxInFlight }) });
  const limitNow = (): number | undefined => pool.members()[0]?.maxInFlight;

  const finished: Finished[] = [];
  let pending = 0;
  const start = (): void => {
    const startedAt = now();
    pending++;
    pool.run((b, call) => b.request(call.signal)).then(
      () => {
        pending--;
        finished.push({ startedAt, ms: now() - startedAt, code: undefined });
      },
      (error: unknown) => {
        pending--;
        finished.push({ startedAt, ms: now() - startedAt, code: isClientPoolError(error) ? error.code : 'non-clientpool error' });
      },
    );
  };

  // Poisson arrivals whose rate follows the phases: the same arrivals for every configuration.
  const arrivals = stream(seed, 'overload-arrivals');
  const gap = (t: number): number => exponential(arrivals, 1_000 / (PHASES[Math.max(0, phaseAt(t))]!.load * KNEE_RATE));
  let nextAt = gap(0);
  const arrive = (): void => {
    while (nextAt <= now()) {
      start();
      nextAt += gap(nextAt);
    }
    if (nextAt < durationMs) setTimeout(arrive, Math.ceil(nextAt) - now());
  };
  setTimeout(arrive, Math.ceil(nextAt));

  const samples: { readonly at: number; readonly limit: number | undefined }[] = [];
  while (now() < durationMs) {
    await tick(SAMPLE_MS);
    samples.push({ at: now(), limit: limitNow() });
  }
  const deadline = durationMs + DRAIN_MS;
  while (pending > 0 && now() < deadline) await tick(SAMPLE_MS);
  const hung = pending;
  if (hung === 0) await pool.close();

  const inPhase = (index: number) => finished.filter((f) => phaseAt(f.startedAt) === index);
  const sorted = (values: readonly number[]): number[] => [...values].sort((a, b) => a - b);
  const unloaded = sorted(inPhase(0).filter((f) => f.code === undefined).map((f) => f.ms));
  const overload = inPhase(1);
  const admitted = sorted(overload.filter((f) => f.code === undefined).map((f) => f.ms));
  const refused = sorted(overload.filter((f) => f.code === 'ERR_CONCURRENCY_LIMITED').map((f) => f.ms));
  const errors: Record<string, number> = {};
  for (const f of finished) if (f.code !== undefined) errors[f.code] = (errors[f.code] ?? 0) + 1;

  const settled = samples.filter((s) => s.at > (overloadStart + dropAt) / 2 && s.at <= dropAt && s.limit !== undefined).map((s) => s.limit!);
  const isCapped = settled.length > 0;
  const after = samples.filter((s) => s.at >= dropAt);
  return {
    configuration: configuration.id,
    unloadedP50: quantile(unloaded, 0.5),
    unloadedP99: quantile(unloaded, 0.99),
    overloadCalls: overload.length,
    admitted: admitted.length,
    admittedP50: quantile(admitted, 0.5),
    admittedP99: quantile(admitted, 0.99),
    failedFast: refused.length,
    failFastP50: quantile(refused, 0.5),
    failFastMax: refused.at(-1) ?? Number.NaN,
    errors,
    limitMedian: isCapped ? quantile(sorted(settled), 0.5) : undefined,
    limitMin: isCapped ? Math.min(...settled) : undefined,
    limitMax: isCapped ? Math.max(...settled) : undefined,
    limitAtDrop: samples.find((s) => s.at === dropAt)?.limit,
    recoveryWindows: isCapped ? recovery(after, dropAt) : undefined,
    inRangeAfter: isCapped ? after.filter((s) => isInRange(s.limit)).length / after.length : undefined,
    hung,
  };
}

function isInRange(limit: number | undefined): boolean {
  return limit !== undefined && limit >= LIMIT_RANGE[0] && limit <= LIMIT_RANGE[1];
}

/** Windows from `dropAt` to the first reading in range (0 when the one at the drop is), `null` if none is. */
function recovery(after: readonly { readonly at: number; readonly limit: number | undefined }[], dropAt: number): number | null {
  const first = after.find((s) => isInRange(s.limit));
  return first === undefined ? null : Math.ceil((first.at - dropAt) / WINDOW_MS);
}
