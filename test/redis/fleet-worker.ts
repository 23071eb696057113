/**
 * One process of the fleet test (fleet.test.ts), run as `node --import tsx test/redis/fleet-worker.ts '<config>'`.
 * It connects to Redis, builds one pool per shared limit, tells the parent it is ready, then, from the
 * start time the parent sends, runs calls through every pool as fast as the limits allow, and reports
 * how many passed within the window, its buckets' stats and any unhandled rejection.
 */
import { Redis } from 'ioredis';
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
  /** Concurrent callers per limit in this process. */
  readonly loops: number;
  readonly durationMs: number;
  /** The buckets' Redis timeout in ms. */
  readonly timeout: number;
}

export type ToParent =
  | { readonly type: 'ready' }
  | { readonly type: 'done'; readonly passed: readonly number[]; readonly stats: readonly RedisTokenBucketStats[]; readonly unhandled: readonly string[] };

export interface ToWorker {
  readonly type: 'start';
  /** Date.now() at which to start: the same instant for every process of the machine. */
  readonly startAt: number;
}

const unhandled: string[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(String(reason)));

function send(message: ToParent): void {
  process.send?.(message);
}

const config = JSON.parse(process.argv[2] ?? '') as FleetConfig;
const redis = new Redis(config.port, '127.0.0.1', { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true });
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

const { startAt } = await new Promise<ToWorker>((resolve) => {
  process.once('message', (message) => resolve(message as ToWorker));
  send({ type: 'ready' });
});
await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - Date.now())));
const end = startAt + config.durationMs;
const passed = pools.map(() => 0);
await Promise.all(
  pools.flatMap((pool, i) =>
    Array.from({ length: config.loops }, async () => {
      while (Date.now() < end) {
        await pool.run(() => undefined);
        if (Date.now() < end) passed[i]!++;
      }
    }),
  ),
);
const stats = buckets.map((b) => b.stats);
await Promise.all(pools.map((pool) => pool.close()));
redis.disconnect();
send({ type: 'done', passed, stats, unhandled });
process.disconnect();
