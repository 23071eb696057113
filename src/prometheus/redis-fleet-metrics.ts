import { Registry } from 'prom-client';
import { InvalidOptionError } from '../errors.js';
import { CallbackGuard } from '../pipeline/guard.js';
import { keySet, knownKeys, optionsObject, unreadableOptions } from '../validate.js';
import { ScalarFamily, type Labels, type ScalarEmit, type Source } from './family.js';
import { resolveOptions } from './options.js';
import { registerFamilies, releaseFamilies, type AnyRegistry } from './shared-families.js';

// What the metrics adapters read of a fleet, declared structurally: neither `clientpool/prometheus` nor
// `clientpool/otel` loads `clientpool/redis`.

/**
 * The counters of a fleet, as `RedisFleet.stats` returns them (`clientpool/redis`): every field but
 * `mode`, `syncAgeMs` and `lastLagMs` only grows.
 */
export interface RedisFleetStatsLike {
  /** `'idle'` (serving no pool yet), `'redis'`, `'fallback'` (on the local view) or `'closed'`. */
  readonly mode: string;
  readonly syncs: number;
  readonly failures: number;
  readonly fallbacks: number;
  readonly reports: number;
  readonly applied: number;
  /** Milliseconds since the last successful sync; `Infinity` before any. */
  readonly syncAgeMs: number;
  /** Milliseconds from another process's report to its application here, for the last one applied; `NaN` before any. */
  readonly lastLagMs: number;
  readonly mismatches: number;
}

/** What the metrics read of a fleet: a `RedisFleet` fits, or anything of its shape. */
export interface RedisFleetLike {
  readonly key: string;
  /** Read at collection only. */
  readonly stats: RedisFleetStatsLike;
}

/** The counters exported, each a field of the stats. */
export const FLEET_COUNTERS = ['syncs', 'failures', 'fallbacks', 'reports', 'applied', 'mismatches'] as const;

/** `<prefix>_fleet_mode` values; an idle or closed fleet has no series. */
const MODE_VALUE: Readonly<Record<string, number>> = { redis: 0, fallback: 1 };

/**
 * The fleet's key, checked; `stats` is only looked for (its getter runs at collection).
 * @throws InvalidOptionError naming `fleet` when it is not an object with a non-empty string `key` and a `stats` property.
 */
export function fleetKey(fleet: unknown): string {
  const expected = 'a RedisFleet, or an object with a non-empty string key and stats';
  if (typeof fleet !== 'object' || fleet === null) throw new InvalidOptionError('fleet', expected, fleet);
  let key: unknown;
  let hasStats: boolean;
  try {
    key = (fleet as { key?: unknown }).key;
    hasStats = 'stats' in fleet;
  } catch (error) {
    throw unreadableOptions('fleet', fleet, error);
  }
  if (typeof key !== 'string' || key === '' || !hasStats) throw new InvalidOptionError('fleet', expected, fleet);
  return key;
}

/**
 * A plain copy of `stats`, each field read once, or undefined for a fleet that serves no pool (idle or
 * closed). Throws if a field is not what a fleet's stats hold: counts finite and >= 0, `syncAgeMs` >= 0
 * (`Infinity` allowed: no sync yet), `lastLagMs` >= 0 and finite or `NaN` (none applied yet).
 */
export function checkedFleetStats(value: unknown): RedisFleetStatsLike | undefined {
  if (typeof value !== 'object' || value === null) throw new TypeError(`stats must be an object, got ${typeof value}`);
  const raw = value as Record<keyof RedisFleetStatsLike, unknown>;
  const mode = raw.mode;
  if (mode !== 'redis' && mode !== 'fallback' && mode !== 'idle' && mode !== 'closed') throw new TypeError(`stats.mode must be 'idle', 'redis', 'fallback' or 'closed', got ${String(mode)}`);
  const number = (field: Exclude<keyof RedisFleetStatsLike, 'mode'>, isValid: (n: number) => boolean, expected: string): number => {
    const read = raw[field];
    if (typeof read !== 'number' || !isValid(read)) throw new TypeError(`stats.${field} must be ${expected}, got ${String(read)}`);
    return read;
  };
  const count = (field: (typeof FLEET_COUNTERS)[number]): number => number(field, (n) => n >= 0 && n !== Number.POSITIVE_INFINITY, 'a finite number >= 0');
  const stats: RedisFleetStatsLike = {
    mode,
    syncs: count('syncs'),
    failures: count('failures'),
    fallbacks: count('fallbacks'),
    reports: count('reports'),
    applied: count('applied'),
    mismatches: count('mismatches'),
    syncAgeMs: number('syncAgeMs', (n) => n >= 0, 'a number >= 0 (Infinity before the first sync)'),
    lastLagMs: number('lastLagMs', (n) => Number.isNaN(n) || (n >= 0 && n !== Number.POSITIVE_INFINITY), 'a finite number >= 0, or NaN before any report applied'),
  };
  return mode === 'redis' || mode === 'fallback' ? stats : undefined;
}

const OPTION_KEYS = keySet(['registry', 'prefix', 'labels']);
/** Label names the families use themselves: constant labels may not take them. */
const RESERVED_LABELS: ReadonlySet<string> = new Set(['key']);

/** Options of {@link redisFleetMetrics}: those of `prometheusMetrics` that apply. */
export interface RedisFleetMetricsOptions {
  /**
   * The prom-client registry to register on; never prom-client's global `register` unasked.
   * @default a new `Registry`, exposed as `metrics.registry`
   */
  readonly registry?: AnyRegistry;
  /**
   * First part of every metric name: `<prefix>_fleet_mode`. Use the prefix of the pool's
   * `prometheusMetrics` so that both sit together.
   * @default 'middleware'
   */
  readonly prefix?: string;
  /**
   * Constant labels added to every series, after `key`, e.g. `{ pool: 'rpc' }`. Every fleet exported
   * with one prefix on one registry must use the same label names.
   * @default {}
   */
  readonly labels?: Readonly<Record<string, string>>;
}

/** What {@link redisFleetMetrics} returns. */
export interface RedisFleetMetrics {
  /** The registry the metrics are on: the one passed in, or a new one. */
  readonly registry: AnyRegistry;
  /** The fleet's key: the `key` label of its series. */
  readonly key: string;
  /** Stop exporting this fleet; a family no other fleet feeds leaves the registry. Idempotent. */
  unregister(): void;
}

/**
 * Prometheus metrics for a fleet sharing circuits, pauses and health through Redis (`RedisFleet` of
 * `clientpool/redis`, docs/fleet.md), read from `fleet.stats` at scrape time only, so a call costs
 * nothing more. Per fleet, by its `key`:
 *
 * - `<prefix>_fleet_mode` (gauge): 0 while sharing through Redis, 1 on the local view (fallback: Redis
 *   failed or timed out, or refused a mismatched configuration). A fleet serving no pool (idle, or closed
 *   with its pool) has no series.
 * - `<prefix>_fleet_sync_age_seconds` (gauge): seconds since the last successful sync; it grows while
 *   the fleet is on the local view. No series before the first sync.
 * - `<prefix>_fleet_lag_seconds` (gauge): for the last report of another process applied here, seconds
 *   from its report to its application (on the Redis server's clock). No series before the first.
 * - `<prefix>_fleet_syncs_total`, `<prefix>_fleet_failures_total` (counters): syncs that succeeded, and
 *   round trips (syncs and reports) that failed or timed out.
 * - `<prefix>_fleet_fallbacks_total` (counter): switches to the local view.
 * - `<prefix>_fleet_reports_total`, `<prefix>_fleet_applied_total` (counters): reports sent (openings,
 *   closings, pauses, health verdicts, probe-lease asks), and reports of other processes applied here.
 * - `<prefix>_fleet_mismatches_total` (counter): syncs that found another configuration on the key.
 *
 * Fleets exported with one prefix on one registry share the families (and coexist with the pool's
 * `prometheusMetrics` and `redisBucketMetrics`, whose names differ); two fleets with the same key add up
 * (mode, sync age and lag: the larger). `stats` is read once per scrape, whatever the number of
 * families, so a scrape shows each fleet whole or not at all. A `stats` getter that throws (or returns
 * something else) leaves that fleet out of the scrape and is reported once as a
 * `CLIENTPOOL_CALLBACK_ERROR` warning: the scrape still succeeds.
 *
 * @throws InvalidOptionError for a fleet without a non-empty string `key` and a `stats` property, a fleet
 *   already exported on this registry with this prefix, or a bad option (as `prometheusMetrics`'s).
 * @example
 * ```ts
 * const fleet = new RedisFleet({ redis, key: 'rpc-fleet' });
 * redisFleetMetrics(fleet, { registry });
 * const pool = new ClientPool({ fleet, middleware: [prometheusMetrics({ registry })] });
 * ```
 */
export function redisFleetMetrics(fleet: RedisFleetLike, options: RedisFleetMetricsOptions = {}): RedisFleetMetrics {
  const key = fleetKey(fleet);
  optionsObject('options', options);
  knownKeys('options', options, OPTION_KEYS);
  const resolved = resolveOptions(options);
  for (const name of Object.keys(resolved.labels)) {
    if (RESERVED_LABELS.has(name)) throw new InvalidOptionError('labels', `free of the names the metrics use (${[...RESERVED_LABELS].join(', ')})`, name);
  }
  const registry = resolved.registry ?? new Registry();
  return new FleetExport(fleet, key, registry, resolved.prefix, resolved.labels);
}

/**
 * Where a family keeps the fleets exported on it, so that a second export of one fleet is refused in
 * O(1). On the family itself, under `Symbol.for`, so that another installed copy of clientpool sharing
 * the family sees them too.
 */
const EXPORTED_FLEETS = Symbol.for('clientpool.prometheus.redisFleets');

function exportedOn(family: ScalarFamily): WeakSet<object> {
  const holder = family as unknown as { [EXPORTED_FLEETS]?: WeakSet<object> };
  let fleets = holder[EXPORTED_FLEETS];
  if (fleets === undefined) Object.defineProperty(holder, EXPORTED_FLEETS, { value: (fleets = new WeakSet()) });
  return fleets;
}

/** What one scrape read of a fleet: its checked stats (undefined when idle, closed or unreadable). */
interface Snapshot {
  readonly stats: RedisFleetStatsLike | undefined;
}

class FleetExport implements RedisFleetMetrics {
  readonly registry: AnyRegistry;
  readonly key: string;
  readonly #fleet: RedisFleetLike;
  readonly #guard = new CallbackGuard();
  readonly #labels: Labels;
  /** The read made for the scrape under way: every family of one scrape shows the fleet, or none does. */
  #snapshot: Snapshot | undefined;
  #fed: { family: ScalarFamily; source: Source<ScalarEmit> }[] = [];

  constructor(fleet: RedisFleetLike, key: string, registry: AnyRegistry, prefix: string, constant: Labels) {
    this.#fleet = fleet;
    this.key = key;
    this.registry = registry;
    this.#labels = Object.freeze({ key, ...constant });
    const names = ['key', ...Object.keys(constant)];
    const p = prefix;
    const counter = (name: string, help: string): ScalarFamily => new ScalarFamily('counter', `${p}_fleet_${name}_total`, help, names, 'sum');
    const families = registerFamilies(
      registry,
      {
        mode: new ScalarFamily('gauge', `${p}_fleet_mode`, 'Where a fleet gets its view of the upstreams: 0 shared through Redis, 1 its local view (fallback).', names, 'max'),
        syncAge: new ScalarFamily('gauge', `${p}_fleet_sync_age_seconds`, "Seconds since the fleet's last successful sync with Redis.", names, 'max'),
        lag: new ScalarFamily('gauge', `${p}_fleet_lag_seconds`, "Seconds from another process's report to its application here, for the last one applied.", names, 'max'),
        syncs: counter('syncs', 'Syncs with Redis that succeeded.'),
        failures: counter('failures', 'Round trips of the fleet to Redis (syncs and reports) that failed or timed out.'),
        fallbacks: counter('fallbacks', "Switches of the fleet from Redis to the process's local view."),
        reports: counter('reports', 'Reports the fleet sent: openings, closings, pauses, health verdicts, probe-lease asks.'),
        applied: counter('applied', 'Reports of other processes applied here.'),
        mismatches: counter('mismatches', 'Syncs that found another configuration on the fleet key.'),
      },
      // Series are told apart by `key`; two fleets with one key on one registry add up, as documented.
      { prefix, labels: constant, bucketOptions: {}, mergesEqualLabels: true },
    );
    const chosen = Object.values(families);
    if (chosen.some((family) => exportedOn(family).has(fleet))) {
      releaseFamilies(registry, chosen);
      throw new InvalidOptionError('fleet', `a fleet not yet exported on this registry with prefix "${prefix}" (its counts would be added twice)`, fleet);
    }
    this.#feed(families.mode, (emit, stats) => emit(this.#labels, MODE_VALUE[stats.mode]!));
    this.#feed(families.syncAge, (emit, stats) => {
      if (stats.syncAgeMs !== Number.POSITIVE_INFINITY) emit(this.#labels, stats.syncAgeMs / 1_000);
    });
    this.#feed(families.lag, (emit, stats) => {
      if (!Number.isNaN(stats.lastLagMs)) emit(this.#labels, stats.lastLagMs / 1_000);
    });
    for (const field of FLEET_COUNTERS) this.#feed(families[field], (emit, stats) => emit(this.#labels, stats[field]));
  }

  unregister(): void {
    for (const { family, source } of this.#fed) {
      family.sources.delete(source);
      exportedOn(family).delete(this.#fleet);
    }
    releaseFamilies(this.registry, this.#fed.map(({ family }) => family));
    this.#fed = [];
  }

  #feed(family: ScalarFamily, collect: (emit: ScalarEmit, stats: RedisFleetStatsLike) => void): void {
    const source: Source<ScalarEmit> = {
      collect: (emit) => {
        const stats = this.#stats();
        if (stats !== undefined) collect(emit, stats);
      },
      // Counts live in the fleet: a registry reset cannot zero them.
      reset: () => {},
    };
    family.sources.add(source);
    exportedOn(family).add(this.#fleet);
    this.#fed.push({ family, source });
  }

  /** The fleet's stats, read once per scrape (a failed read too) and checked; undefined to leave it out. */
  #stats(): RedisFleetStatsLike | undefined {
    let snapshot = this.#snapshot;
    if (snapshot === undefined) {
      snapshot = this.#snapshot = this.#read();
      // prom-client collects every family of one scrape in the same turn: one read serves them all.
      queueMicrotask(() => (this.#snapshot = undefined));
    }
    return snapshot.stats;
  }

  #read(): Snapshot {
    try {
      return { stats: checkedFleetStats(this.#fleet.stats) };
    } catch (error) {
      this.#guard.warn(`the stats of the Redis fleet ${JSON.stringify(this.key)} (redisFleetMetrics)`, error, 'The fleet was left out of the scrape.');
      return { stats: undefined };
    }
  }
}
