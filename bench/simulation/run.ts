import { withGlobal } from '@sinonjs/fake-timers';
import { ClientPool, isClientPoolError, type Call } from '../../src/index.js';
import { blockHash, FakeBackend, type DataState, type Reply } from './backend.js';
import type { Configuration } from './configs.js';
import { exponential, stream } from './rng.js';
import { head, type Scenario } from './scenarios.js';

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

/** How the answers fared in a scenario that judges them (a lagging or a lying backend). */
export interface AnswerCounts {
  /** What was judged: `stale` (height below the fleet's head at the call's start) or `wrong` (hash). */
  readonly judged: 'stale' | 'wrong';
  /** Calls that resolved. */
  readonly answers: number;
  /** Of those, the stale or wrong ones. */
  readonly bad: number;
  /** Calls that started at or after the scenario's `settledAt` and resolved (all answers when it has none). */
  readonly settledAnswers: number;
  /** Of those, the stale or wrong ones. */
  readonly settledBad: number;
  /** Virtual time (ms) at which the last stale or wrong answer's call started; `null` if none was. */
  readonly lastBadAt: number | null;
  /** Quorum reads in which the faulty backend was outvoted (`onDisagree`); `undefined` for `run()`. */
  readonly outvoted: number | undefined;
  /** Quorum reads in which some other backend was outvoted; `undefined` for `run()`. */
  readonly othersOutvoted: number | undefined;
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
  /** The faulty backend's freshness when the last call arrived (`unknown`, `fresh`, `lagging`, `ahead`). */
  readonly faultyFreshness: string | undefined;
  /** Stale or wrong answers, in the scenarios that judge them. */
  readonly answers: AnswerCounts | undefined;
}

const TO_FAKE = ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] as const;
/** A 1-s window counts as recovered when the healed backend served this share of its fair share. */
const RECOVERED_SHARE = 0.8;

/** Past blocks a `wrong`-judged call asks for: one of the last this many before the head. */
const PAST_BLOCKS = 100;

const RUN_OPTIONS = { method: 'get' } as const;
const inSync = (_index: number, now: number): DataState => ({ height: head(now), isLying: false });
/** Two answers match when they name the same block with the same hash (the height they were read at may differ). */
const sameBlock = (a: Reply, b: Reply): boolean => a.block === b.block && a.hash === b.hash;

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
  const data = scenario.data ?? inSync;
  const backends = Array.from(
    { length: options.backends },
    (_, index) =>
      new FakeBackend({
        index,
        random: stream(seed, `latency:${index}`),
        pollRandom: stream(seed, `poll-latency:${index}`),
        mode: (at) => scenario.mode(index, at),
        data: (at) => data(index, at),
        now,
        onServed,
      }),
  );
  const pool = new ClientPool<FakeBackend>({ ...configuration.options, clock: { now }, random: stream(seed, 'pool') });
  for (const backend of backends) pool.add(backend, { name: backend.name });

  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let calls = 0;
  let successes = 0;
  let pending = 0;
  const faultyName = scenario.faulty === undefined ? undefined : `b${scenario.faulty}`;
  const judge = scenario.judge;
  const settledAt = scenario.settledAt ?? 0;
  const counts = { bad: 0, settledAnswers: 0, settledBad: 0, lastBadAt: null as number | null, outvoted: 0, othersOutvoted: 0 };
  const mode = configuration.call ?? { kind: 'run' };
  const reportHeight = mode.kind === 'run' && mode.reportHeight === true;
  const queries = stream(seed, 'queries');
  const onDisagree = ({ client }: { readonly client: string }): void => {
    if (client === faultyName) counts.outvoted++;
    else counts.othersOutvoted++;
  };
  const call = (block: number | undefined): Promise<Reply> => {
    const fn = (backend: FakeBackend, c: Call<FakeBackend>): Promise<Reply> => {
      const reply = backend.request(c.signal, block);
      if (!reportHeight) return reply;
      return reply.then((r) => {
        c.reportHeight(r.height);
        return r;
      });
    };
    if (mode.kind === 'run') return pool.run(fn, RUN_OPTIONS);
    return pool.quorum(fn, { ...RUN_OPTIONS, of: mode.of, agree: mode.agree, penalty: mode.penalty ?? false, compare: sameBlock, onDisagree });
  };
  const start = (): void => {
    const begin = now();
    calls++;
    pending++;
    // A stale-judged call asks for the latest block, a wrong-judged one for a past block whose hash is known.
    const block = judge === 'wrong' ? head(begin) - 1 - Math.floor(queries() * PAST_BLOCKS) : undefined;
    call(block).then(
      (reply) => {
        pending--;
        successes++;
        latencies.push(now() - begin);
        if (judge === undefined) return;
        const isBad = judge === 'stale' ? reply.height < head(begin) : reply.hash !== blockHash(reply.block) || reply.block !== block;
        const isSettled = begin >= settledAt;
        if (isSettled) counts.settledAnswers++;
        if (!isBad) return;
        counts.bad++;
        if (isSettled) counts.settledBad++;
        counts.lastBadAt = Math.max(counts.lastBadAt ?? 0, begin);
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
  const faultyMember = faulty === undefined ? undefined : pool.members().find((m) => m.name === faulty.name);
  const faultyCircuit = faultyMember?.state.kind;
  const faultyFreshness = faultyMember?.freshness;
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
    faultyFreshness,
    answers:
      judge === undefined
        ? undefined
        : {
            judged: judge,
            answers: successes,
            bad: counts.bad,
            settledAnswers: counts.settledAnswers,
            settledBad: counts.settledBad,
            lastBadAt: counts.lastBadAt,
            outvoted: mode.kind === 'quorum' ? counts.outvoted : undefined,
            othersOutvoted: mode.kind === 'quorum' ? counts.othersOutvoted : undefined,
          },
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
