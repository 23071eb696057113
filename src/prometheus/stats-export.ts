import { Registry } from 'prom-client';
import { InvalidOptionError } from '../errors.js';
import { CallbackGuard } from '../pipeline/guard.js';
import { keySet, knownKeys, optionsObject } from '../validate.js';
import { ScalarFamily, type Labels, type Merge, type ScalarEmit, type Source } from './family.js';
import { resolveOptions } from './options.js';
import { registerFamilies, releaseFamilies, type AnyRegistry } from './shared-families.js';
import { sourceKey, type StatsSourceKind } from './stats-source.js';

// One way to export a source of stats keyed by `key` (a Redis-shared bucket, a fleet): each adapter
// (redis-bucket-metrics.ts, redis-fleet-metrics.ts) only declares its families and what they read.

const OPTION_KEYS = keySet(['registry', 'prefix', 'labels']);

/** One family of an exported source. */
export interface StatsFamily {
  readonly type: 'counter' | 'gauge';
  /** The name after `<prefix>_`. */
  readonly name: string;
  readonly help: string;
  /** How series of two sources with one key add up. */
  readonly merge: Merge;
  /** Label names the family sets between `key` and the constant labels, e.g. `source`. */
  readonly labels?: readonly string[];
}

/** What an adapter declares: the kind of source, its families, and how a scrape fills each. */
export interface StatsExportSpec<S, K extends string> {
  readonly kind: StatsSourceKind<S>;
  /** Where a family keeps the sources exported on it (`Symbol.for`, see {@link exportedOn}). */
  readonly brand: symbol;
  readonly families: Readonly<Record<K, StatsFamily>>;
  /**
   * Made once per export: what each family emits from checked stats. `labels(extra)` gives the frozen
   * labels of a series, `{ key, ...extra, ...constant }`.
   */
  readonly collectors: (labels: (extra?: Labels) => Labels) => Readonly<Record<K, (emit: ScalarEmit, stats: S) => void>>;
}

/** What an export returns; each adapter's public result type is this shape. */
export interface StatsExport {
  readonly registry: AnyRegistry;
  readonly key: string;
  unregister(): void;
}

/**
 * Export `source` as `spec` declares, with the options of `prometheusMetrics` that apply (`registry`,
 * `prefix`, `labels`).
 * @throws InvalidOptionError for a source without a non-empty string `key` and a `stats` property, a
 *   source already exported on this registry with this prefix, or a bad option.
 */
export function exportStats<S, K extends string>(spec: StatsExportSpec<S, K>, source: unknown, options: object): StatsExport {
  const key = sourceKey(spec.kind, source);
  optionsObject('options', options);
  knownKeys('options', options, OPTION_KEYS);
  const resolved = resolveOptions(options);
  const reserved = reservedLabels(spec.families);
  for (const name of Object.keys(resolved.labels)) {
    if (reserved.has(name)) throw new InvalidOptionError('labels', `free of the names the metrics use (${[...reserved].join(', ')})`, name);
  }
  const registry = resolved.registry ?? new Registry();
  return new KeyedExport(spec, source as { readonly stats: unknown }, key, registry, resolved.prefix, resolved.labels);
}

/** Label names the families use themselves: constant labels may not take them. */
function reservedLabels(families: Readonly<Record<string, StatsFamily>>): ReadonlySet<string> {
  return new Set(['key', ...Object.values(families).flatMap((family) => family.labels ?? [])]);
}

/**
 * Where a family keeps the sources exported on it, so that a second export of one source is refused in
 * O(1) rather than by scanning every source (registering N buckets was O(N²)). On the family itself (one
 * per registry and name: the same registry and prefix), under `Symbol.for`, so that another installed
 * copy of clientpool (the CommonJS build beside the ESM one) sharing the family sees them too.
 */
function exportedOn(family: ScalarFamily, brand: symbol): WeakSet<object> {
  const holder = family as unknown as Record<symbol, WeakSet<object> | undefined>;
  let sources = holder[brand];
  if (sources === undefined) Object.defineProperty(holder, brand, { value: (sources = new WeakSet()) });
  return sources;
}

/** What one scrape read of a source: its checked stats, or undefined (nothing to show, or the read failed). */
interface Snapshot<S> {
  readonly stats: S | undefined;
}

class KeyedExport<S, K extends string> implements StatsExport {
  readonly registry: AnyRegistry;
  readonly key: string;
  readonly #spec: StatsExportSpec<S, K>;
  readonly #source: { readonly stats: unknown };
  readonly #guard = new CallbackGuard();
  /**
   * The read made for the scrape under way, failed or not: every family of one scrape is collected in
   * the same turn, so each either shows the source or none does.
   */
  #snapshot: Snapshot<S> | undefined;
  #fed: { family: ScalarFamily; source: Source<ScalarEmit> }[] = [];

  constructor(spec: StatsExportSpec<S, K>, source: { readonly stats: unknown }, key: string, registry: AnyRegistry, prefix: string, constant: Labels) {
    this.#spec = spec;
    this.#source = source;
    this.key = key;
    this.registry = registry;
    const wanted = {} as Record<K, ScalarFamily>;
    for (const [field, family] of Object.entries(spec.families) as [K, StatsFamily][]) {
      const names = ['key', ...(family.labels ?? []), ...Object.keys(constant)];
      wanted[field] = new ScalarFamily(family.type, `${prefix}_${family.name}`, family.help, names, family.merge);
    }
    // Series are told apart by `key`; two sources with one key (two pools on one quota) add up, as documented.
    const families = registerFamilies(registry, wanted, { prefix, labels: constant, bucketOptions: {}, mergesEqualLabels: true });
    const chosen = Object.values<ScalarFamily>(families);
    if (chosen.some((family) => exportedOn(family, spec.brand).has(source))) {
      releaseFamilies(registry, chosen);
      const { option } = spec.kind;
      throw new InvalidOptionError(option, `a ${option} not yet exported on this registry with prefix "${prefix}" (its counts would be added twice)`, source);
    }
    const collectors = spec.collectors((extra = {}) => Object.freeze({ key, ...extra, ...constant }));
    for (const field of Object.keys(families) as K[]) this.#feed(families[field], collectors[field]);
  }

  unregister(): void {
    for (const { family, source } of this.#fed) {
      family.sources.delete(source);
      exportedOn(family, this.#spec.brand).delete(this.#source);
    }
    releaseFamilies(this.registry, this.#fed.map(({ family }) => family));
    this.#fed = [];
  }

  #feed(family: ScalarFamily, collect: (emit: ScalarEmit, stats: S) => void): void {
    const source: Source<ScalarEmit> = {
      collect: (emit) => {
        const stats = this.#stats();
        if (stats !== undefined) collect(emit, stats);
      },
      // Counts live in the source: a registry reset cannot zero them.
      reset: () => {},
    };
    family.sources.add(source);
    exportedOn(family, this.#spec.brand).add(this.#source);
    this.#fed.push({ family, source });
  }

  /**
   * The source's stats, read once per scrape and checked; undefined for one with nothing to show or
   * whose stats cannot be read (reported once), so that the scrape leaves it out rather than failing. A
   * failed read is kept for the scrape too: read again by a later family, a getter that recovered would
   * put part of the source in the scrape, and one that keeps failing would be read once per family.
   */
  #stats(): S | undefined {
    let snapshot = this.#snapshot;
    if (snapshot === undefined) {
      snapshot = this.#snapshot = this.#read();
      // prom-client collects every family of one scrape in the same turn: one read serves them all.
      queueMicrotask(() => (this.#snapshot = undefined));
    }
    return snapshot.stats;
  }

  #read(): Snapshot<S> {
    const { kind } = this.#spec;
    try {
      return { stats: kind.check(this.#source.stats) };
    } catch (error) {
      this.#guard.warn(`the stats of the ${kind.noun} ${JSON.stringify(this.key)} (${kind.caller})`, error, `The ${kind.option} was left out of the scrape.`);
      return { stats: undefined };
    }
  }
}
