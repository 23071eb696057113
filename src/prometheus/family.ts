import type { Buckets } from './buckets.js';

/** Label values of one series, in the family's label order. */
export type Labels = Readonly<Record<string, string>>;

/** Reports one counter or gauge series at scrape time. */
export type ScalarEmit = (labels: Labels, value: number) => void;
/** Reports one histogram series at scrape time. */
export type HistogramEmit = (labels: Labels, buckets: Buckets) => void;

/**
 * Where a family reads its series at scrape time: one adapter's counts. Several sources may feed one
 * family (several adapters on one registry); series with the same labels are merged.
 */
export interface Source<E> {
  collect(emit: E): void;
  /** Zero the counts, for prom-client's `registry.resetMetrics()`. */
  reset(): void;
}

/** How series with equal labels from several sources (or pools) combine. */
export type Merge = 'sum' | 'max';

/** The metric types clientpool exposes, as prom-client names them in `# TYPE`. */
export type FamilyType = 'counter' | 'gauge' | 'histogram';

/**
 * Marks a family made by clientpool, through `Symbol.for` so that two installed copies (the ESM and the
 * CommonJS build, or two versions) recognise each other's families on a shared registry. The value is
 * the version of the sharing protocol below (`sources` as {@link Sources}, `labelNames`, `bounds`).
 * Version 2 added the constant labels of each source: a family of version 1 cannot tell them.
 */
export const FAMILY_BRAND = Symbol.for('clientpool.prometheus.family');
export const FAMILY_PROTOCOL = 2;

/**
 * The sources feeding a family, each with the constant label values (`labels` option) of the adapter it
 * belongs to: two adapters with equal values would emit series with equal labels, merged into one, so a
 * second one is refused (see shared-families.ts). `registerFamilies` claims the values on each family it
 * chose just before the adapter adds its source (both in the adapter's constructor, with nothing in
 * between), so the adapter needs no other step; `delete`, on `unregister()`, frees them.
 */
export class Sources<E> extends Set<Source<E>> {
  /** The values claimed for the next source added. */
  #claimed: Labels | undefined;
  readonly #labels = new Map<Source<E>, Labels>();

  /** Record `labels` as the constant labels of the next source added. */
  claim(labels: Labels): void {
    this.#claimed = labels;
  }

  override add(source: Source<E>): this {
    if (this.#claimed !== undefined && !this.has(source)) {
      this.#labels.set(source, this.#claimed);
      this.#claimed = undefined;
    }
    return super.add(source);
  }

  override delete(source: Source<E>): boolean {
    this.#labels.delete(source);
    return super.delete(source);
  }

  override clear(): void {
    this.#labels.clear();
    super.clear();
  }

  /** The constant labels of every source still feeding the family. */
  constantLabels(): IterableIterator<Labels> {
    return this.#labels.values();
  }
}

/** One sample as prom-client's `Registry` formats it (lib/registry.js `getMetricsAsString`). */
interface Sample {
  readonly value: number;
  readonly labels: Record<string, string | number>;
  /** Labels printed after `labels`: a histogram's series labels come after `le`, as prom-client's own. */
  readonly sharedLabels?: Labels;
  readonly metricName?: string;
}

/** What prom-client's `Registry` reads from a metric: `metrics()` and `getMetricsAsJSON()`. */
export interface MetricData {
  readonly name: string;
  readonly help: string;
  readonly type: FamilyType;
  readonly values: Sample[];
  readonly aggregator: 'sum';
}

/**
 * A metric family registered with a prom-client `Registry` and filled at scrape time. It is not a
 * prom-client `Counter` or `Histogram`: the registry only needs `name`, `help`, `type`, `get()` (or
 * `getForPromString()`) and `reset()` (see lib/registry.js), and implementing them directly lets the
 * counts live in plain numbers on the hot path instead of being copied into a prom-client metric's
 * internals on every scrape. The samples are shaped exactly like prom-client's own, so the text is too.
 */
export abstract class Family<E> {
  readonly [FAMILY_BRAND] = FAMILY_PROTOCOL;
  /** Not readonly: prom-client renames counters (drops `_total`) when it renders OpenMetrics. */
  name: string;
  /** The name the family is registered under, which the registry keeps whatever `name` becomes. */
  readonly key: string;
  readonly help: string;
  abstract readonly type: FamilyType;
  readonly aggregator = 'sum';
  readonly labelNames: readonly string[];
  readonly sources = new Sources<E>();

  constructor(name: string, help: string, labelNames: readonly string[]) {
    this.name = name;
    this.key = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  /** For `registry.getMetricsAsJSON()`: labels flattened. */
  abstract get(): Promise<MetricData>;

  /** For `registry.metrics()`: the text rendering. */
  getForPromString(): Promise<MetricData> {
    return this.get();
  }

  reset(): void {
    for (const source of this.sources) source.reset();
  }

  protected data(values: Sample[]): MetricData {
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** A key for merging series with the same labels; unambiguous whatever the values contain. */
  protected keyOf(labels: Labels): string {
    return JSON.stringify(this.labelNames.map((name) => labels[name]));
  }
}

/** A counter or gauge family. */
export class ScalarFamily extends Family<ScalarEmit> {
  readonly type: 'counter' | 'gauge';
  readonly merge: Merge;

  constructor(type: 'counter' | 'gauge', name: string, help: string, labelNames: readonly string[], merge: Merge) {
    super(name, help, labelNames);
    this.type = type;
    this.merge = merge;
  }

  get(): Promise<MetricData> {
    const merged = new Map<string, { labels: Labels; value: number }>();
    const emit: ScalarEmit = (labels, value) => {
      const key = this.keyOf(labels);
      const entry = merged.get(key);
      if (entry === undefined) merged.set(key, { labels, value });
      else entry.value = this.merge === 'max' ? Math.max(entry.value, value) : entry.value + value;
    };
    for (const source of this.sources) source.collect(emit);
    return Promise.resolve(this.data(Array.from(merged.values(), ({ labels, value }) => ({ value, labels: { ...labels } }))));
  }
}

/** A histogram family: `_bucket{le}`, `_sum` and `_count` per series, as prom-client's `Histogram` renders them. */
export class HistogramFamily extends Family<HistogramEmit> {
  readonly type = 'histogram';
  readonly bounds: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], bounds: readonly number[]) {
    super(name, help, labelNames);
    this.bounds = bounds;
  }

  override getForPromString(): Promise<MetricData> {
    const values: Sample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const series of this.#merged()) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += series.counts[i]!;
        values.push({ value: cumulative, labels: { le: this.bounds[i]! }, sharedLabels: series.labels, metricName: bucket });
      }
      values.push(
        { value: series.count, labels: { le: '+Inf' }, sharedLabels: series.labels, metricName: bucket },
        { value: series.sum, labels: {}, sharedLabels: series.labels, metricName: `${this.name}_sum` },
        { value: series.count, labels: {}, sharedLabels: series.labels, metricName: `${this.name}_count` },
      );
    }
    return Promise.resolve(this.data(values));
  }

  /** As prom-client's `Histogram.get()`: the series labels moved into `labels`, after `le`. */
  override async get(): Promise<MetricData> {
    const data = await this.getForPromString();
    const values = data.values.map(({ value, labels, sharedLabels, metricName }): Sample => ({
      value,
      labels: { ...labels, ...sharedLabels },
      ...(metricName === undefined ? {} : { metricName }),
    }));
    return { ...data, values };
  }

  #merged(): { labels: Labels; counts: Float64Array; sum: number; count: number }[] {
    const merged = new Map<string, { labels: Labels; counts: Float64Array; sum: number; count: number }>();
    const emit: HistogramEmit = (labels, buckets) => {
      const key = this.keyOf(labels);
      const entry = merged.get(key);
      if (entry === undefined) {
        merged.set(key, { labels, counts: Float64Array.from(buckets.counts), sum: buckets.sum, count: buckets.count });
        return;
      }
      for (let i = 0; i < entry.counts.length; i++) entry.counts[i]! += buckets.counts[i]!;
      entry.sum += buckets.sum;
      entry.count += buckets.count;
    };
    for (const source of this.sources) source.collect(emit);
    return [...merged.values()];
  }
}

/** What a family found on a registry must offer to be shared: any clientpool copy's family with the same protocol. */
export type SharedFamily = ScalarFamily | HistogramFamily;

/** True when `metric` is a family made by (any copy of) clientpool with this sharing protocol. */
export function isSharedFamily(metric: unknown): metric is SharedFamily {
  return typeof metric === 'object' && metric !== null && (metric as { [FAMILY_BRAND]?: unknown })[FAMILY_BRAND] === FAMILY_PROTOCOL;
}
