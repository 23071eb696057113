/**
 * A small benchmark harness: candidates run interleaved in rounds (so machine noise hits all of them alike),
 * each round a tight sequential loop of awaited calls; the median round is reported in ns per call.
 */
export interface Candidate {
  readonly name: string;
  /** One call. */
  readonly run: () => unknown;
  /** Releases what the candidate holds (timers, pools); called once the benchmark is done with it. */
  readonly close?: () => unknown;
}

export interface Measurement {
  readonly name: string;
  readonly nsPerCall: number;
  /** Relative spread of the rounds (max-min)/median, to show the noise. */
  readonly spread: number;
  /** ns per call of every round, in round order: round r of every candidate ran in the same stretch of time. */
  readonly rounds: readonly number[];
  /** Heap bytes allocated per call (approximate, from heap growth between GCs), when measured. */
  readonly bytesPerCall?: number;
  /** The median of each of its processes, when it ran in more than one (bench/isolated.ts). */
  readonly processMedians?: readonly number[];
}

export interface MeasureOptions {
  readonly iterations: number;
  readonly rounds: number;
  readonly warmup?: number;
}

export async function measure(candidates: readonly Candidate[], options: MeasureOptions): Promise<Measurement[]> {
  const samples = candidates.map(() => [] as number[]);
  for (const candidate of candidates) await loop(candidate, options.warmup ?? Math.min(options.iterations, 20_000));
  for (let round = 0; round < options.rounds; round++) {
    // Rotate the order every round so that no candidate always runs first (after a GC) or last.
    for (let k = 0; k < candidates.length; k++) {
      const i = (k + round) % candidates.length;
      const start = process.hrtime.bigint();
      await loop(candidates[i]!, options.iterations);
      samples[i]!.push(Number(process.hrtime.bigint() - start) / options.iterations);
    }
  }
  return candidates.map((candidate, i) => {
    const rounds = samples[i]!;
    const sorted = [...rounds].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    return { name: candidate.name, nsPerCall: median, spread: (sorted[sorted.length - 1]! - sorted[0]!) / median, rounds };
  });
}

export async function loop(candidate: Candidate, iterations: number): Promise<void> {
  const run = candidate.run;
  for (let i = 0; i < iterations; i++) await run();
}

/** Untimed calls of `candidate` for at least `ms` ms of `now` (none for 0), in batches of 1 000 between clock reads. */
export async function warmFor(candidate: Candidate, ms: number, now: () => number = () => performance.now()): Promise<void> {
  const end = now() + ms;
  while (now() < end) await loop(candidate, 1_000);
}

/** The median of `values` (the upper one for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/**
 * The median over rounds of `f(round)`: a ratio of two candidates taken round by round compares runs
 * made seconds apart, so a slow stretch of the machine cancels out.
 */
export function paired(rows: readonly Measurement[], names: readonly string[], f: (...nsPerCall: number[]) => number): number {
  return median(roundByRound(rows, names, f));
}

/** `f` of the named candidates' figures in each round they all have, in round order: what `paired` takes the median of. */
export function roundByRound(rows: readonly Measurement[], names: readonly string[], f: (...nsPerCall: number[]) => number): number[] {
  const picked = names.map((name) => {
    const row = rows.find((r) => r.name === name);
    if (row === undefined) throw new Error(`no measurement named "${name}"`);
    return row;
  });
  const count = Math.min(...picked.map((row) => row.rounds.length));
  return Array.from({ length: count }, (_, r) => f(...picked.map((row) => row.rounds[r]!)));
}

/** The lower and upper quartiles of `values` (nearest rank), as "q1-q3": where the middle half of them lies. */
export function middleHalf(values: readonly number[], digits = 2): string {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): string => (sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN).toFixed(digits);
  return `${at(0.25)}-${at(0.75)}`;
}

/** Format a table of measurements with ratios against named baselines. */
export function table(rows: readonly Measurement[], baselines: readonly string[]): string {
  const base = baselines.map((name) => rows.find((r) => r.name === name));
  const withBytes = rows.some((r) => r.bytesPerCall !== undefined);
  const head = ['candidate', 'ns/call', 'spread', ...(withBytes ? ['bytes/call'] : []), ...baselines.map((b) => `x ${b}`)];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '--:')).join('|')}|`];
  for (const row of rows) {
    const ratios = base.map((b) => (b === undefined ? '-' : (row.nsPerCall / b.nsPerCall).toFixed(2)));
    const bytes = withBytes ? [row.bytesPerCall === undefined ? '-' : row.bytesPerCall.toFixed(0)] : [];
    lines.push(`| ${row.name} | ${row.nsPerCall.toFixed(0)} | ${(row.spread * 100).toFixed(0)}% | ${[...bytes, ...ratios].join(' | ')} |`);
  }
  return lines.join('\n');
}
