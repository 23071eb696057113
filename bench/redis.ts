/**
 * What a shared limit costs per call: the in-memory TokenBucket, RedisTokenBucket without and with a
 * lease, and rate-limiter-flexible's RateLimiterRedis on the same server, in the same run. The rate is
 * huge, so nothing ever waits: this measures the limiter, not the limit.
 *
 * `npx tsx bench/redis.ts` starts a throwaway redis-server on a free port (or uses REDIS_URL when set)
 * and prints the table; `redisBench({ url })` returns it for other scripts.
 */
import { cpus } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { TokenBucket } from '../src/index.js';
import { RedisTokenBucket } from '../src/redis/index.js';
import { startRedisServer } from '../test/redis/redis-server.js';

export interface RedisBenchOptions {
  /** A running server, e.g. `redis://127.0.0.1:6379`. */
  readonly url: string;
  /** Sequential calls per round. @default 5_000 */
  readonly iterations?: number;
  /** Interleaved rounds; the median is reported. @default 5 */
  readonly rounds?: number;
  /** Callers for the throughput column. @default 64 */
  readonly concurrency?: number;
  /** Tokens per round trip for the leased candidate. @default 100 */
  readonly lease?: number;
}

interface Subject {
  readonly name: string;
  readonly take: () => Promise<unknown>;
  /** Redis round trips so far, where known. */
  readonly roundTrips?: () => number;
}

const HUGE = 1e9;

/** Run the comparison and return a Markdown table (with a header line saying how it was measured). */
export async function redisBench(options: RedisBenchOptions): Promise<string> {
  const iterations = options.iterations ?? 5_000;
  const rounds = options.rounds ?? 5;
  const concurrency = options.concurrency ?? 64;
  const lease = options.lease ?? 100;
  const redis = new Redis(options.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true });
  redis.on('error', () => {});
  await redis.connect();
  const run = `bench:${process.pid}:${Date.now()}`;
  const memory = new TokenBucket({ rate: HUGE });
  // A generous timeout: a fallback would measure the local bucket instead of Redis.
  const plain = new RedisTokenBucket({ redis, key: `${run}:plain`, rate: HUGE, timeout: 1_000 });
  const leased = new RedisTokenBucket({ redis, key: `${run}:leased`, rate: HUGE, lease, timeout: 1_000 });
  const flexible = new RateLimiterRedis({ storeClient: redis, points: HUGE, duration: 1, keyPrefix: `${run}:rlf` });
  const subjects: Subject[] = [
    { name: 'TokenBucket.take (in-memory)', take: () => memory.take(1) },
    { name: 'redis PING (round-trip floor)', take: () => redis.ping() },
    { name: 'RedisTokenBucket.take', take: () => plain.take(1), roundTrips: () => plain.stats.roundTrips },
    { name: `RedisTokenBucket.take, lease ${lease}`, take: () => leased.take(1), roundTrips: () => leased.stats.roundTrips },
    { name: 'RateLimiterRedis.consume (rate-limiter-flexible)', take: () => flexible.consume('k', 1) },
  ];
  try {
    const tripsBefore = subjects.map((s) => s.roundTrips?.() ?? 0);
    const warmup = Math.min(iterations, 2_000);
    const sequential = await interleaved(subjects, iterations, rounds, warmup);
    const calls = warmup + iterations * rounds;
    const tripsPerCall = subjects.map((s, i) => (s.roundTrips === undefined ? undefined : (s.roundTrips() - tripsBefore[i]!) / calls));
    const parallel: number[] = [];
    const parallelTrips: (number | undefined)[] = [];
    for (const subject of subjects) {
      const before = subject.roundTrips?.() ?? 0;
      parallel.push(await throughput(subject.take, concurrency, iterations * 2));
      parallelTrips.push(subject.roundTrips === undefined ? undefined : (subject.roundTrips() - before) / (iterations * 2));
    }
    if (plain.state.mode !== 'redis' || leased.state.mode !== 'redis') throw new Error('a bucket fell back during the bench: the numbers are not Redis numbers');

    const baseline = sequential[0]!.nsPerCall;
    const lines = [
      `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}, Node ${process.version}, redis-server on loopback; ${rounds} interleaved rounds of ${iterations} sequential awaited calls (median), then ${concurrency} concurrent callers; rate ${HUGE.toExponential(0)}/s so nothing waits.`,
      '',
      `| limiter | µs/call (sequential) | added µs vs in-memory | calls/s (sequential) | round trips/call (sequential) | calls/s (${concurrency} concurrent) | round trips/call (concurrent) | spread |`,
      '|---|---|---|---|---|---|---|---|',
    ];
    const trips = (known: number | undefined, i: number): string => (known === undefined ? (i === 0 ? '0' : '1') : known.toFixed(3));
    sequential.forEach((row, i) => {
      lines.push(
        `| ${subjects[i]!.name} | ${(row.nsPerCall / 1_000).toFixed(2)} | ${i === 0 ? '—' : ((row.nsPerCall - baseline) / 1_000).toFixed(2)} | ${fmt(1e9 / row.nsPerCall)} | ${trips(tripsPerCall[i], i)} | ${fmt(parallel[i]!)} | ${trips(parallelTrips[i], i)} | ${(row.spread * 100).toFixed(0)}% |`,
      );
    });
    return lines.join('\n');
  } finally {
    plain.close();
    leased.close();
    redis.disconnect();
  }
}

/**
 * ns per sequential awaited call of each subject: after a warm-up, rounds rotate the order so that machine
 * noise hits every subject alike; the median round is reported with the spread (max-min)/median.
 * (Self-contained rather than bench/harness.ts, so that this bench does not move when that one does.)
 */
async function interleaved(subjects: readonly Subject[], iterations: number, rounds: number, warmup: number): Promise<{ readonly nsPerCall: number; readonly spread: number }[]> {
  const samples = subjects.map((): number[] => []);
  for (const subject of subjects) for (let i = 0; i < warmup; i++) await subject.take();
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < subjects.length; k++) {
      const index = (k + round) % subjects.length;
      const take = subjects[index]!.take;
      const start = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) await take();
      samples[index]!.push(Number(process.hrtime.bigint() - start) / iterations);
    }
  }
  return samples.map((values) => {
    const sorted = values.sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    return { nsPerCall: median, spread: (sorted[sorted.length - 1]! - sorted[0]!) / median };
  });
}

/** Calls per second with `concurrency` callers sharing `total` calls. */
async function throughput(take: () => Promise<unknown>, concurrency: number, total: number): Promise<number> {
  let left = total;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left-- > 0) await take();
    }),
  );
  return total / (Number(process.hrtime.bigint() - start) / 1e9);
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const given = process.env['REDIS_URL'];
  const server = given === undefined ? await startRedisServer() : undefined;
  try {
    console.log(await redisBench({ url: given ?? server!.url, ...(process.argv.includes('--quick') ? { iterations: 1_000, rounds: 3 } : {}) }));
  } finally {
    await server?.stop();
  }
}
