import { Registry } from 'prom-client';
import { InvalidOptionError } from '../errors.js';
import { CallbackGuard } from '../pipeline/guard.js';
import { keySet, knownKeys, optionsObject } from '../validate.js';
import { ScalarFamily, type Labels, type ScalarEmit, type Source } from './family.js';
import { resolveOptions } from './options.js';
import { bucketKey, checkedStats, type RedisBucketLike, type RedisBucketStatsLike } from './redis-bucket-stats.js';
import { registerFamilies, releaseFamilies, type AnyRegistry } from './shared-families.js';

const OPTION_KEYS = keySet(['registry', 'prefix', 'labels']);
/** Label names the families use themselves: constant labels may not take them. */
const RESERVED_LABELS: ReadonlySet<string> = new Set(['key', 'source']);

/** Options of {@link redisBucketMetrics}: those of `prometheusMetrics` that apply. */
export interface RedisBucketMetricsOptions {
  /**
   * The prom-client registry to register on; never prom-client's global `register` unasked.
   * @default a new `Registry`, exposed as `metrics.registry`
   */
  readonly registry?: AnyRegistry;
  /**
   * First part of every metric name: `<prefix>_redis_bucket_mode`. Use the prefix of the pool's
   * `prometheusMetrics` so that both sit together.
   * @default 'middleware'
   */
  readonly prefix?: string;
  /**
   * Constant labels added to every series, after the metric's own (`key`, `source`), e.g. `{ pool: 'rpc' }`.
   * Every bucket exported with one prefix on one registry must use the same label names.
   * @default {}
   */
  readonly labels?: Readonly<Record<string, string>>;
}

/** What {@link redisBucketMetrics} returns. */
export interface RedisBucketMetrics {
  /** The registry the metrics are on: the one passed in, or a new one. */
  readonly registry: AnyRegistry;
  /** The bucket's key: the `key` label of its series. */
  readonly key: string;
  /** Stop exporting this bucket; a family no other bucket feeds leaves the registry. Idempotent. */
  unregister(): void;
}

/** `<prefix>_redis_bucket_mode` values; a closed bucket has no series. */
const MODE_VALUE: Readonly<Record<string, number>> = { redis: 0, fallback: 1 };

/** The counters exported, each a field of the stats. */
const COUNTERS = ['roundTrips', 'failures', 'fallbacks', 'leasedTokens', 'expiredTokens'] as const;

/**
 * Prometheus metrics for a Redis-shared token bucket (`RedisTokenBucket` of `clientpool/redis`), read from
 * `bucket.stats` at scrape time only, so a call costs nothing more. Per bucket, by its `key`:
 *
 * - `<prefix>_redis_bucket_mode` (gauge): 0 while tokens come from Redis, 1 while from the local
 *   insurance bucket (fallback). A closed bucket's series all vanish.
 * - `<prefix>_redis_bucket_round_trips_total`, `<prefix>_redis_bucket_failures_total` (counters): script
 *   runs sent to Redis (probes included), and those that failed or timed out.
 * - `<prefix>_redis_bucket_fallbacks_total` (counter): switches from Redis to the local bucket.
 * - `<prefix>_redis_bucket_tokens_total{source="redis"|"local"}` (counter): tokens taken from Redis
 *   (leased ones included) and granted by the local bucket.
 * - `<prefix>_redis_bucket_leased_tokens_total`, `<prefix>_redis_bucket_expired_tokens_total` (counters):
 *   of the Redis tokens, those taken ahead of demand, and those dropped unused when their lease expired.
 * - `<prefix>_redis_bucket_reserve_tokens` (gauge): leased tokens held in the local reserve now.
 *
 * Buckets exported with one prefix on one registry share the families (and coexist with the pool's
 * `prometheusMetrics`, whose names differ); two buckets with the same key add up (mode: the worse).
 * `stats` is read once per scrape, whatever the number of families, so a scrape shows each bucket whole
 * or not at all. A `stats` getter that throws (or returns something else) leaves that bucket out of the
 * scrape and is reported once as a `CLIENTPOOL_CALLBACK_ERROR` warning: the scrape still succeeds.
 * Exporting a bucket costs O(1) whatever the number already exported.
 *
 * @throws InvalidOptionError for a bucket without a non-empty string `key` and a `stats` property, a
 *   bucket already exported on this registry with this prefix, or a bad option (as `prometheusMetrics`'s).
 * @example
 * ```ts
 * const limit = new RedisTokenBucket({ redis, key: 'provider-a', rate: 100 });
 * const metrics = prometheusMetrics({ registry });
 * redisBucketMetrics(limit, { registry });
 * const pool = new ClientPool({ limit, middleware: [metrics] });
 * ```
 */
export function redisBucketMetrics(bucket: RedisBucketLike, options: RedisBucketMetricsOptions = {}): RedisBucketMetrics {
  const key = bucketKey(bucket);
  optionsObject('options', options);
  knownKeys('options', options, OPTION_KEYS);
  const resolved = resolveOptions(options);
  for (const name of Object.keys(resolved.labels)) {
    if (RESERVED_LABELS.has(name)) throw new InvalidOptionError('labels', `free of the names the metrics use (${[...RESERVED_LABELS].join(', ')})`, name);
  }
  const registry = resolved.registry ?? new Registry();
  return new BucketExport(bucket, key, registry, resolved.prefix, resolved.labels);
}

/**
 * Where a family keeps the buckets exported on it, so that a second export of one bucket is refused in
 * O(1) rather than by scanning every source (registering N buckets was O(N²)). On the family itself (one
 * per registry and name: the same registry and prefix), under `Symbol.for`, so that another installed
 * copy of clientpool (the CommonJS build beside the ESM one) sharing the family sees them too.
 */
const EXPORTED_BUCKETS = Symbol.for('clientpool.prometheus.redisBuckets');

function exportedOn(family: ScalarFamily): WeakSet<object> {
  const holder = family as unknown as { [EXPORTED_BUCKETS]?: WeakSet<object> };
  let buckets = holder[EXPORTED_BUCKETS];
  if (buckets === undefined) Object.defineProperty(holder, EXPORTED_BUCKETS, { value: (buckets = new WeakSet()) });
  return buckets;
}

/** What one scrape read of a bucket: its checked stats, or the failure, kept alike so a scrape reads once. */
interface Snapshot {
  readonly stats: RedisBucketStatsLike | undefined;
}

class BucketExport implements RedisBucketMetrics {
  readonly registry: AnyRegistry;
  readonly key: string;
  readonly #bucket: RedisBucketLike;
  readonly #guard = new CallbackGuard();
  readonly #labels: Labels;
  readonly #redisTokens: Labels;
  readonly #localTokens: Labels;
  /**
   * The read made for the scrape under way, failed or not: every family of one scrape is collected in
   * the same turn, so each either shows the bucket or none does.
   */
  #snapshot: Snapshot | undefined;
  #fed: { family: ScalarFamily; source: Source<ScalarEmit> }[] = [];

  constructor(bucket: RedisBucketLike, key: string, registry: AnyRegistry, prefix: string, constant: Labels) {
    this.#bucket = bucket;
    this.key = key;
    this.registry = registry;
    this.#labels = Object.freeze({ key, ...constant });
    this.#redisTokens = Object.freeze({ key, source: 'redis', ...constant });
    this.#localTokens = Object.freeze({ key, source: 'local', ...constant });
    const names = ['key', ...Object.keys(constant)];
    const p = prefix;
    const families = registerFamilies(
      registry,
      {
        mode: new ScalarFamily('gauge', `${p}_redis_bucket_mode`, 'Where a Redis-shared token bucket takes tokens: 0 Redis, 1 its local insurance bucket (fallback).', names, 'max'),
        roundTrips: new ScalarFamily('counter', `${p}_redis_bucket_round_trips_total`, 'Script runs a Redis-shared token bucket sent to Redis, probes included.', names, 'sum'),
        failures: new ScalarFamily('counter', `${p}_redis_bucket_failures_total`, 'Round trips to Redis that failed or timed out.', names, 'sum'),
        fallbacks: new ScalarFamily('counter', `${p}_redis_bucket_fallbacks_total`, 'Switches of a Redis-shared token bucket from Redis to its local insurance bucket.', names, 'sum'),
        tokens: new ScalarFamily('counter', `${p}_redis_bucket_tokens_total`, 'Tokens a Redis-shared token bucket took, by source: redis (leased ones included) or local (insurance bucket).', ['key', 'source', ...Object.keys(constant)], 'sum'),
        leasedTokens: new ScalarFamily('counter', `${p}_redis_bucket_leased_tokens_total`, 'Tokens taken from Redis ahead of demand (lease), kept in the local reserve.', names, 'sum'),
        expiredTokens: new ScalarFamily('counter', `${p}_redis_bucket_expired_tokens_total`, 'Leased tokens dropped unused when their lease expired.', names, 'sum'),
        reserve: new ScalarFamily('gauge', `${p}_redis_bucket_reserve_tokens`, 'Leased tokens in the local reserve now.', names, 'sum'),
      },
      // Series are told apart by `key`; two buckets with one key (two pools on one quota) add up, as documented.
      { prefix, labels: constant, bucketOptions: {}, mergesEqualLabels: true },
    );
    const chosen = Object.values(families);
    if (chosen.some((family) => exportedOn(family).has(bucket))) {
      releaseFamilies(registry, chosen);
      throw new InvalidOptionError('bucket', `a bucket not yet exported on this registry with prefix "${prefix}" (its counts would be added twice)`, bucket);
    }
    this.#feed(families.mode, (emit, stats) => emit(this.#labels, MODE_VALUE[stats.mode]!));
    for (const field of COUNTERS) this.#feed(families[field], (emit, stats) => emit(this.#labels, stats[field]));
    this.#feed(families.tokens, (emit, stats) => {
      emit(this.#redisTokens, stats.redisTokens);
      emit(this.#localTokens, stats.localTokens);
    });
    this.#feed(families.reserve, (emit, stats) => emit(this.#labels, stats.reserve));
  }

  unregister(): void {
    for (const { family, source } of this.#fed) {
      family.sources.delete(source);
      exportedOn(family).delete(this.#bucket);
    }
    releaseFamilies(this.registry, this.#fed.map(({ family }) => family));
    this.#fed = [];
  }

  #feed(family: ScalarFamily, collect: (emit: ScalarEmit, stats: RedisBucketStatsLike) => void): void {
    const source: Source<ScalarEmit> = {
      collect: (emit) => {
        const stats = this.#stats();
        if (stats !== undefined) collect(emit, stats);
      },
      // Counts live in the bucket: a registry reset cannot zero them.
      reset: () => {},
    };
    family.sources.add(source);
    exportedOn(family).add(this.#bucket);
    this.#fed.push({ family, source });
  }

  /**
   * The bucket's stats, read once per scrape and checked; undefined for a closed bucket or one whose
   * stats cannot be read (reported once), so that the scrape leaves it out rather than failing. A failed
   * read is kept for the scrape too: read again by a later family, a getter that recovered would put
   * part of the bucket in the scrape, and one that keeps failing would be read once per family.
   */
  #stats(): RedisBucketStatsLike | undefined {
    let snapshot = this.#snapshot;
    if (snapshot === undefined) {
      snapshot = this.#snapshot = this.#read();
      // prom-client collects every family of one scrape in the same turn: one read serves them all.
      queueMicrotask(() => (this.#snapshot = undefined));
    }
    const stats = snapshot.stats;
    return stats === undefined || stats.mode === 'closed' ? undefined : stats;
  }

  #read(): Snapshot {
    try {
      return { stats: checkedStats(this.#bucket.stats) };
    } catch (error) {
      this.#guard.warn(`the stats of the Redis bucket ${JSON.stringify(this.key)} (redisBucketMetrics)`, error, 'The bucket was left out of the scrape.');
      return { stats: undefined };
    }
  }
}
