/**
 * Two candidates of the per-call table, each alone in a fresh process that calls it from a loop of its
 * own (the candidate's `run` a constant there, as a call site in a service that uses one pool is), the
 * processes alternating: their ratio with neither the table's shared loop (`harness.ts`'s `loop`, one call
 * more per call for every candidate) nor the table's rotation of sixty processes. It explains the table's
 * goal ratios; it is not how the goals are judged (bench/README.md, "Where the ratios sit").
 *
 * `node --import tsx --import ./bench/use-dist.mjs bench/clean-pair.ts [--a "clientpool default"]
 * [--b "cockatiel breaker + RR"] [--pairs 10] [--iterations 300000] [--rounds 9]`
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median, middleHalf } from './harness.js';

/** In a child: warm `name` up, then print the median of `rounds` timed loops of `iterations` calls, ns per call, as JSON. */
async function child(name: string, iterations: number, rounds: number): Promise<void> {
  const { microCandidates } = await import('./micro.js');
  const all = microCandidates();
  const candidate = all.find((c) => c.name === name);
  await Promise.all(all.filter((c) => c !== candidate).map((c) => c.close?.()));
  if (candidate === undefined) throw new Error(`no candidate named "${name}"`);
  const run = candidate.run;
  // This process's own loop: its one call site sees one function, which V8 can inline here.
  const loop = async (count: number): Promise<void> => {
    for (let i = 0; i < count; i++) await run();
  };
  await loop(20_000);
  const times: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint();
    await loop(iterations);
    times.push(Number(process.hrtime.bigint() - start) / iterations);
  }
  await candidate.close?.();
  console.log(JSON.stringify({ ns: median(times) }));
}

function runChild(name: string, iterations: number, rounds: number): number {
  const script = fileURLToPath(import.meta.url);
  // On the built package when this runner is (bench/use-dist.mjs), as the table's processes are.
  const hooks = process.env['CLIENTPOOL_BENCH_DIST'] === '1' ? ['--import', fileURLToPath(new URL('./use-dist.mjs', import.meta.url))] : [];
  const out = execFileSync(process.execPath, ['--import', 'tsx', ...hooks, script, '--child', name, '--iterations', String(iterations), '--rounds', String(rounds)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return (JSON.parse(out.trim().split('\n').at(-1)!) as { ns: number }).ns;
}

export interface CleanPairOptions {
  /** Pairs of processes (one of each candidate), whole, >= 1; the order flips every pair. */
  readonly pairs: number;
  /** Calls per timed loop, whole, >= 1. */
  readonly iterations: number;
  /** Timed loops per process (its figure is their median), whole, >= 1. */
  readonly rounds: number;
}

export interface CleanPairResult {
  /** ns per call of each process of `a` and of `b`, pair by pair. */
  readonly a: readonly number[];
  readonly b: readonly number[];
  /** The median over the pairs of a / b (as the table's "x cockatiel" column). */
  readonly ratio: number;
  /** The quartiles of those ratios, as "q1-q3" (`harness.ts`'s `middleHalf`, three decimals). */
  readonly middleHalf: string;
}

/**
 * Alternate one fresh process of `a` and one of `b`, `pairs` times, and compare them pair by pair.
 * @throws RangeError for a count that is not a whole number >= 1
 */
export function cleanPair(a: string, b: string, options: CleanPairOptions): CleanPairResult {
  for (const [key, value] of Object.entries(options)) {
    if (!(Number.isInteger(value) && (value as number) >= 1)) throw new RangeError(`${key} must be a whole number >= 1, got ${String(value)}`);
  }
  const as: number[] = [];
  const bs: number[] = [];
  for (let pair = 0; pair < options.pairs; pair++) {
    // Flipped every pair: neither candidate always runs right after the other.
    const first = pair % 2 === 0 ? a : b;
    const second = first === a ? b : a;
    const x = runChild(first, options.iterations, options.rounds);
    const y = runChild(second, options.iterations, options.rounds);
    as.push(first === a ? x : y);
    bs.push(first === a ? y : x);
  }
  const ratios = as.map((value, i) => value / bs[i]!);
  return { a: as, b: bs, ratio: median(ratios), middleHalf: middleHalf(ratios, 3) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      child: { type: 'string' },
      a: { type: 'string', default: 'clientpool default' },
      b: { type: 'string', default: 'cockatiel breaker + RR' },
      pairs: { type: 'string', default: '10' },
      iterations: { type: 'string', default: '300000' },
      rounds: { type: 'string', default: '9' },
    },
  });
  const iterations = Number(values.iterations);
  const rounds = Number(values.rounds);
  if (values.child !== undefined) await child(values.child, iterations, rounds);
  else {
    const result = cleanPair(values.a, values.b, { pairs: Number(values.pairs), iterations, rounds });
    const ns = (list: readonly number[]): string => list.map((n) => n.toFixed(0)).join(', ');
    console.log(`${values.a}: ${ns(result.a)} ns (median ${median(result.a).toFixed(0)})`);
    console.log(`${values.b}: ${ns(result.b)} ns (median ${median(result.b).toFixed(0)})`);
    console.log(`${values.a} / ${values.b}, median of the pair ratios: ${result.ratio.toFixed(3)} (quartiles ${result.middleHalf})`);
  }
}
