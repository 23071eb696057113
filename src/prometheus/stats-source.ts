import { InvalidOptionError } from '../errors.js';
import { unreadableOptions } from '../validate.js';

// What the metrics adapters read of a source of stats (a Redis-shared bucket, a fleet): a `key` and a
// `stats` getter read at collection. This module loads neither prom-client nor `clientpool/redis`, so
// that `clientpool/otel` can check sources with it too.

/** One kind of source the adapters export: how its errors name it and how its stats are checked. */
export interface StatsSourceKind<S> {
  /** The name errors give the source, as the adapter's first parameter: `bucket`, `fleet`. */
  readonly option: string;
  /** What warnings call it: `Redis bucket`. */
  readonly noun: string;
  /** The adapters' public function (one name in both), for warnings: `redisBucketMetrics`. */
  readonly caller: string;
  /** What the source must be, as an `InvalidOptionError` says it. */
  readonly expected: string;
  /**
   * A plain copy of `stats`, each field read once, or undefined for a source with nothing to show now
   * (closed, idle). Throws a `TypeError` naming a field that is not what the stats hold.
   */
  readonly check: (stats: unknown) => S | undefined;
}

/** The metric value of a Redis-backed source's mode: 0 while on Redis, 1 on its local fallback. */
export const REDIS_MODE_VALUE: Readonly<Record<string, number>> = { redis: 0, fallback: 1 };

/**
 * The source's key, checked; `stats` is only looked for (its getter runs at collection).
 * @throws InvalidOptionError naming `kind.option` when `source` is not an object with a non-empty string `key` and a `stats` property.
 */
export function sourceKey(kind: StatsSourceKind<unknown>, source: unknown): string {
  if (typeof source !== 'object' || source === null) throw new InvalidOptionError(kind.option, kind.expected, source);
  let key: unknown;
  let hasStats: boolean;
  try {
    key = (source as { key?: unknown }).key;
    hasStats = 'stats' in source;
  } catch (error) {
    throw unreadableOptions(kind.option, source, error);
  }
  if (typeof key !== 'string' || key === '' || !hasStats) throw new InvalidOptionError(kind.option, kind.expected, source);
  return key;
}

/** `stats` as a record to read fields of; throws a `TypeError` when it is no object. */
export function statsRecord(value: unknown): Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null) throw new TypeError(`stats must be an object, got ${typeof value}`);
  return value as Record<string, unknown>;
}

/** `stats.mode`, read once; throws a `TypeError` listing `modes` when it is none of them. */
export function statsMode<M extends string>(raw: Readonly<Record<string, unknown>>, modes: readonly M[]): M {
  const mode = raw['mode'];
  if (!(modes as readonly unknown[]).includes(mode)) {
    const quoted = modes.map((m) => `'${m}'`);
    throw new TypeError(`stats.mode must be ${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1)!}, got ${String(mode)}`);
  }
  return mode as M;
}

/** `stats[field]`, read once; throws a `TypeError` saying what it must be (`expected`) when not a number passing `isValid`. */
export function statsNumber(raw: Readonly<Record<string, unknown>>, field: string, isValid: (n: number) => boolean, expected: string): number {
  const read = raw[field];
  if (typeof read !== 'number' || !isValid(read)) throw new TypeError(`stats.${field} must be ${expected}, got ${String(read)}`);
  return read;
}

/** `stats[field]` as a count: a finite number >= 0. */
export function statsCount(raw: Readonly<Record<string, unknown>>, field: string): number {
  return statsNumber(raw, field, (n) => n >= 0 && n !== Number.POSITIVE_INFINITY, 'a finite number >= 0');
}
