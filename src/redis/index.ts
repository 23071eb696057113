export {
  RedisTokenBucket,
  type FallbackEvent,
  type RecoverEvent,
  type RedisBucketState,
  type RedisTokenBucketOptions,
  type RedisTokenBucketStats,
} from './redis-token-bucket.js';
export type { RedisScriptClient } from './eval-script.js';
export { configFingerprint, ConfigMismatchError } from './config-fingerprint.js';
export {
  RedisFleet,
  type FleetApplyEvent,
  type FleetFallbackEvent,
  type FleetRecoverEvent,
  type FleetShare,
  type RedisFleetOptions,
  type RedisFleetState,
  type RedisFleetStats,
} from './redis-fleet.js';
