import type { Call } from '../call.js';
import { isLimiter, type Limiter } from '../limit/limiter.js';
import { TokenBucket, type TokenBucketOptions } from '../limit/token-bucket.js';
import { InvalidOptionError } from '../errors.js';
import { keySet, knownKeys, nonNegative, optionsObject } from '../validate.js';

const LIMITER_KEYS = keySet(['limiter', 'maxWait']);
import type { Middleware, Next } from './middleware.js';

/** Options of {@link rateLimit}: a token bucket's, or a limiter of your own with the longest wait. */
export type RateLimitOptions = TokenBucketOptions | { readonly limiter: Limiter; readonly maxWait?: number };

/**
 * The original's `NewRateLimiterMiddleware(rate, burst, maxWait)` as middleware: each call takes a token,
 * waiting up to `maxWait` (FIFO, honouring the call's signal), else fails with `RateLimitedError`.
 * It runs after a client was chosen; prefer the pool's `limit` option, which waits before choosing, and
 * per-client `limit`s, which route around an exhausted client.
 *
 * @example
 * ```ts
 * pool.use(rateLimit({ rate: 10, burst: 20, maxWait: 2_000 }));
 * ```
 */
export function rateLimit(options: RateLimitOptions): Middleware & { readonly limiter: Limiter } {
  optionsObject('rateLimit', options);
  if (options === undefined) throw new InvalidOptionError('rateLimit', 'an options object', options);
  if ('limiter' in options) knownKeys('rateLimit', options, LIMITER_KEYS);
  if ('limiter' in options && !isLimiter(options.limiter)) throw new InvalidOptionError('rateLimit.limiter', 'a Limiter (an object with take())', options.limiter);
  const limiter = 'limiter' in options ? options.limiter : new TokenBucket(options, 'rateLimit');
  const maxWait = options.maxWait === undefined ? undefined : nonNegative('rateLimit.maxWait', options.maxWait);
  return {
    name: 'rateLimit',
    limiter,
    execute(call: Call<unknown>, next: Next): Promise<unknown> {
      if (limiter.tryTake?.(1) === true) return next(call);
      return limiter.take(1, maxWait === undefined ? { signal: call.signal } : { signal: call.signal, maxWait }).then(() => next(call));
    },
    close: () => limiter.close?.(),
  };
}
