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
  /** Heap bytes allocated per call (approximate, from heap growth between GCs), when measured. */
  readonly bytesPerCall?: number;
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
    const sorted = samples[i]!.sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    return { name: candidate.name, nsPerCall: median, spread: (sorted[sorted.length - 1]! - sorted[0]!) / median };
  });
}

async function loop(candidate: Candidate, iterations: number): Promise<void> {
  const run = candidate.run;
  for (let i = 0; i < iterations; i++) await run();
}

/** Format a table of measurements with ratios against named baselines. */
export function table(rows: readonly Measurement[], baselines: readonly string[]): string {
  const base = baselines.map((name) => rows.find((r) => r.name === name));
  const head = ['candidate', 'ns/call', 'spread', ...baselines.map((b) => `x ${b}`)];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const row of rows) {
    const ratios = base.map((b) => (b === undefined ? '-' : (row.nsPerCall / b.nsPerCall).toFixed(2)));
    lines.push(`| ${row.name} | ${row.nsPerCall.toFixed(0)} | ${(row.spread * 100).toFixed(0)}% | ${ratios.join(' | ')} |`);
  }
  return lines.join('\n');
}
