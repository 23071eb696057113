/**
 * How queueing grows with the number of waiters: n takes queued behind an empty TokenBucket (each is
 * told at once when its turn comes from the running total of tokens queued ahead), then all refused by
 * close(). Linear: doubling n about doubles the time. A sum over the queue on every take (before the
 * shared WaiterQueue) made it quadratic: 40 000 took 4.4 to 6.3 s (80 000: 42 s); now about 0.1 s.
 *
 * `npx tsx bench/waiter-queue.ts` prints one line per size.
 */
import { TokenBucket } from '../src/index.js';

function queueBehindEmptyBucket(n: number): number {
  const bucket = new TokenBucket({ rate: 1, burst: 1, maxWait: 2 ** 31 - 1 });
  bucket.tryTake();
  const start = performance.now();
  const takes: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) takes.push(bucket.take(1).catch(() => undefined));
  const elapsed = performance.now() - start;
  bucket.close();
  return elapsed;
}

for (const n of [10_000, 20_000, 40_000, 80_000]) {
  queueBehindEmptyBucket(n); // warm-up
  const ms = queueBehindEmptyBucket(n);
  console.log(`${n.toLocaleString('en')} takes queued behind an empty bucket: ${ms.toFixed(1)} ms (${((ms * 1e6) / n).toFixed(0)} ns per take)`);
}
