import type { Configuration } from './configs.js';
import type { RunResult } from './run.js';

/** Issue 5: with 1 of 5 backends black-holed, at least this share of calls succeeds... */
export const TARGET_SUCCESS = 0.999;
/** ...and the p99 stays within this factor of the healthy fleet's. */
export const TARGET_P99_FACTOR = 2;
/** Retries and hedges add at most this share of requests. */
export const TARGET_EXTRA_LOAD = 0.15;
/** Issue 14: with freshness on, at most this share of the answers after the first height poll is stale... */
export const TARGET_STALE = 0.001;
/** ...and a quorum read returns at most this many wrong answers with one lying backend. */
export const TARGET_WRONG = 0;

/** How a configuration with freshness on fares against the stale-answer target (lagging scenario). */
export interface StaleCheck {
  readonly configuration: string;
  /** Share of all answers that were stale, first poll included. */
  readonly stale: number;
  /** Share of the answers to calls started after the first poll round that were stale. */
  readonly settledStale: number;
  readonly isMet: boolean;
}

/** How a quorum configuration fares against the wrong-answer target (lying scenario). */
export interface WrongCheck {
  readonly configuration: string;
  readonly wrong: number;
  readonly answers: number;
  readonly isMet: boolean;
}

/** How one configuration fares against the black-hole targets. */
export interface BlackHoleCheck {
  readonly configuration: string;
  readonly success: number;
  readonly p99: number;
  /** The same configuration's p99 with a healthy fleet. */
  readonly healthyP99: number;
  readonly isSuccessMet: boolean;
  readonly isP99Met: boolean;
  /** Its highest p99 over every scenario, to choose between configurations that meet the targets. */
  readonly worstP99: number;
}

/** How a configuration with retries and hedges fares against the extra-load target. */
export interface ExtraLoadCheck {
  readonly configuration: string;
  /** Its highest extra load over every scenario, and where. */
  readonly worst: number;
  readonly scenario: string;
  readonly isMet: boolean;
}

export interface TargetReport {
  readonly blackHole: readonly BlackHoleCheck[];
  /** The best configuration: among those meeting both black-hole targets, the lowest worst-case p99. */
  readonly best: BlackHoleCheck | undefined;
  readonly extraLoad: readonly ExtraLoadCheck[];
  /** Of the two hedge delays of configuration (d), the one with the lower sum of p99 over the scenarios. */
  readonly bestHedge: string | undefined;
  /** Every configuration with freshness on that ran the lagging scenario. */
  readonly stale: readonly StaleCheck[];
  /** Every quorum configuration that ran the lying scenario. */
  readonly wrong: readonly WrongCheck[];
}

/** Check the runs against the targets and choose the best configuration. */
export function evaluateTargets(configurations: readonly Configuration[], results: readonly RunResult[]): TargetReport {
  const find = (scenario: string, configuration: string): RunResult | undefined =>
    results.find((r) => r.scenario === scenario && r.configuration === configuration);
  const blackHole: BlackHoleCheck[] = [];
  for (const configuration of configurations) {
    if (configuration.isCandidate !== true) continue;
    const hole = find('black-hole', configuration.id);
    const healthy = find('healthy', configuration.id);
    if (hole === undefined || healthy === undefined) continue;
    const success = hole.successes / hole.calls;
    blackHole.push({
      configuration: configuration.id,
      success,
      p99: hole.p99,
      healthyP99: healthy.p99,
      isSuccessMet: success >= TARGET_SUCCESS,
      isP99Met: hole.p99 <= TARGET_P99_FACTOR * healthy.p99,
      worstP99: Math.max(...results.filter((r) => r.configuration === configuration.id).map((r) => r.p99)),
    });
  }
  const meeting = blackHole.filter((c) => c.isSuccessMet && c.isP99Met);
  const best =
    meeting.length > 0
      ? meeting.reduce((a, b) => (b.worstP99 < a.worstP99 ? b : a))
      : blackHole.reduce<BlackHoleCheck | undefined>((a, b) => (a === undefined || b.success > a.success || (b.success === a.success && b.p99 < a.p99) ? b : a), undefined);

  const extraLoad: ExtraLoadCheck[] = [];
  for (const configuration of configurations) {
    if (configuration.isHedged !== true) continue;
    const runs = results.filter((r) => r.configuration === configuration.id);
    if (runs.length === 0) continue;
    const worst = runs.reduce((a, b) => (b.extraLoad > a.extraLoad ? b : a));
    extraLoad.push({ configuration: configuration.id, worst: worst.extraLoad, scenario: worst.scenario, isMet: worst.extraLoad <= TARGET_EXTRA_LOAD });
  }

  const hedgeSums = ['p2c-retry-hedge-50', 'p2c-retry-hedge-p95'].map((id) => ({
    id,
    sum: results.filter((r) => r.configuration === id).reduce((sum, r) => sum + r.p99, 0),
  }));
  const bestHedge = hedgeSums.every((h) => h.sum > 0) ? hedgeSums.reduce((a, b) => (b.sum < a.sum ? b : a)).id : undefined;

  const stale: StaleCheck[] = [];
  const wrong: WrongCheck[] = [];
  for (const configuration of configurations) {
    const lagging = find('lagging', configuration.id)?.answers;
    if (configuration.options.freshness !== undefined && lagging !== undefined) {
      const settledStale = ratio(lagging.settledBad, lagging.settledAnswers);
      stale.push({ configuration: configuration.id, stale: ratio(lagging.bad, lagging.answers), settledStale, isMet: lagging.settledAnswers > 0 && settledStale <= TARGET_STALE });
    }
    const lying = find('lying', configuration.id)?.answers;
    if (configuration.call?.kind === 'quorum' && lying !== undefined) {
      wrong.push({ configuration: configuration.id, wrong: lying.bad, answers: lying.answers, isMet: lying.answers > 0 && lying.bad <= TARGET_WRONG });
    }
  }
  return { blackHole, best, extraLoad, bestHedge, stale, wrong };
}

function ratio(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole;
}
