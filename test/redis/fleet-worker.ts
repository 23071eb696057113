/**
 * One process of the fleet test (fleet.slow.test.ts), run as `node --import tsx test/redis/fleet-worker.ts '<config>'`.
 * It connects to Redis (with the ioredis major the config names), builds one pool per shared limit, tells
 * the parent it is ready, then, once the parent says start, runs calls through every pool as fast as the
 * limits allow until it has passed `calls` on each, and reports how many passed, its buckets' stats and any
 * unhandled rejection. Counts, not a time window: a busy machine makes the run longer, not different.
 */
import type { Redis } from 'ioredis';
import { ClientPool } from '../../src/index.js';
import { RedisTokenBucket, type RedisTokenBucketStats } from '../../src/redis/index.js';

export interface FleetLimit {
  readonly key: string;
  readonly rate: number;
  readonly burst: number;
  readonly lease: number;
}

export interface FleetConfig {
  readonly port: number;
  readonly processes: number;
  readonly limits: readonly FleetLimit[];
  /** `ioredis` (5) or `ioredis6`. */
  readonly ioredis: 'ioredis' | 'ioredis6';
  /** Concurrent callers per limit in this process. */
  readonly loops: number;
  /** Calls each process passes through each limit. */
  readonly calls: number;
  /** The buckets' Redis timeout in ms. */
  readonly timeout: number;
}

export type ToParent =
  | { readonly type: 'ready' }
  | { readonly type: 'done'; readonly passed: readonly number[]; readonly stats: readonly RedisTokenBucketStats[]; readonly unhandled: readonly string[] };

export interface ToWorker {
  readonly type: 'start';
}

const unhandled: string[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(String(reason)));

function send(message: ToParent): void {
  process.send?.(message);
}

const config = JSON.parse(process.argv[2] ?? '') as FleetConfig;
const { Redis: RedisClass } = (await import(config.ioredis)) as { Redis: typeof Redis };
const redis = new RedisClass(config.port, '127.0.0.1', { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true });
redis.on('error', () => {});
await redis.connect();
const buckets = config.limits.map(
  (limit) => new RedisTokenBucket({ redis, key: limit.key, rate: limit.rate, burst: limit.burst, lease: limit.lease, processes: config.processes, timeout: config.timeout }),
);
const pools = buckets.map((limit) => {
  const pool = new ClientPool<string>({ limit, maxWait: 5_000 });
  pool.add('upstream');
  return pool;
});

await new Promise<ToWorker>((resolve) => {
  process.once('message', (message) => resolve(message as ToWorker));
  send({ type: 'ready' });
});
const passed = pools.map(() => 0);
const started = pools.map(() => 0);
await Promise.all(
  pools.flatMap((pool, i) =>
    Array.from({ length: config.loops }, async () => {
      while (started[i]! < config.calls) {
        started[i]!++;
        await pool.run(() => undefined);
        passed[i]!++;
      }
    }),
  ),
);
const stats = buckets.map((b) => b.stats);
await Promise.all(pools.map((pool) => pool.close()));
redis.disconnect();
send({ type: 'done', passed, stats, unhandled });
process.disconnect();
