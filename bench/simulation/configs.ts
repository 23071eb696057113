import { failureRate, type PoolOptions } from '../../src/index.js';
import type { FakeBackend } from './backend.js';

/**
 * How a configuration calls the pool: `run()` (optionally reporting each answer's height with
 * `call.reportHeight`), or `quorum()` of `of` distinct clients, `agree` of which must match.
 */
export type CallMode =
  | { readonly kind: 'run'; readonly reportHeight?: boolean }
  | { readonly kind: 'quorum'; readonly of: number; readonly agree: number; readonly penalty?: boolean };

/** A pool configuration under test; the runner adds the virtual clock and a seeded random source. */
export interface Configuration {
  readonly id: string;
  readonly label: string;
  readonly options: Omit<PoolOptions<FakeBackend>, 'clock' | 'random'>;
  /** How each call is made. @default { kind: 'run' } */
  readonly call?: CallMode;
  /** How the report shows options whose value is a function it cannot print (a breaker factory), by key. */
  readonly display?: Readonly<Record<string, string>>;
  /** Run only in these scenarios (ids); every scenario when absent. */
  readonly only?: readonly string[];
  /** Eligible as "the best configuration" the targets are checked against. */
  readonly isCandidate?: boolean;
  /** Retries and hedges: the extra-load target applies. */
  readonly isHedged?: boolean;
}

/** Per-attempt timeout of every configuration but the no-timeout note. */
export const TIMEOUT_MS = 1_000;
/** The library's default consecutive breaker, spelled out. */
const breaker = { maxFailures: 5, cooldown: 10_000 };
const retry = { attempts: 3 };
const hedgeP95 = { delay: { quantile: 0.95, min: 5, max: 500 } };

/**
 * Tuned after trying the alternatives the report lists: a breaker that opens sooner and probes sooner,
 * backing off on repeated failure; retries without the default 50 ms backoff (the next client is
 * healthy, waiting buys nothing); a retry budget whose reserve covers the burst of calls already sent
 * to a black hole before its first timeout; slow start so that a healed client is not flooded.
 */
const tuned = {
  breaker: { maxFailures: 3, cooldown: 2_000, cooldownMultiplier: 2, maxCooldown: 30_000 },
  retry: { attempts: 3, backoff: { initial: 5, max: 100 } },
  retryBudget: { ratio: 0.1, reserve: 100 },
  slowStart: { window: 3_000 },
  timeout: TIMEOUT_MS,
} as const;

/** Height polls of the freshness configurations: every second, a backend more than 3 blocks off is out. */
export const FRESHNESS_INTERVAL_MS = 1_000;
const pollHeights = { height: (backend: FakeBackend, signal: AbortSignal) => backend.height(signal), interval: FRESHNESS_INTERVAL_MS, maxLag: 3 };
/** Heights from answers only (`call.reportHeight`), no poll. */
const reportedHeights = { maxLag: 3 };
const quorum = { kind: 'quorum', of: 3, agree: 2 } as const;
/**
 * A breaker that counts a share of failures, for the quorum penalty: with a consecutive breaker each
 * outvoted answer first counts as a success (which starts the count again), so only penalties that land in
 * a row open it.
 */
const RATE_BREAKER = "failureRate({ threshold: 0.5, window: { kind: 'count', size: 20 } })";
const rateBreaker = failureRate({ threshold: 0.5, window: { kind: 'count', size: 20 } });
/** The scenarios the freshness and quorum configurations are for (the others run there too). */
const LAGGING = ['lagging', 'lagging-heals'];
const LYING = ['lying'];

export const CONFIGURATIONS: readonly Configuration[] = [
  { id: 'rr', label: 'round-robin + breaker', options: { strategy: 'round-robin', breaker, timeout: TIMEOUT_MS } },
  { id: 'wr', label: 'weighted-random + breaker', options: { strategy: 'weighted-random', breaker, timeout: TIMEOUT_MS } },
  { id: 'random', label: 'random + breaker', options: { strategy: 'random', breaker, timeout: TIMEOUT_MS } },
  { id: 'p2c', label: 'p2c-ewma + breaker', options: { strategy: 'p2c-ewma', breaker, timeout: TIMEOUT_MS }, isCandidate: true },
  {
    id: 'p2c-retry',
    label: 'p2c-ewma + breaker + retry',
    options: { strategy: 'p2c-ewma', breaker, retry, timeout: TIMEOUT_MS },
    isCandidate: true,
  },
  {
    id: 'p2c-retry-hedge-50',
    label: 'p2c-ewma + breaker + retry + hedge 50 ms',
    options: { strategy: 'p2c-ewma', breaker, retry, hedge: { delay: 50 }, timeout: TIMEOUT_MS },
    isCandidate: true,
    isHedged: true,
  },
  {
    id: 'p2c-retry-hedge-p95',
    label: 'p2c-ewma + breaker + retry + hedge p95',
    options: { strategy: 'p2c-ewma', breaker, retry, hedge: hedgeP95, timeout: TIMEOUT_MS },
    isCandidate: true,
    isHedged: true,
  },
  { id: 'tuned-p2c', label: 'tuned: p2c-ewma + retry', options: { strategy: 'p2c-ewma', ...tuned }, isCandidate: true },
  { id: 'tuned-lif', label: 'tuned: least-in-flight + retry', options: { strategy: 'least-in-flight', ...tuned }, isCandidate: true },
  {
    id: 'tuned-p2c-hedge',
    label: 'tuned: p2c-ewma + retry + hedge p95',
    options: { strategy: 'p2c-ewma', ...tuned, hedge: hedgeP95 },
    isCandidate: true,
    isHedged: true,
  },
  {
    id: 'rr-no-timeout',
    label: 'round-robin + breaker, no timeout',
    options: { strategy: 'round-robin', breaker },
    only: ['black-hole'],
  },
  {
    id: 'rr-fresh-poll',
    label: 'round-robin + breaker + freshness (poll)',
    options: { strategy: 'round-robin', breaker, timeout: TIMEOUT_MS, freshness: pollHeights },
    only: LAGGING,
  },
  {
    id: 'tuned-p2c-fresh-poll',
    label: 'tuned: p2c-ewma + retry + freshness (poll)',
    options: { strategy: 'p2c-ewma', ...tuned, freshness: pollHeights },
    only: LAGGING,
  },
  {
    id: 'rr-fresh-report',
    label: 'round-robin + breaker + freshness (reportHeight)',
    options: { strategy: 'round-robin', breaker, timeout: TIMEOUT_MS, freshness: reportedHeights },
    call: { kind: 'run', reportHeight: true },
    only: LAGGING,
  },
  {
    id: 'tuned-p2c-fresh-report',
    label: 'tuned: p2c-ewma + retry + freshness (reportHeight)',
    options: { strategy: 'p2c-ewma', ...tuned, freshness: reportedHeights },
    call: { kind: 'run', reportHeight: true },
    only: LAGGING,
  },
  {
    id: 'rr-quorum',
    label: 'round-robin + breaker, quorum 2 of 3',
    options: { strategy: 'round-robin', breaker, timeout: TIMEOUT_MS },
    call: quorum,
    only: LYING,
  },
  {
    id: 'rr-quorum-penalty',
    label: 'round-robin + breaker, quorum 2 of 3 + penalty',
    options: { strategy: 'round-robin', breaker, timeout: TIMEOUT_MS },
    call: { ...quorum, penalty: true },
    only: LYING,
  },
  {
    id: 'rr-quorum-penalty-rate',
    label: 'round-robin + failure-rate breaker, quorum 2 of 3 + penalty',
    options: { strategy: 'round-robin', breaker: rateBreaker, timeout: TIMEOUT_MS },
    display: { breaker: RATE_BREAKER },
    call: { ...quorum, penalty: true },
    only: LYING,
  },
  {
    id: 'tuned-p2c-quorum',
    label: 'tuned: p2c-ewma, quorum 2 of 3 + penalty',
    options: { strategy: 'p2c-ewma', ...tuned },
    call: { ...quorum, penalty: true },
    only: LYING,
  },
];
