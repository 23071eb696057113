export { PoolDispatcher, poolDispatcher } from './pool-dispatcher.js';
export type { OriginOptions, PoolDispatcherOptions } from './options.js';
export type { Upstream } from './upstream.js';
export { UpstreamStatusError } from './errors.js';
export { IDEMPOTENT_METHODS, isReplayableBody } from './replay.js';
export { retryAfterMs } from './retry-after.js';
