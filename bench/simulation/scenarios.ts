import { BLACK_HOLE, DEAD, HEALTHY, type DataState, type Mode } from './backend.js';
import { FRESHNESS_INTERVAL_MS } from './configs.js';

/** A fault scenario: how each of the backends behaves over virtual time. */
export interface Scenario {
  readonly id: string;
  readonly title: string;
  /** One line for the report. */
  readonly description: string;
  /** The behaviour of backend `index` (0-based) at virtual time `now` (ms since the start). */
  readonly mode: (index: number, now: number) => Mode;
  /** The faulty backend, if any (index): its share of traffic is reported. */
  readonly faulty?: number;
  /** When the faulty backend heals (ms), for the time to get its share back. */
  readonly healsAt?: number;
  /** Backend `index`'s data at `now`. @default every backend at the fleet's head, honest */
  readonly data?: (index: number, now: number) => DataState;
  /**
   * What the answers are judged on, when the fault is in the data rather than in the latency: `stale`
   * (the answer's height below the fleet's head when the call started: calls ask for the latest block)
   * or `wrong` (the hash differs from the true one: calls ask for a past block).
   */
  readonly judge?: 'stale' | 'wrong';
  /** Answers are also counted from this moment on (ms): after the pool's first height poll. */
  readonly settledAt?: number;
  /** Only these configurations run in it (ids); every configuration (that does not exclude it) when absent. */
  readonly configurations?: readonly string[];
}

/** The fleet's chain: one block every 400 ms from this height on. */
export const GENESIS = 1_000_000;
export const BLOCK_MS = 400;
/** How many blocks the lagging backend trails the fleet by. */
export const LAG_BLOCKS = 10;

/** The fleet's head at `now` (ms): what every in-sync backend has. */
export function head(now: number): number {
  return GENESIS + Math.floor(now / BLOCK_MS);
}

/** The first height poll runs one interval after the start: answers are counted again one interval later. */
const SETTLED_AT = 2 * FRESHNESS_INTERVAL_MS;

const inSync = (now: number): DataState => ({ height: head(now), isLying: false });

const SLOW: Mode = Object.freeze({ kind: 'healthy', slowdown: 10 });
/** The faulty backend in every scenario: the last of five, so round-robin reaches it last. */
const FAULTY = 4;

/**
 * The scenarios of a run lasting `durationMs`: the six of issue 5, a seventh where a slow backend
 * heals, and the two data faults of issue 14, where b4 answers fast but stale or wrong. Healing backends
 * heal half-way (t = 30 s in the full 60 s run).
 */
export function scenarios(durationMs: number): readonly Scenario[] {
  const healsAt = Math.round(durationMs / 2_000) * 1_000;
  return [
    {
      id: 'healthy',
      title: 'Healthy fleet (baseline)',
      description: 'five healthy backends, log-normal latency with a 20 ms median',
      mode: () => HEALTHY,
    },
    {
      id: 'dead',
      title: 'One backend dead',
      description: 'b4 refuses every request within 1 ms',
      mode: (index) => (index === FAULTY ? DEAD : HEALTHY),
      faulty: FAULTY,
    },
    {
      id: 'black-hole',
      title: 'One backend black-holed',
      description: 'b4 accepts requests and never answers: only timeouts end them',
      mode: (index) => (index === FAULTY ? BLACK_HOLE : HEALTHY),
      faulty: FAULTY,
    },
    {
      id: 'slow',
      title: 'One backend 10x slow',
      description: 'b4 answers, 10 times slower (200 ms median)',
      mode: (index) => (index === FAULTY ? SLOW : HEALTHY),
      faulty: FAULTY,
    },
    {
      id: 'flapping',
      title: 'One backend flapping',
      description: 'b4 is dead for 5 s, healthy for 5 s, and so on',
      mode: (index, now) => (index === FAULTY && Math.floor(now / 5_000) % 2 === 0 ? DEAD : HEALTHY),
      faulty: FAULTY,
    },
    {
      id: 'healing',
      title: `Dead backend heals at t = ${healsAt / 1_000} s`,
      description: `b4 refuses every request until t = ${healsAt / 1_000} s, then is healthy`,
      mode: (index, now) => (index === FAULTY && now < healsAt ? DEAD : HEALTHY),
      faulty: FAULTY,
      healsAt,
    },
    {
      id: 'slow-heals',
      title: `10x slow backend heals at t = ${healsAt / 1_000} s (extra)`,
      description: `b4 answers 10 times slower until t = ${healsAt / 1_000} s, then at normal speed`,
      mode: (index, now) => (index === FAULTY && now < healsAt ? SLOW : HEALTHY),
      faulty: FAULTY,
      healsAt,
    },
    {
      id: 'lagging',
      title: `Lagging backend: b4 ${LAG_BLOCKS} blocks behind`,
      description:
        `b4 answers fast, from a height ${LAG_BLOCKS} blocks (${(LAG_BLOCKS * BLOCK_MS) / 1_000} s) behind the fleet's head, which advances one block every ${BLOCK_MS} ms; ` +
        'each call asks for the latest block and is stale when answered from a height below the head at its start',
      mode: () => HEALTHY,
      data: (index, now) => (index === FAULTY ? { height: head(now) - LAG_BLOCKS, isLying: false } : inSync(now)),
      judge: 'stale',
      faulty: FAULTY,
      settledAt: SETTLED_AT,
      configurations: ['rr', 'p2c', 'tuned-p2c', 'rr-fresh-poll', 'tuned-p2c-fresh-poll', 'rr-fresh-report', 'tuned-p2c-fresh-report'],
    },
    {
      id: 'lagging-heals',
      title: `Lagging backend catches up at t = ${healsAt / 1_000} s (extra)`,
      description: `b4 answers from ${LAG_BLOCKS} blocks behind the head until t = ${healsAt / 1_000} s, then from the head; calls are judged as in the lagging scenario`,
      mode: () => HEALTHY,
      data: (index, now) => (index === FAULTY && now < healsAt ? { height: head(now) - LAG_BLOCKS, isLying: false } : inSync(now)),
      judge: 'stale',
      faulty: FAULTY,
      healsAt,
      settledAt: SETTLED_AT,
      configurations: ['rr', 'rr-fresh-poll', 'tuned-p2c-fresh-poll', 'rr-fresh-report', 'tuned-p2c-fresh-report'],
    },
    {
      id: 'lying',
      title: 'Lying backend: b4 answers a wrong hash',
      description: "b4 answers fast, with a wrong hash for every block; each call asks for the hash of a past block (seeded) and is wrong when it differs from the fleet's",
      mode: () => HEALTHY,
      data: (index, now) => ({ height: head(now), isLying: index === FAULTY }),
      judge: 'wrong',
      faulty: FAULTY,
      configurations: ['rr', 'p2c', 'tuned-p2c', 'rr-quorum', 'rr-quorum-penalty', 'rr-quorum-penalty-rate', 'tuned-p2c-quorum'],
    },
  ];
}
