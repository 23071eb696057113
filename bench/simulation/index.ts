/**
 * The deterministic fault simulation of issues 5 and 14: the real pool against fake backends on a virtual
 * clock, every scenario x configuration (a scenario may name the configurations it is for), with a
 * Markdown report and an SVG chart. The data faults of issue 14 (a lagging and a lying backend) are judged
 * on their answers: the share that was stale or wrong. The admission-control scenarios of issue 15
 * (overload against concurrency caps, token quotas) follow, with configurations of their own
 * (bench/simulation/admission.ts).
 *
 * `npx tsx bench/simulation/index.ts` runs 60 s of virtual time per run and writes the `## Fault simulation`
 * section of bench/README.md and bench/simulation.svg; `--quick` runs 20 s and writes nothing unless
 * `--write` is given. `runSimulation(options)` does the same from code (bench/index.ts).
 */
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { runAdmission, type AdmissionRun } from './admission.js';
import { chart } from './chart.js';
import { CONFIGURATIONS, type Configuration } from './configs.js';
import { markdown, ms, percent, writeSection } from './report.js';
import { runScenario, type RunResult } from './run.js';
import { scenarios as allScenarios, type Scenario } from './scenarios.js';
import { evaluateTargets, type TargetReport } from './targets.js';

export { ADMISSION_SCENARIOS, runAdmission, type AdmissionRun } from './admission.js';
export { CONFIGURATIONS, type Configuration } from './configs.js';
export { runScenario, type AnswerCounts, type DriveOptions, type RunResult } from './run.js';
export { scenarios, type Scenario } from './scenarios.js';
export type { StaleCheck, TargetReport, WrongCheck } from './targets.js';

/** Options of {@link runSimulation}. */
export interface SimulationOptions {
  /** Seed of every random stream. @default 1 */
  readonly seed?: number;
  /** A shorter run: 20 s of virtual time instead of 60 s. @default false */
  readonly quick?: boolean;
  /** Virtual time of arrivals per run in ms (overrides `quick`). @default 60_000, or 20_000 when quick */
  readonly durationMs?: number;
  /** Mean arrival rate, calls per second. @default 200 */
  readonly rate?: number;
  /** Only these scenario ids, the admission scenarios' (`overload`, `quotas`) included. @default all */
  readonly scenarios?: readonly string[];
  /** Only these configuration ids. @default all */
  readonly configurations?: readonly string[];
  /** Write bench/README.md's `## Fault simulation` section and bench/simulation.svg. @default false */
  readonly write?: boolean;
  /** Progress lines, one per run. @default none */
  readonly log?: (line: string) => void;
  /** The command shown in the generated section. @default 'npx tsx bench/simulation/index.ts' */
  readonly command?: string;
}

export interface SimulationResult {
  readonly scenarios: readonly Scenario[];
  readonly configurations: readonly Configuration[];
  readonly results: readonly RunResult[];
  readonly targets: TargetReport;
  /** The admission-control scenarios of issue 15 that ran (their own configurations). */
  readonly admission: readonly AdmissionRun[];
  /** The `## Fault simulation` section, heading included. */
  readonly markdown: string;
  readonly svg: string;
  readonly wallMs: number;
}

const BACKENDS = 5;
/** Long enough for three attempts of 1 s plus backoffs; whatever is still running then hangs for good. */
const DRAIN_MS = 10_000;

/** Run every scenario with every configuration, in sequence (each run fakes the global timers). */
export async function runSimulation(options: SimulationOptions = {}): Promise<SimulationResult> {
  const seed = options.seed ?? 1;
  const durationMs = options.durationMs ?? (options.quick === true ? 20_000 : 60_000);
  const rate = options.rate ?? 200;
  const pick = <X extends { readonly id: string }>(all: readonly X[], ids: readonly string[] | undefined): readonly X[] =>
    ids === undefined ? all : all.filter((x) => ids.includes(x.id));
  const scenarios = pick(allScenarios(durationMs), options.scenarios);
  const configurations = pick(CONFIGURATIONS, options.configurations);
  const started = performance.now();
  const results: RunResult[] = [];
  for (const scenario of scenarios) {
    for (const configuration of configurations) {
      if (configuration.only !== undefined && !configuration.only.includes(scenario.id)) continue;
      if (scenario.configurations !== undefined && !scenario.configurations.includes(configuration.id)) continue;
      const result = await runScenario(scenario, configuration, { seed, durationMs, rate, backends: BACKENDS, drainMs: DRAIN_MS, stepMs: 1_000 });
      results.push(result);
      options.log?.(
        `${scenario.id.padEnd(13)} ${configuration.id.padEnd(23)} success ${percent(result.successes / result.calls, 3).padStart(9)}  ` +
          `p50 ${ms(result.p50).padStart(7)}  p99 ${ms(result.p99).padStart(9)}  p99.9 ${ms(result.p999).padStart(9)}  extra ${percent(result.extraLoad, 1).padStart(7)}`,
      );
    }
  }
  const admission = await runAdmission({ seed, durationMs, ...(options.log === undefined ? {} : { log: options.log }) }, options.scenarios);
  const wallMs = performance.now() - started;
  const targets = evaluateTargets(configurations, results);
  const command = options.command ?? 'npx tsx bench/simulation/index.ts';
  const section = markdown({ seed, durationMs, rate, backends: BACKENDS, drainMs: DRAIN_MS, scenarios, configurations, results, targets, wallMs, command, admission });
  const svg = chart(`clientpool fault simulation: ${BACKENDS} backends, b4 faulty, ${rate} calls/s, ${durationMs / 1_000} s, seed ${seed}`, scenarios, configurations, results);
  if (options.write === true) {
    writeSection(new URL('../README.md', import.meta.url), section);
    writeFileSync(new URL('../simulation.svg', import.meta.url), svg);
  }
  return { scenarios, configurations, results, targets, admission, markdown: section, svg, wallMs };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      write: { type: 'boolean' },
      seed: { type: 'string', default: '1' },
      duration: { type: 'string' },
      rate: { type: 'string', default: '200' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('usage: npx tsx bench/simulation/index.ts [--quick] [--write] [--seed N] [--duration SECONDS] [--rate CALLS_PER_S]');
    return;
  }
  const number = (name: string, text: string): number => {
    const value = Number(text);
    if (!Number.isFinite(value) || value <= 0) throw new RangeError(`--${name} must be a number > 0, got ${text}`);
    return value;
  };
  const quick = values.quick;
  const result = await runSimulation({
    quick,
    seed: number('seed', values.seed),
    rate: number('rate', values.rate),
    ...(values.duration === undefined ? {} : { durationMs: number('duration', values.duration) * 1_000 }),
    write: values.write ?? !quick,
    log: (line) => console.log(line),
    command: `${commandPrefix()}bench/simulation/index.ts${quick ? ' --quick' : ''}`,
  });
  console.log(`\n${result.markdown}`);
  console.log(values.write ?? !quick ? 'written to bench/README.md (## Fault simulation) and bench/simulation.svg' : '(--quick: nothing written; add --write to write)');
}

/** How this process was started, for the generated section: on the built package (bench/use-dist.mjs) or on the sources. */
function commandPrefix(): string {
  if (process.env['CLIENTPOOL_BENCH_DIST'] !== '1') return 'npx tsx ';
  const dir = process.env['CLIENTPOOL_BENCH_DIST_DIR'];
  return `${dir === undefined || dir === '' ? '' : `CLIENTPOOL_BENCH_DIST_DIR=${dir} `}node --import tsx --import ./bench/use-dist.mjs `;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
