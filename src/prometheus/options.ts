import type { Clock } from '../clock.js';
import { InvalidOptionError } from '../errors.js';
import { clockOption, integerAtLeast, keySet, knownKeys, MAX_DURATION_MS, optionsObject, unreadableOptions } from '../validate.js';

import { bucketBounds, DEFAULT_BUCKETS } from './buckets.js';
import { DEFAULT_REMOVED_CLIENTS_RETENTION_MS, type RemovedClients } from './removed-clients.js';
import type { AnyRegistry } from './shared-families.js';

const OPTION_KEYS = keySet(['registry', 'prefix', 'maxMethods', 'buckets', 'waitBuckets', 'labels', 'clock', 'removedClients', 'removedClientsRetention']);
const OPTION_NAMES: readonly string[] = [...OPTION_KEYS];

/** Options of {@link prometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /**
   * The prom-client registry to register the metrics on. Without one, the adapter makes its own and
   * exposes it as `metrics.registry`: it never registers on prom-client's global `register` unasked
   * (pass `register` to use that one). Adapters with the same `prefix` on one registry share the
   * metrics (see the docs on several pools).
   * @default a new `Registry`
   */
  readonly registry?: AnyRegistry;
  /**
   * First part of every metric name: `<prefix>_requests_total`. The default keeps the original
   * middleware's names, so existing dashboards and alerts keep working.
   * @default 'middleware'
   */
  readonly prefix?: string;
  /**
   * How many distinct `method` label values are kept; calls with a method seen after the cap is
   * reached are recorded with `method="other"`. An integer >= 0.
   * @default 100
   */
  readonly maxMethods?: number;
  /**
   * Upper bounds, in seconds, of the `<prefix>_request_duration_seconds` and
   * `<prefix>_call_duration_seconds` buckets: finite, increasing.
   * @default [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] (prom-client's and Go's default)
   */
  readonly buckets?: readonly number[];
  /**
   * Upper bounds, in seconds, of the `<prefix>_rate_limit_wait_seconds` buckets.
   * @default the same as `buckets`' default
   */
  readonly waitBuckets?: readonly number[];
  /**
   * Constant labels added to every series, after the metric's own: `{ pool: 'rpc' }`. Give each pool
   * its own value when several pools share a registry, so their clients' series stay apart.
   * @default {}
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Where `removedClientsRetention` is measured, in ms: an object with `now()` (a fake one in tests).
   * Durations are not read from it: attempts' and whole calls' (`<prefix>_request_duration_seconds`,
   * `<prefix>_call_duration_seconds`) come from the pool, on the pool's `clock`. A reading that throws
   * or is not finite is replaced by the last good one and reported once as a
   * `CLIENTPOOL_CALLBACK_ERROR` warning.
   * @default `performance.now()`
   */
  readonly clock?: Clock;
  /**
   * The series of a client removed from the pool: `'drop'` exports them at one more scrape (so the
   * counts since the previous one are seen), keeps them for `removedClientsRetention`, and then forgets
   * them, so that clients that come and go (autoscaled upstreams, DNS-discovered endpoints) neither grow
   * memory nor the `/metrics` page: 10^5 churned clients kept left a 152 MB page. `'keep'` keeps them
   * until `unregister()`, for a fixed fleet whose removed clients' final totals must stay visible. The
   * default is `'drop'` because a removed client's series carry no new information and Prometheus
   * treats a vanished series as stale; queries over rates (`rate()`, `increase()`) are unaffected.
   * Per-client series are `requests_total`, `request_*`, `retries_total`, `hedges_total`,
   * `circuit_transitions_total` and the client-scoped rate-limit series; `in_flight`,
   * `circuit_state` and the series exported at 0 before a first count
   * (`circuit_transitions_total{from="closed",to="open"}`, `rate_limited_total{scope="client"}`) are
   * read from the pool and list only its clients.
   *
   * While no pool is attached (before `use()`, or after every pool closed) nothing is dropped. A pool
   * whose `close()` has begun keeps the clients it had then (they have left it, but calls in flight
   * still end on them) until its close reaches the middleware; the other pools' removed clients are
   * dropped as usual meanwhile. A sweep runs at each scrape and, between scrapes, after as many new
   * per-client series as there are clients (at least 64). After a sweep between scrapes at most
   * max(64, clients) removed clients keep their series, a client counting once however many series it
   * has: first those no scrape has exported yet, the first found gone first (ones found gone past that
   * are dropped unseen), then exported ones still within the retention, the most recently gone first.
   * So between scrapes the adapter holds at most max(64, clients) removed clients plus fewer than
   * max(64, clients) made since the last sweep. A scrape shows every absent client, even past the
   * allowance; the next sweep drops the excess and comes that much sooner (after max(64, clients) minus
   * the excess new series, at least one), so the bound holds after a scrape too (from the first new
   * series on, when more clients left at once than the bound allows).
   * @default 'drop'
   */
  readonly removedClients?: RemovedClients;
  /**
   * Under `removedClients: 'drop'`, how long, in ms on the adapter's `clock`, a removed client's series
   * stay after it was found gone; they are dropped only once this has passed AND a scrape has exported
   * them. "One more scrape" alone is not enough when several scrapers read `/metrics` (an HA pair of
   * Prometheus servers, a health check, a debugging `curl`): the next scrape may be another's, and a
   * scraper would never see the client's last counts. Keep it above the longest scrape interval (with
   * some slack for a failed scrape). 0 drops them at the first scrape that exported them. An integer
   * from 0 to 2^31-1; memory stays bounded by the allowance described under `removedClients`.
   * @default 300000 (5 minutes)
   */
  readonly removedClientsRetention?: number;
}

/** The options checked, with their defaults. */
export interface ResolvedOptions {
  readonly registry: AnyRegistry | undefined;
  readonly prefix: string;
  readonly maxMethods: number;
  readonly buckets: readonly number[];
  readonly waitBuckets: readonly number[];
  /** Sorted by name, so that every adapter sharing a family orders them alike. */
  readonly labels: Readonly<Record<string, string>>;
  readonly clock: Clock | undefined;
  readonly removedClients: RemovedClients;
  readonly removedClientsRetention: number;
}

// Prometheus' data model: https://prometheus.io/docs/concepts/data_model/
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** Label names the metrics use themselves; `le` is the histogram's. */
const RESERVED_LABELS = new Set(['client', 'method', 'code', 'scope', 'from', 'to', 'le']);

/**
 * Check every option once, at construction, naming the option and the bad value. Each option (and each
 * bucket, label and registry method) is read once: a getter or Proxy trap that throws is an
 * `InvalidOptionError` naming the option, with the throw as its `cause`.
 */
export function resolveOptions(options: PrometheusMetricsOptions): ResolvedOptions {
  optionsObject('options', options);
  if (options !== undefined) knownKeys('options', options, OPTION_KEYS);
  const { registry, prefix = 'middleware', maxMethods = 100, buckets, waitBuckets, labels = {}, removedClients = 'drop', removedClientsRetention = DEFAULT_REMOVED_CLIENTS_RETENTION_MS, clock } = readOnce(options);
  if (registry !== undefined && !guardedRead('registry', registry, () => isRegistry(registry))) throw new InvalidOptionError('registry', 'a prom-client Registry', registry);
  if (typeof prefix !== 'string' || !METRIC_NAME.test(prefix)) {
    throw new InvalidOptionError('prefix', 'a metric name prefix matching [a-zA-Z_:][a-zA-Z0-9_:]*', prefix);
  }
  if (removedClients !== 'drop' && removedClients !== 'keep') throw new InvalidOptionError('removedClients', "'drop' or 'keep'", removedClients);
  return {
    registry: registry as AnyRegistry | undefined,
    prefix,
    maxMethods: integerAtLeast('maxMethods', maxMethods, 0),
    buckets: buckets === undefined ? DEFAULT_BUCKETS : guardedRead('buckets', buckets, () => bucketBounds('buckets', buckets)),
    waitBuckets: waitBuckets === undefined ? DEFAULT_BUCKETS : guardedRead('waitBuckets', waitBuckets, () => bucketBounds('waitBuckets', waitBuckets)),
    labels: guardedRead('labels', labels, () => constantLabels(labels)),
    clock: guardedRead('clock', clock, () => clockOption('clock', clock)),
    removedClients,
    removedClientsRetention: retention(removedClientsRetention),
  };
}

function retention(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_DURATION_MS) {
    throw new InvalidOptionError('removedClientsRetention', `an integer number of ms from 0 to ${MAX_DURATION_MS}`, value);
  }
  return value;
}

/** The options as read once: each still to be checked. */
type ReadOptions = Readonly<Partial<Record<keyof PrometheusMetricsOptions, unknown>>>;

/** Every option read once into a plain object; `undefined` ones stay absent so defaults apply. */
function readOnce(options: PrometheusMetricsOptions | undefined): ReadOptions {
  const copy: Partial<Record<string, unknown>> = {};
  if (options === undefined) return copy;
  try {
    for (const key of OPTION_NAMES) {
      const value: unknown = (options as Record<string, unknown>)[key];
      if (value !== undefined) copy[key] = value;
    }
  } catch (error) {
    throw unreadableOptions('options', options, error);
  }
  return copy;
}

/** Run a check that reads into `value`; a getter's or Proxy trap's throw becomes a typed error naming `option`. */
function guardedRead<T>(option: string, value: unknown, check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw unreadableOptions(option, value, error);
  }
}

function isRegistry(value: unknown): value is AnyRegistry {
  if (typeof value !== 'object' || value === null) return false;
  const registry = value as Partial<Record<'registerMetric' | 'getSingleMetric' | 'removeSingleMetric', unknown>>;
  return typeof registry.registerMetric === 'function' && typeof registry.getSingleMetric === 'function' && typeof registry.removeSingleMetric === 'function';
}

function constantLabels(value: unknown): Readonly<Record<string, string>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidOptionError('labels', 'an object of label names to string values', value);
  const labels: Record<string, string> = {};
  for (const [name, labelValue] of Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!LABEL_NAME.test(name) || name.startsWith('__')) {
      throw new InvalidOptionError('labels', 'label names matching [a-zA-Z_][a-zA-Z0-9_]* and not starting with __', name);
    }
    if (RESERVED_LABELS.has(name)) throw new InvalidOptionError('labels', `free of the names the metrics use (${[...RESERVED_LABELS].join(', ')})`, name);
    if (typeof labelValue !== 'string') throw new InvalidOptionError(`labels.${name}`, 'a string', labelValue);
    labels[name] = labelValue;
  }
  return Object.freeze(labels);
}
