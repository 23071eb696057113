import type { RunOptions } from '../call.js';
import { hasErrorCode, InvalidOptionError, type ClientPoolError } from '../errors.js';
import { callable, duration, knownKeys, keySet, optionsObject } from '../validate.js';
import type { CallbackGuard } from './guard.js';
import type { SourceRecord } from './call-end.js';

/** The `cache` run option: reuse a coalesced call's result for a while, and fall back to it when calls fail. */
export interface CacheOptions {
  /** Ms a result is served from the cache without a call. An integer from 0 to 2^31-1. */
  readonly ttl: number;
  /**
   * Ms a result may still be served when the call fails (its clients failing, open or out of tokens):
   * the caller gets it, and `onStale` is told why (required when this is above 0: never silently). 0 (the default) never serves a stale result.
   * @default 0
   */
  readonly staleIfError?: number;
  /**
   * Told when the caller got a stale result instead of `error` (never silently): its age in ms and the
   * error the call failed with. A throw is reported as a `CLIENTPOOL_CALLBACK_ERROR` warning.
   */
  readonly onStale?: (stale: { readonly ageMs: number; readonly error: ClientPoolError }) => void;
}

const CACHE_KEYS = keySet(['ttl', 'staleIfError', 'onStale']);

/** A result kept, with when it was got (pool clock, ms). */
interface Entry {
  readonly value: unknown;
  readonly at: number;
}

/** A run's `cache` option as checked: its durations in ms, its `onStale` callable. */
export interface CacheSettings {
  readonly ttl: number;
  readonly staleIfError: number;
  readonly onStale: CacheOptions['onStale'] | undefined;
}

/** A run's `cache` option checked, read once: its `coalesce` key names the entry. @throws InvalidOptionError */
export function cacheOption(options: RunOptions<unknown>): CacheSettings {
  const cache = options.cache!;
  optionsObject('cache', cache);
  knownKeys('cache', cache, CACHE_KEYS);
  if (options.coalesce === undefined) throw new InvalidOptionError('cache', 'given with a coalesce key, which names the cached result', cache);
  const staleIfError = cache.staleIfError === undefined ? 0 : duration('cache.staleIfError', cache.staleIfError);
  // A stale result is never served silently: whoever allows one hears of each.
  if (staleIfError > 0 && cache.onStale === undefined) throw new InvalidOptionError('cache.onStale', 'a function, since staleIfError allows stale results (it hears of each one served)', cache.onStale);
  return {
    ttl: duration('cache.ttl', cache.ttl),
    staleIfError,
    onStale: cache.onStale === undefined ? undefined : callable<NonNullable<CacheOptions['onStale']>>('cache.onStale', cache.onStale),
  };
}

/**
 * Results of coalesced calls by key, for `ttl` and as a fallback for `staleIfError` (HTTP's
 * `stale-if-error`, RFC 5861): a map in least-recently-used order with a size cap, no timer per key (an
 * entry past every use is dropped when read, or when the cap pushes it out).
 */
export class CallCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The entry of `key` if it is younger than `maxAgeMs` at `now`; a read makes it the most recently used. */
  get(key: string, now: number, maxAgeMs: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined || !(now - entry.at < maxAgeMs)) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  set(key: string, value: unknown, now: number): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, at: now });
    if (this.#entries.size > this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
  }
}

/**
 * A coalesced call with a `cache` option (`settings`, checked with the call: never read again): served
 * from `cache` while younger than `ttl`; else run through `coalesce` (the shared call, its result stored
 * once, by `start`'s wrapper); a failure that may fall back is answered by a result younger than
 * `staleIfError`, with `onStale` told.
 */
export function runCached<T>(
  cache: CallCache,
  options: RunOptions<T>,
  settings: CacheSettings,
  coalesce: (start: (shared: RunOptions<T>) => Promise<unknown>) => Promise<unknown>,
  start: (shared: RunOptions<T>) => Promise<unknown>,
  clock: { now(): number },
  guard: CallbackGuard,
  answer?: SourceRecord,
): Promise<unknown> {
  const { ttl, staleIfError, onStale } = settings;
  const key = options.coalesce!;
  const fresh = cache.get(key, clock.now(), ttl);
  if (fresh !== undefined) {
    if (answer !== undefined) answer.source = 'cache';
    return Promise.resolve(fresh.value);
  }
  const stored = (shared: RunOptions<T>): Promise<unknown> =>
    start(shared).then((value) => {
      cache.set(key, value, clock.now());
      return value;
    });
  return coalesce(stored).catch((error: unknown) => {
    const now = clock.now();
    const stale = mayServeStale(error) ? cache.get(key, now, staleIfError) : undefined;
    if (stale === undefined) throw error;
    if (answer !== undefined) answer.source = 'stale';
    if (onStale !== undefined) guard.call('cache.onStale', onStale, { ageMs: now - stale.at, error: error as ClientPoolError }, undefined);
    return stale.value;
  });
}

/** Whether a failed call may fall back to a stale result: not when its caller left or its options were bad. */
function mayServeStale(error: unknown): boolean {
  return !hasErrorCode(error, 'ERR_ABORTED') && !hasErrorCode(error, 'ERR_INVALID_OPTION') && !hasErrorCode(error, 'ERR_POOL_CLOSED');
}
