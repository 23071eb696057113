// --redis: one client's quota shared through Redis, as a fleet of processes would share an API key's limit.
// The bucket's figures (mode, round trips, fallbacks, tokens by source) go on the same /metrics as the
// pool's; kill the Redis server while the demo runs and the bucket falls back to its local share, then
// returns once Redis is back.
import { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { redisBucketMetrics } from '../../src/prometheus/index.js';
import { RedisTokenBucket } from '../../src/redis/index.js';
import type { UpstreamSpec } from './upstreams.js';

/** The client whose quota is shared. */
export const SHARED_CLIENT = 'healthy';

export interface SharedLimit {
  /** The client it limits, and the bucket to give it as its `limit`. */
  readonly client: string;
  readonly bucket: RedisTokenBucket;
  /** Close the bucket (after the pool) and the Redis connection. */
  close(): Promise<void>;
}

/**
 * Connect to `url` and make the shared bucket of {@link SHARED_CLIENT} with its quota, its metrics on
 * `registry`. `onEvent` hears fallbacks and recoveries. Throws when Redis cannot be reached at the start.
 */
export async function sharedLimit(url: string, specs: readonly UpstreamSpec[], registry: Registry, onEvent: (message: string) => void): Promise<SharedLimit> {
  const spec = specs.find((candidate) => candidate.name === SHARED_CLIENT)!;
  // Fail fast while Redis is down (the bucket then falls back at once), and keep reconnecting.
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => 200 });
  // Connection errors are the bucket's to report (as a fallback); ioredis would print each one.
  redis.on('error', () => {});
  try {
    await redis.connect();
  } catch (error) {
    redis.disconnect();
    throw new Error(`could not connect to Redis at ${redisAddress(url)}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const bucket = new RedisTokenBucket({ redis, key: `clientpool-demo:${SHARED_CLIENT}`, rate: spec.quota.rate, burst: spec.quota.burst, recheckInterval: 250 });
  bucket.onFallback(({ cause }) => onEvent(`redis: ${SHARED_CLIENT}'s shared quota falls back to its local share (${cause.message})`));
  bucket.onRecover(({ downMs }) => onEvent(`redis: ${SHARED_CLIENT}'s shared quota is back on Redis after ${(downMs / 1_000).toFixed(1)} s`));
  const metrics = redisBucketMetrics(bucket, { registry });
  return {
    client: SHARED_CLIENT,
    bucket,
    close: async () => {
      metrics.unregister();
      bucket.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** `host:port` of a redis:// URL: what the demo prints, without any password in it. */
export function redisAddress(url: string): string {
  return new URL(url).host;
}
