import { BLACK_HOLE, DEAD, HEALTHY, type Mode } from './backend.js';

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
}

const SLOW: Mode = Object.freeze({ kind: 'healthy', slowdown: 10 });
/** The faulty backend in every scenario: the last of five, so round-robin reaches it last. */
const FAULTY = 4;

/**
 * The scenarios of a run lasting `durationMs`: the six of issue 5, and a seventh where a slow backend
 * heals. Healing backends heal half-way (t = 30 s in the full 60 s run).
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
  ];
}
