import { admissionTargetLines, overloadSection, quotaSection } from './admission-report.js';
import { OVERLOAD_CONFIGURATIONS, runOverload, type OverloadResult } from './overload.js';
import { LOADS, QUOTA_CONFIGURATIONS, runQuotas, type QuotaResult } from './quotas.js';
import { ms, percent } from './report.js';
import { runShedding, SHEDDING_CONFIGURATIONS, sheddingSection, sheddingTargetLines, type SheddingResult } from './shedding.js';

/**
 * The admission-control scenarios of issue 15, run after the fault scenarios with configurations of their
 * own (the fault scenarios' rows do not change): each is one entry of {@link ADMISSION_SCENARIOS}, with
 * its own run and its own section.
 */
export interface AdmissionRun {
  readonly id: string;
  /** Results, for tests and callers. */
  readonly results: readonly OverloadResult[] | readonly QuotaResult[] | readonly SheddingResult[];
  /** Its `### n. ...` section, numbered after the fault scenarios. */
  readonly section: (number: number) => string;
  /** Lines for the `### Targets` list. */
  readonly targets: readonly string[];
}

export interface AdmissionOptions {
  readonly seed: number;
  /** The fault scenarios' virtual time per run (ms): each scenario scales its own from it. */
  readonly durationMs: number;
  readonly log?: (line: string) => void;
}

export interface AdmissionScenario {
  readonly id: string;
  readonly run: (options: AdmissionOptions) => Promise<AdmissionRun>;
}

/** Overload runs twice the fault scenarios' time (120 s), so that gradient2 has time to settle under 4x. */
const OVERLOAD_SCALE = 2;
/** Quotas are per minute: ten times the fault scenarios' time (10 minutes). */
const QUOTA_SCALE = 10;

export const ADMISSION_SCENARIOS: readonly AdmissionScenario[] = [
  {
    id: 'overload',
    run: async ({ seed, durationMs, log }) => {
      const duration = OVERLOAD_SCALE * durationMs;
      const results: OverloadResult[] = [];
      for (const configuration of OVERLOAD_CONFIGURATIONS) {
        const r = await runOverload(configuration, { seed, durationMs: duration });
        results.push(r);
        log?.(
          `${'overload'.padEnd(13)} ${configuration.id.padEnd(23)} admitted p99 ${ms(r.admittedP99).padStart(7)} (unloaded ${ms(r.unloadedP99)})  ` +
            `failed fast ${percent(r.failedFast / Math.max(1, r.overloadCalls), 1).padStart(7)}  limit ${r.limitMedian ?? '–'}`,
        );
      }
      return { id: 'overload', results, section: (n) => overloadSection(n, results, duration, seed), targets: admissionTargetLines(results) };
    },
  },
  {
    id: 'quotas',
    run: async ({ seed, durationMs, log }) => {
      const duration = QUOTA_SCALE * durationMs;
      const results: QuotaResult[] = [];
      for (const load of LOADS) {
        for (const configuration of QUOTA_CONFIGURATIONS) {
          const r = await runQuotas(configuration, { seed, durationMs: duration, load });
          results.push(r);
          log?.(
            `${`quotas ${load}x`.padEnd(13)} ${configuration.id.padEnd(23)} served ${r.keys.map((k) => k.served).join(':')}  ` +
              `429s ${r.keys.reduce((s, k) => s + k.rejected, 0)}  refused ${r.refusedLocally}`,
          );
        }
      }
      return { id: 'quotas', results, section: (n) => quotaSection(n, results, duration, seed), targets: [] };
    },
  },
  {
    id: 'shedding',
    run: async ({ seed, durationMs, log }) => {
      const results: SheddingResult[] = [];
      for (const configuration of SHEDDING_CONFIGURATIONS) {
        const r = await runShedding(configuration, { seed, durationMs });
        results.push(r);
        log?.(`${'shedding'.padEnd(13)} ${configuration.id.padEnd(23)} ${r.classes.map((c) => `${c.priority} ${c.ok}/${c.calls} shed ${c.shed}`).join('  ')}  most low in flight ${r.maxLowInFlight}`);
      }
      return { id: 'shedding', results, section: (n) => sheddingSection(n, results, durationMs, seed), targets: sheddingTargetLines(results) };
    },
  },
];

/** Run the admission scenarios named in `ids` (all when absent), in order. */
export async function runAdmission(options: AdmissionOptions, ids?: readonly string[]): Promise<AdmissionRun[]> {
  const runs: AdmissionRun[] = [];
  for (const scenario of ADMISSION_SCENARIOS) if (ids === undefined || ids.includes(scenario.id)) runs.push(await scenario.run(options));
  return runs;
}
