export {
  RedisTokenBucket,
  type FallbackEvent,
  type RecoverEvent,
  type RedisBucketState,
  type RedisTokenBucketOptions,
  type RedisTokenBucketStats,
} from './redis-token-bucket.js';
export type { RedisScriptClient } from './script.js';
