import { withGlobal } from '@sinonjs/fake-timers';
import { ClientPool, isClientPoolError, type Priority } from '../../src/index.js';
import { LATENCY_MEDIAN_MS, LATENCY_SIGMA } from './backend.js';
import { exponential, logNormal, stream } from './rng.js';
import { ms, percent } from './report.js';
import { quantile } from './stats.js';

/**
 * Issue 15's shedding scenario: one backend with a concurrency cap of 10, offered 3x what 10 in flight
 * serve, a tenth of it `high`, a tenth `normal` and the rest `low`, through the real pool with and without
 * priorities. Same virtual clock and seeded streams as the fault scenarios.
 */

/** The client's concurrency cap. */
export const CAP = 10;
/** Mean of the log-normal latency: median x e^(sigma^2 / 2). */
const MEAN_LATENCY_MS = LATENCY_MEDIAN_MS * Math.exp((LATENCY_SIGMA * LATENCY_SIGMA) / 2);
/** Calls per second that `CAP` in flight serve. */
export const CAPACITY = (CAP * 1_000) / MEAN_LATENCY_MS;
/** Offered load, as a multiple of {@link CAPACITY}, and each priority's share of it. */
export const LOAD = 3;
export const SHARES: Readonly<Record<Priority, number>> = { high: 0.1, normal: 0.1, low: 0.8 };
const PRIORITIES: readonly Priority[] = ['high', 'normal', 'low'];
const TIMEOUT_MS = 1_000;
/** How long a call that is not shed may wait for a slot. */
const MAX_WAIT_MS = 1_000;
const DRAIN_MS = 5_000;
const TO_FAKE = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] as const;

/** A configuration of the shedding scenario. */
export interface SheddingConfiguration {
  readonly id: string;
  readonly label: string;
  /** Whether calls carry their priority (else every call is `normal`). */
  readonly usesPriority: boolean;
  readonly reserve: number;
}

export const SHEDDING_CONFIGURATIONS: readonly SheddingConfiguration[] = [
  { id: 'fifo', label: 'no priorities (every call normal, FIFO)', usesPriority: false, reserve: 0 },
  { id: 'priority', label: 'priorities, reserve 0', usesPriority: true, reserve: 0 },
  { id: 'priority-reserve', label: 'priorities, reserve 0.2', usesPriority: true, reserve: 0.2 },
];

/** One priority's calls in a run. */
export interface ClassResult {
  readonly priority: Priority;
  readonly calls: number;
  readonly ok: number;
  readonly shed: number;
  /** Failures other than shedding (a wait for a slot past `maxWait`, a timeout). */
  readonly failed: number;
  /** p50 / p99 of the calls that succeeded (ms). */
  readonly p50: number;
  readonly p99: number;
}

export interface SheddingResult {
  readonly configuration: string;
  readonly classes: readonly ClassResult[];
  /** The most calls marked low in flight at once. */
  readonly maxLowInFlight: number;
  readonly hung: number;
}

/** Run the scenario with one configuration for `durationMs` of virtual time. */
export async function runShedding(configuration: SheddingConfiguration, options: { readonly seed: number; readonly durationMs: number }): Promise<SheddingResult> {
  const clock = withGlobal(globalThis).install({ now: 0, toFake: [...TO_FAKE] });
  try {
    const now = (): number => clock.now;
    const latency = stream(options.seed, 'shedding-latency');
    const pool = new ClientPool<{ readonly name: string }>({ clock: { now }, random: stream(options.seed, 'pool'), timeout: TIMEOUT_MS, maxWait: MAX_WAIT_MS, reserve: configuration.reserve });
    pool.add({ name: 'b0' }, { name: 'b0', maxInFlight: CAP });
    const finished: { priority: Priority; ms: number; code: string | undefined }[] = [];
    let pending = 0;
    let lowInFlight = 0;
    let maxLowInFlight = 0;
    const start = (priority: Priority): void => {
      const startedAt = now();
      pending++;
      const wait = Math.max(1, Math.round(logNormal(latency, LATENCY_MEDIAN_MS, LATENCY_SIGMA)));
      pool
        .run(
          async () => {
            if (priority === 'low') maxLowInFlight = Math.max(maxLowInFlight, ++lowInFlight);
            try {
              await new Promise((resolve) => setTimeout(resolve, wait));
            } finally {
              if (priority === 'low') lowInFlight--;
            }
          },
          configuration.usesPriority ? { priority } : undefined,
        )
        .then(
          () => finished.push({ priority, ms: now() - startedAt, code: undefined }),
          (error: unknown) => finished.push({ priority, ms: now() - startedAt, code: isClientPoolError(error) ? error.code : 'non-clientpool error' }),
        )
        .finally(() => pending--);
    };
    // Poisson arrivals, each of a priority drawn by its share: the same arrivals for every configuration.
    const arrivals = stream(options.seed, 'shedding-arrivals');
    const kinds = stream(options.seed, 'shedding-priorities');
    const mean = 1_000 / (LOAD * CAPACITY);
    let nextAt = exponential(arrivals, mean);
    const arrive = (): void => {
      while (nextAt <= now()) {
        const draw = kinds();
        start(draw < SHARES.high ? 'high' : draw < SHARES.high + SHARES.normal ? 'normal' : 'low');
        nextAt += exponential(arrivals, mean);
      }
      if (nextAt < options.durationMs) setTimeout(arrive, Math.ceil(nextAt) - now());
    };
    setTimeout(arrive, Math.ceil(nextAt));
    await clock.tickAsync(options.durationMs);
    const deadline = options.durationMs + DRAIN_MS;
    while (pending > 0 && now() < deadline) await clock.tickAsync(100);
    const hung = pending;
    if (hung === 0) await pool.close();
    const classes = PRIORITIES.map((priority): ClassResult => {
      const mine = finished.filter((f) => f.priority === priority);
      const ok = mine.filter((f) => f.code === undefined).map((f) => f.ms).sort((a, b) => a - b);
      const shed = mine.filter((f) => f.code === 'ERR_SHED').length;
      return { priority, calls: mine.length, ok: ok.length, shed, failed: mine.length - ok.length - shed, p50: quantile(ok, 0.5), p99: quantile(ok, 0.99) };
    });
    return { configuration: configuration.id, classes, maxLowInFlight, hung };
  } finally {
    clock.uninstall();
  }
}

/** The target lines: high >= 99 % with priorities, low never in the reserved share. */
export function sheddingTargetLines(results: readonly SheddingResult[]): string[] {
  const lines: string[] = [];
  for (const result of results) {
    const configuration = SHEDDING_CONFIGURATIONS.find((c) => c.id === result.configuration)!;
    if (!configuration.usesPriority) continue;
    const allowed = Math.floor(CAP * (1 - configuration.reserve));
    const high = result.classes.find((c) => c.priority === 'high')!;
    const share = high.ok / Math.max(1, high.calls);
    lines.push(`- shedding: high-priority calls succeed >= 99 % under 3x overload, **${configuration.label}**: ${percent(share, 2)}, ${share >= 0.99 ? '✅ met' : '❌ not met'}`);
    if (configuration.reserve === 0) continue;
    lines.push(`- shedding: low-priority calls never hold the reserved share (at most ${allowed} of ${CAP} in flight), **${configuration.label}**: at most ${result.maxLowInFlight}, ${result.maxLowInFlight <= allowed ? '✅ met' : '❌ not met'}`);
  }
  return lines;
}

/** The scenario's section of bench/README.md. */
export function sheddingSection(number: number, results: readonly SheddingResult[], durationMs: number, seed: number): string {
  const rows = results.flatMap((result) => {
    const configuration = SHEDDING_CONFIGURATIONS.find((c) => c.id === result.configuration)!;
    return result.classes.map(
      (c) => `| ${configuration.label} | ${c.priority} | ${c.calls} | ${percent(c.ok / Math.max(1, c.calls), 1)} | ${percent(c.shed / Math.max(1, c.calls), 1)} | ${percent(c.failed / Math.max(1, c.calls), 1)} | ${ms(c.p50)} / ${ms(c.p99)} | ${c.priority === 'low' ? result.maxLowInFlight : ''} |`,
    );
  });
  return [
    `### ${number}. Priority shedding: 3x overload, a tenth high, a tenth normal, the rest low (issue 15)`,
    '',
    `One backend (b0), log-normal latency (median ${LATENCY_MEDIAN_MS} ms, σ ${LATENCY_SIGMA}), \`maxInFlight: ${CAP}\`: ${CAPACITY.toFixed(0)} calls/s. Poisson arrivals (seed ${seed}) at ${LOAD}x that for ${(durationMs / 1_000).toFixed(0)} s of virtual time, each call high, normal or low with probability ${SHARES.high}, ${SHARES.normal}, ${SHARES.low}; the same arrivals and latencies for every configuration. \`timeout: ${TIMEOUT_MS}\`, \`maxWait: ${MAX_WAIT_MS}\` (a call that is not shed waits up to 1 s for a slot).`,
    '',
    '| configuration | priority | calls | succeeded | shed (`ERR_SHED`) | other failures | p50 / p99 of successes | most low in flight |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    '- Without priorities every call waits its turn in one line: the line stays full, and high calls fail as often as low ones (a wait for a slot past `maxWait`) and wait as long.',
    '- With priorities, low calls are shed at once when no slot is free outside the reserve, and high and normal calls are served first from the line. With `reserve: 0.2`, low calls hold at most 8 of the 10 slots: compare the high and normal rows of the two priority configurations.',
    '',
  ].join('\n');
}
