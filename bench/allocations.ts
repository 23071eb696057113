import { GCProfiler, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loop, median, type Candidate } from './harness.js';

/**
 * How allocations are counted, for the report. Node 20 has no allocated-bytes counter (V8's
 * `total_allocated_bytes` reached Node later), so the heap is balanced instead: after a full GC, bytes
 * allocated by a loop = heap growth over the loop + what every GC during the loop freed (each
 * `v8.GCProfiler` entry reports the heap before and after it). It counts every byte the calls left
 * behind, promises and closures included, and converges within a few bytes once the loop is long.
 */
export const ALLOCATION_METHOD =
  'bytes/call = (heapUsed growth over the loop + bytes freed by each GC during it, from `v8.GCProfiler`) / calls, after a full `gc()`; median of the rounds';

let collect: (() => void) | undefined;

/** A full garbage collection: `global.gc` under `--expose-gc`, else the flag is turned on now. */
export function gc(): void {
  if (collect === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed !== undefined) collect = exposed;
    else {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as () => void;
    }
  }
  collect();
}

/** Heap bytes allocated per call by each candidate, interleaved in rounds like `measure`: median round. */
export async function measureAllocations(candidates: readonly Candidate[], options: { iterations: number; rounds: number }): Promise<Map<string, number>> {
  const samples = candidates.map(() => [] as number[]);
  for (let round = 0; round < options.rounds; round++) {
    for (let k = 0; k < candidates.length; k++) {
      const i = (k + round) % candidates.length;
      samples[i]!.push(await allocated(candidates[i]!, options.iterations));
    }
  }
  return new Map(candidates.map((candidate, i) => [candidate.name, median(samples[i]!)]));
}

/** Heap bytes one candidate allocates per call over `iterations` calls. */
export async function allocated(candidate: Candidate, iterations: number): Promise<number> {
  gc();
  const profiler = new GCProfiler();
  profiler.start();
  const before = process.memoryUsage().heapUsed;
  await loop(candidate, iterations);
  const after = process.memoryUsage().heapUsed;
  const { statistics } = profiler.stop();
  let freed = 0;
  for (const entry of statistics) freed += used(entry.beforeGC.heapStatistics) - used(entry.afterGC.heapStatistics);
  return Math.max(0, after - before + freed) / iterations;
}

/** Node reports `usedHeapSize` here although @types/node declares the snake_case names of `getHeapStatistics()`. */
function used(statistics: object): number {
  const s = statistics as { usedHeapSize?: number; used_heap_size?: number };
  return s.usedHeapSize ?? s.used_heap_size ?? 0;
}
