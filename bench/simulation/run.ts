import { withGlobal } from '@sinonjs/fake-timers';
import { ClientPool, isClientPoolError, type Call } from '../../src/index.js';
import { FakeBackend } from './backend.js';
import type { Configuration } from './configs.js';
import { exponential, stream } from './rng.js';
import type { Scenario } from './scenarios.js';

/** How one scenario is driven. */
export interface DriveOptions {
  /** Seed of every random stream (arrivals, latencies, the pool's picks). */
  readonly seed: number;
  /** Virtual time during which calls arrive, in ms. */
  readonly durationMs: number;
  /** Mean arrival rate, calls per second (Poisson, open loop: arrivals do not wait for answers). */
  readonly rate: number;
  /** Number of backends. */
  readonly backends: number;
  /** After the last arrival, how long calls may take to finish before the unfinished ones count as hung. */
  readonly drainMs: number;
  /** The virtual clock moves in steps of this many ms. */
  readonly stepMs: number;
}

/** What one scenario x configuration run measured. Every field is a pure function of the seed. */
export interface RunResult {
  readonly scenario: string;
  readonly configuration: string;
  readonly calls: number;
  readonly successes: number;
  /** Calls still unfinished `drainMs` after the last arrival: they hang (no timeout). */
  readonly hung: number;
  /** Failed calls by error code (`ERR_TIMEOUT`, `ERR_CLIENT_CALL`, `ERR_ALL_CIRCUITS_OPEN`, ...). */
  readonly errors: Readonly<Record<string, number>>;
  /** Caller-observed latency of every call, failed ones included, retries and hedges included; hung = Infinity. */
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  /** Requests that reached a backend (first attempts, retries and hedges). */
  readonly attempts: number;
  /** attempts / calls - 1. */
  readonly extraLoad: number;
  /** Share of the attempts that went to the faulty backend, when the scenario has one. */
  readonly faultyShare: number | undefined;
  /** Healing scenario: ms from the heal to the end of the first 1-s window where the healed backend served >= 80 % of its fair share; `null` if never. */
  readonly recoveryMs: number | null | undefined;
  /** Extra attempts the retry budget refused. */
  readonly budgetRefused: number;
  /** The faulty backend's circuit when the last call arrived (`closed`, `open`, `half-open`). */
  readonly faultyCircuit: string | undefined;
}

const TO_FAKE = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] as const;
/** A 1-s window counts as recovered when the healed backend served this share of its fair share. */
const RECOVERED_SHARE = 0.8;

function request(backend: FakeBackend, call: Call<FakeBackend>): Promise<void> {
  return backend.request(call.signal);
}
const RUN_OPTIONS = { method: 'get' } as const;

/**
 * Run one scenario with one configuration on a virtual clock: the global timers are faked for the
 * duration of the run (the pool's timeouts, hedge delays and backoffs use them) and restored after.
 * Runs must not overlap.
 */
export async function runScenario(scenario: Scenario, configuration: Configuration, options: DriveOptions): Promise<RunResult> {
  const clock = withGlobal(globalThis).install({ now: 0, toFake: [...TO_FAKE] });
  try {
    return await drive(scenario, configuration, options, () => clock.now, (ms) => clock.tickAsync(ms));
  } finally {
    clock.uninstall();
  }
}

async function drive(
  scenario: Scenario,
  configuration: Configuration,
  options: DriveOptions,
  now: () => number,
  tick: (ms: number) => Promise<unknown>,
): Promise<RunResult> {
  const { seed, durationMs, rate, drainMs, stepMs } = options;
  const seconds = Math.ceil(durationMs / 1_000);
  // served[b][s]: successful answers of backend b during second s.
  const served = Array.from({ length: options.backends }, () => new Uint32Array(seconds + Math.ceil(drainMs / 1_000) + 1));
  const onServed = (backend: FakeBackend, at: number): void => {
    served[backend.index]![Math.floor(at / 1_000)]! += 1;
  };
  const backends = Array.from(
    { length: options.backends },
    (_, i) => new FakeBackend(i, stream(seed, `latency:${i}`), (at) => scenario.mode(i, at), now, onServed),
  );
  const pool = new ClientPool<FakeBackend>({ ...configuration.options, clock: { now }, random: stream(seed, 'pool') });
  for (const backend of backends) pool.add(backend, { name: backend.name });

  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let calls = 0;
  let successes = 0;
  let pending = 0;
  const start = (): void => {
    const begin = now();
    calls++;
    pending++;
    pool.run(request, RUN_OPTIONS).then(
      () => {
        pending--;
        successes++;
        latencies.push(now() - begin);
      },
      (error: unknown) => {
        pending--;
        const code = isClientPoolError(error) ? error.code : 'non-clientpool error';
        errors[code] = (errors[code] ?? 0) + 1;
        latencies.push(now() - begin);
      },
    );
  };

  // Open-loop Poisson arrivals; the fake clock has whole milliseconds, so arrivals of one ms start together.
  const arrivals = stream(seed, 'arrivals');
  const meanGap = 1_000 / rate;
  let nextAt = exponential(arrivals, meanGap);
  const arrive = (): void => {
    while (nextAt <= now()) {
      start();
      nextAt += exponential(arrivals, meanGap);
    }
    if (nextAt < durationMs) setTimeout(arrive, Math.ceil(nextAt) - now());
  };
  if (nextAt < durationMs) setTimeout(arrive, Math.ceil(nextAt));

  while (now() < durationMs) await tick(Math.min(stepMs, durationMs - now()));
  const faulty = scenario.faulty === undefined ? undefined : backends[scenario.faulty];
  const faultyCircuit = faulty === undefined ? undefined : pool.members().find((m) => m.name === faulty.name)?.state.kind;
  const deadline = durationMs + drainMs;
  while (pending > 0 && now() < deadline) await tick(Math.min(stepMs, deadline - now()));
  const hung = pending;
  if (hung === 0) await pool.close();

  latencies.sort((a, b) => a - b);
  for (let i = 0; i < hung; i++) latencies.push(Number.POSITIVE_INFINITY);
  const attempts = backends.reduce((sum, b) => sum + b.attempts, 0);
  return {
    scenario: scenario.id,
    configuration: configuration.id,
    calls,
    successes,
    hung,
    errors,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    p999: quantile(latencies, 0.999),
    attempts,
    extraLoad: calls === 0 ? 0 : attempts / calls - 1,
    faultyShare: faulty === undefined || attempts === 0 ? undefined : faulty.attempts / attempts,
    recoveryMs: scenario.healsAt === undefined || scenario.faulty === undefined ? undefined : recovery(served, scenario.faulty, scenario.healsAt, seconds),
    budgetRefused: pool.retryBudget?.refused ?? 0,
    faultyCircuit,
  };
}

/** Nearest-rank quantile of sorted values. */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** ms from `healsAt` to the end of the first 1-s window where `faulty` served >= 80 % of a fair share. */
function recovery(served: readonly Uint32Array[], faulty: number, healsAt: number, seconds: number): number | null {
  const fairShare = 1 / served.length;
  for (let s = Math.floor(healsAt / 1_000); s < seconds; s++) {
    let total = 0;
    for (const counts of served) total += counts[s]!;
    if (total > 0 && served[faulty]![s]! / total >= RECOVERED_SHARE * fairShare) return (s + 1) * 1_000 - healsAt;
  }
  return null;
}
