export { poolModel, PooledLanguageModel } from './pool-model.js';
export type { PoolModelOptions, PoolModelRunOptions } from './options.js';
export type { UsageListener, UsageReport } from './usage.js';
export { isModelFailure, modelErrorStatus } from './classify.js';
export { rateLimitPauseMs } from './retry-after.js';
export { StreamEndedEarlyError, StreamErrorPartError } from './errors.js';
