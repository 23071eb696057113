/**
 * The per-call cost of each admission-control stage of issue 15 (cost quotas, `settle()`, `most-headroom`,
 * static and adaptive `maxInFlight`, `deadline`), each as a ratio to the plain call measured in the same
 * run, and whether a stage that is off costs nothing.
 *
 * Part of `npm run bench`; alone: `node --import tsx --import ./bench/use-dist.mjs bench/admission.ts`
 * (times the built package in dist/; `npx tsx bench/admission.ts` times the sources as tsx runs them).
 * `--quick` runs short rounds; `--write` writes the `## Admission control: per-call cost` section of
 * bench/README.md. The plain call before and after issue 15, each build in processes of its own, is
 * bench/before-after.ts.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ClientPool, type Call, type PoolOptions } from '../src/index.js';
import { ALLOCATION_METHOD, gc, measureAllocations } from './allocations.js';
import { call, clients, defaultPool, type EchoClient } from './core.js';
import { measure, paired, type Candidate, type Measurement } from './harness.js';
import { writeSection } from './simulation/report.js';

export const PLAIN = 'plain: pool.run(fn)';
export const PLAIN_AGAIN = 'plain, a second identical pool (A/A: the noise)';
export const METHOD_REF = "run(fn, { method: 'get' })";
export const COST_NO_LIMIT = 'run(fn, { cost }), no limit counts it';
export const LIMIT_UNUSED = 'tokens limit on every client, call without cost';
export const LIMIT_COST = 'tokens limit + cost, round-robin';
export const LIMIT_SETTLE = 'tokens limit + cost + call.settle()';
export const HEADROOM = 'tokens limit + cost, most-headroom';
export const STATIC_CAP = 'static maxInFlight: 1000';
export const ADAPTIVE_CAP = "adaptive maxInFlight: 'gradient2'";
export const DEADLINE = 'run(fn, { deadline: 10_000 })';

/**
 * Whether a row is a stage turned on, something that should cost what the plain call costs, or a
 * reference for reading the others (a call with an options object).
 */
export type RowKind = 'baseline' | 'off' | 'on' | 'reference';

/** The rows in table order, with what each is and whether it is a stage on or off. */
export const ROWS: readonly { readonly name: string; readonly kind: RowKind; readonly what: string }[] = [
  { name: PLAIN, kind: 'baseline', what: '`pool.run(fn)` on 4 echo clients, the defaults (round-robin, consecutive breaker): the unit of every ratio' },
  { name: PLAIN_AGAIN, kind: 'off', what: 'the same on a second pool built the same way: how far two identical rows drift apart in this run' },
  { name: METHOD_REF, kind: 'reference', what: "`{ method: 'get' }` (hoisted): a call with an options object and no admission option, what a call with `cost` is best compared with" },
  { name: COST_NO_LIMIT, kind: 'off', what: '`{ cost: { tokens: 1000 } }` (hoisted) on the plain pool: a cost no limit counts' },
  { name: LIMIT_UNUSED, kind: 'off', what: '`add(client, { limit: { tokens: {...} } })`, calls without `cost`: a tokens limit that no call takes from' },
  { name: LIMIT_COST, kind: 'on', what: 'the same limit (never empty), calls with `{ cost: { tokens: 1000 } }`: the quota stage' },
  { name: LIMIT_SETTLE, kind: 'on', what: 'the same, and `call.settle({ tokens: 700 })` in every call: a refund of 300 on the client\'s bucket' },
  { name: HEADROOM, kind: 'on', what: '`strategy: \'most-headroom\'` over the same limits and cost: the O(n) pick by share of quota left' },
  { name: STATIC_CAP, kind: 'on', what: '`add(client, { maxInFlight: 1000 })`, never reached: the cap stage' },
  { name: ADAPTIVE_CAP, kind: 'on', what: '`add(client, { maxInFlight: { adaptive: \'gradient2\' } })`: the cap plus a sample to the controller per attempt (timing on)' },
  { name: DEADLINE, kind: 'on', what: '`{ deadline: 10_000 }` (hoisted): a deadline across attempts' },
];

/** Hoisted, as a caller keeps them: the cost measured is the pool's, not the options object's. */
const COST = { cost: { tokens: 1_000 } } as const;
const GET = { method: 'get' } as const;
const DEADLINE_OPTIONS = { deadline: 10_000 } as const;
const SETTLED = { tokens: 700 } as const;
/** A per-client tokens limit that never runs dry, so the numbers show the cost of taking from it. */
const NEVER_EMPTY = { tokens: { rate: 1e12, per: 60_000, burst: 1e12 } } as const;

const settling = (client: EchoClient, c: Call<EchoClient>): Promise<number> => {
  c.settle(SETTLED);
  return client.get(1);
};

/** A pool over the shared echo clients, each added with `add` options on top of its name. */
function poolWith(options: PoolOptions<EchoClient>, add: Parameters<ClientPool<EchoClient>['add']>[1]): ClientPool<EchoClient> {
  const pool = new ClientPool<EchoClient>(options);
  clients.forEach((client, i) => pool.add(client, { ...add, name: `c${i}` }));
  return pool;
}

/** The plain rows: the plain call twice (A/A). */
export function plainCandidates(): Candidate[] {
  const plain = defaultPool();
  const again = defaultPool();
  return [
    { name: PLAIN, run: () => plain.run(call), close: () => plain.close() },
    { name: PLAIN_AGAIN, run: () => again.run(call), close: () => again.close() },
  ];
}

/** The rows with an admission option, in table order. */
export function featureCandidates(): Candidate[] {
  const labelled = defaultPool();
  const costly = defaultPool();
  const unused = poolWith({}, { limit: NEVER_EMPTY });
  const limited = poolWith({}, { limit: NEVER_EMPTY });
  const settled = poolWith({}, { limit: NEVER_EMPTY });
  const headroom = poolWith({ strategy: 'most-headroom' }, { limit: NEVER_EMPTY });
  const capped = poolWith({}, { maxInFlight: 1_000 });
  const adaptive = poolWith({}, { maxInFlight: { adaptive: 'gradient2' } });
  const deadlined = defaultPool();
  return [
    { name: METHOD_REF, run: () => labelled.run(call, GET), close: () => labelled.close() },
    { name: COST_NO_LIMIT, run: () => costly.run(call, COST), close: () => costly.close() },
    { name: LIMIT_UNUSED, run: () => unused.run(call), close: () => unused.close() },
    { name: LIMIT_COST, run: () => limited.run(call, COST), close: () => limited.close() },
    { name: LIMIT_SETTLE, run: () => settled.run(settling, COST), close: () => settled.close() },
    { name: HEADROOM, run: () => headroom.run(call, COST), close: () => headroom.close() },
    { name: STATIC_CAP, run: () => capped.run(call), close: () => capped.close() },
    { name: ADAPTIVE_CAP, run: () => adaptive.run(call), close: () => adaptive.close() },
    { name: DEADLINE, run: () => deadlined.run(call, DEADLINE_OPTIONS), close: () => deadlined.close() },
  ];
}

/** Every candidate in table order. */
export function admissionCandidates(): Candidate[] {
  return [...plainCandidates(), ...featureCandidates()];
}

export interface AdmissionBenchOptions {
  readonly iterations: number;
  readonly rounds: number;
  /** Calls per allocation sample; 0 skips the allocation pass. */
  readonly allocationIterations: number;
  readonly allocationRounds: number;
  /** The command shown in the section. */
  readonly command: string;
}

/** One row of the result: its measurement and its ratio to the plain call, taken round by round. */
export interface AdmissionRow extends Measurement {
  readonly kind: RowKind;
  readonly ratio: number;
}

export interface AdmissionBenchResult {
  readonly rows: readonly AdmissionRow[];
  /** The A/A drift: |ratio of the second plain pool - 1|. */
  readonly noise: number;
  readonly markdown: string;
}

/** The heading of the section this bench writes into bench/README.md. */
export const ADMISSION_HEADING = '## Admission control: per-call cost';
/** An "off" row costs nothing when its ratio is within this of 1, or within twice the A/A drift if that is larger. */
export const ZERO_TOLERANCE = 0.05;

/** Time and allocations per call of every candidate, interleaved, as ratios to the plain call. */
export async function runAdmissionBench(options: AdmissionBenchOptions): Promise<AdmissionBenchResult> {
  const candidates = admissionCandidates();
  try {
    gc();
    const timed = await measure(candidates, { iterations: options.iterations, rounds: options.rounds });
    const bytes = options.allocationIterations > 0 ? await measureAllocations(candidates, { iterations: options.allocationIterations, rounds: options.allocationRounds }) : new Map<string, number>();
    const rows: AdmissionRow[] = timed.map((row) => {
      const perCall = bytes.get(row.name);
      const kind = ROWS.find((r) => r.name === row.name)?.kind ?? 'on';
      return { ...row, ...(perCall === undefined ? {} : { bytesPerCall: perCall }), kind, ratio: paired(timed, [row.name, PLAIN], (a, b) => a / b) };
    });
    const noise = Math.abs((rows.find((r) => r.name === PLAIN_AGAIN)?.ratio ?? 1) - 1);
    return { rows, noise, markdown: admissionMarkdown(rows, noise, options) };
  } finally {
    await Promise.all(candidates.map((candidate) => candidate.close?.()));
  }
}

/** Whether an "off" row costs nothing: within {@link ZERO_TOLERANCE} of the plain call, or twice the A/A drift. */
export function isZero(row: AdmissionRow, noise: number): boolean {
  return Math.abs(row.ratio - 1) <= Math.max(ZERO_TOLERANCE, 2 * noise);
}

function admissionMarkdown(rows: readonly AdmissionRow[], noise: number, options: AdmissionBenchOptions): string {
  const plain = rows.find((r) => r.name === PLAIN)!;
  const tolerance = Math.max(ZERO_TOLERANCE, 2 * noise);
  const out = [
    `<!-- Generated by bench/admission.ts (\`${options.command}\`); edit the generator, not this section. -->`,
    '',
    `Command: \`${options.command}\`. Every row calls \`client.get(1)\` on one of the 4 echo clients of the per-call table, sequentially, in the same interleaved rounds; ` +
      '**x plain** is the median over rounds of (row / plain call) in that round, so both ran seconds apart. An **off** row is a feature present but not used; ' +
      `it costs nothing when its ratio is within ±${(tolerance * 100).toFixed(0)} % of 1 (±${(ZERO_TOLERANCE * 100).toFixed(0)} %, or twice the A/A drift if larger). ` +
      'An **on** row is the stage at work: its extra ns over the plain call is what the stage costs per call.',
    '',
    '| row | stage | ns/call | spread | bytes/call | x plain | extra ns/call | zero when off? |',
    '|---|---|--:|--:|--:|--:|--:|---|',
  ];
  for (const row of rows) {
    const bytes = row.bytesPerCall === undefined ? '–' : row.bytesPerCall.toFixed(0);
    const verdict = row.kind === 'off' ? (isZero(row, noise) ? 'yes' : '**no**') : '–';
    const extra = row.kind === 'baseline' ? '–' : ((row.ratio - 1) * plain.nsPerCall).toFixed(0);
    out.push(`| ${row.name} | ${row.kind} | ${row.nsPerCall.toFixed(0)} | ${(row.spread * 100).toFixed(0)}% | ${bytes} | ${row.ratio.toFixed(2)} | ${extra} | ${verdict} |`);
  }
  out.push(
    '',
    `ns/call: median of ${options.rounds} interleaved rounds of ${options.iterations} sequential awaited calls. ` +
      (options.allocationIterations > 0 ? `Allocations: ${ALLOCATION_METHOD} (${options.allocationRounds} rounds of ${options.allocationIterations} calls).` : 'Allocations: not measured.'),
    '',
    ...ROWS.filter((r) => rows.some((x) => x.name === r.name)).map((r) => `- **${r.name}**: ${r.what}.`),
  );
  const off = rows.filter((r) => r.kind === 'off');
  const zero = off.filter((r) => isZero(r, noise));
  const notZero = off.filter((r) => !isZero(r, noise));
  const reference = rows.find((r) => r.name === METHOD_REF);
  const costly = rows.find((r) => r.name === COST_NO_LIMIT);
  out.push(
    '',
    `**Zero when off** (this run): ${zero.length === 0 ? 'none of the off rows' : zero.map((r) => `${r.name} (${r.ratio.toFixed(2)}x)`).join(', ')}` +
      (notZero.length === 0 ? '.' : `; **not** zero: ${notZero.map((r) => `${r.name} (${r.ratio.toFixed(2)}x, +${((r.ratio - 1) * plain.nsPerCall).toFixed(0)} ns)`).join(', ')}.`) +
      (reference !== undefined && costly !== undefined
        ? ` Against a call with an options object of the same size (${METHOD_REF}, ${reference.ratio.toFixed(2)}x), a \`cost\` no limit counts is ${(costly.ratio / reference.ratio).toFixed(2)}x.`
        : ''),
  );
  out.push('', 'The plain call before and after issue 15, each build timed in processes of its own: [the next section](#admission-control-the-plain-call-before-and-after-issue-15).');
  return out.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, write: { type: 'boolean', default: false } } });
  const quick = values.quick;
  const isDist = process.env['CLIENTPOOL_BENCH_DIST'] === '1';
  const distDir = process.env['CLIENTPOOL_BENCH_DIST_DIR'];
  const env = isDist && distDir !== undefined && distDir !== '' ? [`CLIENTPOOL_BENCH_DIST_DIR=${distDir}`] : [];
  const runner = isDist ? 'node --import tsx --import ./bench/use-dist.mjs bench/admission.ts' : 'npx tsx bench/admission.ts';
  const command = [...env, runner, ...(quick ? ['--quick'] : []), ...(values.write ? ['--write'] : [])].join(' ');
  const result = await runAdmissionBench({
    ...(quick ? { iterations: 10_000, rounds: 5, allocationIterations: 10_000, allocationRounds: 1 } : { iterations: 100_000, rounds: 31, allocationIterations: 100_000, allocationRounds: 3 }),
    command,
  });
  console.log(result.markdown);
  if (values.write) {
    writeSection(new URL('./README.md', import.meta.url), `${ADMISSION_HEADING}\n\n${result.markdown}\n`, ADMISSION_HEADING);
    console.log(`\nwritten to bench/README.md (${ADMISSION_HEADING})`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
