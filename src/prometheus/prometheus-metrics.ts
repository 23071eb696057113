import { Registry } from 'prom-client';
import type { CircuitState } from '../breaker/breaker.js';
import type { Call } from '../call.js';
import type { Disposable } from '../events.js';
import type { Middleware } from '../middleware/middleware.js';
import type { Outcome } from '../pipeline/outcome.js';
import type { PoolObserver, RateLimitEvent, StateChange } from '../pool-events.js';
import { Buckets } from './buckets.js';
import { CallSeries, ClientSeries } from './call-series.js';
import { HistogramFamily, ScalarFamily, type Family, type Labels, type ScalarEmit, type Source } from './family.js';
import { MethodLabels, OTHER_METHOD } from './method-labels.js';
import { resolveOptions, type PrometheusMetricsOptions } from './options.js';
import { registerFamilies, releaseFamilies, type AnyRegistry, type FedFamily } from './shared-families.js';

/** `<prefix>_circuit_state` values. */
const CIRCUIT_STATE_VALUE: Readonly<Record<CircuitState['kind'], number>> = { closed: 0, 'half-open': 1, open: 2 };

/** The counters kept per client × method, each a field of {@link CallSeries} and a family of the same key. */
const CALL_COUNTERS = ['requests', 'errors', 'cancelled', 'retries', 'hedges'] as const;

/** A counter or gauge series kept by key outside the hot path (transitions, rate limits). */
interface Counted {
  readonly labels: Labels;
  value: number;
}

/**
 * Prometheus metrics for a pool, as a middleware: `pool.use(prometheusMetrics({ registry }))`.
 *
 * It counts attempts from the pool's verdict on each (`onOutcome`), so it never decides for itself how
 * an attempt ended and adds no layer to the call chain: a call the pool retries or hedges is counted
 * once per attempt, each on the client that ran it, and an attempt whose function never settles is
 * counted when its timeout ends it. Every per-attempt counter, `requests_total` included, moves when
 * the attempt ends, not when it starts: an attempt still running is in `in_flight` only. Durations are
 * the pool's, measured on its `clock`. Per attempt it finds the client × method counts once (two map
 * lookups) and adds to plain numbers; prom-client sees them only when the registry is scraped. Gauges
 * (in-flight calls, circuit state) cost nothing per call: they are read from `pool.members()` at
 * scrape time. Circuit transitions and rate limits come from the pool's events.
 *
 * @example
 * ```ts
 * import { Registry } from 'prom-client';
 * import { prometheusMetrics } from 'clientpool/prometheus';
 *
 * const registry = new Registry();
 * pool.use(prometheusMetrics({ registry }));
 * // serve `await registry.metrics()` with content type `registry.contentType` at /metrics
 * ```
 */
export function prometheusMetrics(options: PrometheusMetricsOptions = {}): PrometheusMetrics {
  return new PrometheusMetrics(options);
}

/** The middleware {@link prometheusMetrics} returns. */
class PrometheusMetrics implements Middleware {
  readonly name = 'prometheus';
  /** The registry the metrics are on: the one passed in, or the adapter's own. */
  readonly registry: AnyRegistry;
  readonly #buckets: readonly number[];
  readonly #waitBuckets: readonly number[];
  readonly #constant: Labels;
  readonly #methods: MethodLabels;
  readonly #clients = new Map<string, ClientSeries>();
  readonly #pools: PoolObserver[] = [];
  readonly #subscriptions: Disposable[] = [];
  readonly #transitions = new Map<string, Counted>();
  readonly #rateLimited = new Map<string, Counted>();
  readonly #waits = new Map<string, { readonly labels: Labels; readonly buckets: Buckets }>();
  /** The families this adapter feeds, and how to stop feeding each, for `unregister()`. */
  readonly #fed: { readonly family: FedFamily; readonly detach: () => void }[] = [];

  constructor(options: PrometheusMetricsOptions) {
    const resolved = resolveOptions(options);
    this.registry = resolved.registry ?? new Registry();
    this.#buckets = resolved.buckets;
    this.#waitBuckets = resolved.waitBuckets;
    this.#constant = resolved.labels;
    this.#methods = new MethodLabels(resolved.maxMethods);

    const p = resolved.prefix;
    const constant = Object.keys(resolved.labels);
    const call = ['client', 'method', ...constant];
    const client = ['client', ...constant];
    const limit = ['scope', 'client', ...constant];
    const families = registerFamilies(
      this.registry,
      {
        requests: new ScalarFamily('counter', `${p}_requests_total`, 'Attempts that held a client, counted when they end; a retried or hedged call makes several.', call, 'sum'),
        duration: new HistogramFamily(`${p}_request_duration_seconds`, 'Duration of attempts in seconds, on the pool\'s clock, from when each held its client until it ended.', call, resolved.buckets),
        errors: new ScalarFamily('counter', `${p}_request_errors_total`, 'Attempts that ended in an error: a failure (including a timeout), an error answer, or a refusal.', call, 'sum'),
        cancelled: new ScalarFamily('counter', `${p}_request_cancelled_total`, 'Attempts cancelled by the caller, by a hedge that won elsewhere, or by pool.destroy().', call, 'sum'),
        retries: new ScalarFamily('counter', `${p}_retries_total`, 'Attempts that retried a failed call, by the client that ran them.', call, 'sum'),
        hedges: new ScalarFamily('counter', `${p}_hedges_total`, 'Attempts that hedged a slow call, by the client that ran them.', call, 'sum'),
        inFlight: new ScalarFamily('gauge', `${p}_in_flight`, 'Attempts in flight per client.', client, 'sum'),
        circuitState: new ScalarFamily('gauge', `${p}_circuit_state`, 'Circuit state per client: 0 closed, 1 half-open, 2 open.', client, 'max'),
        transitions: new ScalarFamily('counter', `${p}_circuit_transitions_total`, 'Circuit state transitions per client.', ['client', 'from', 'to', ...constant], 'sum'),
        rateLimited: new ScalarFamily('counter', `${p}_rate_limited_total`, 'Calls refused a rate-limit token (RateLimitedError).', limit, 'sum'),
        rateLimitWait: new HistogramFamily(`${p}_rate_limit_wait_seconds`, 'Time calls waited for a rate-limit token before getting one, in seconds.', limit, resolved.waitBuckets),
      },
      { ...resolved, bucketOptions: { duration: 'buckets', rateLimitWait: 'waitBuckets' } },
    );

    for (const field of CALL_COUNTERS) this.#feed(families[field], this.#callCounter(field));
    this.#feed(families.duration, {
      collect: (emit) => { for (const series of this.#callSeries()) emit(series.labels, series.duration); },
      reset: () => { for (const series of this.#callSeries()) series.duration.reset(); },
    });
    this.#feed(families.inFlight, {
      collect: (emit) => { for (const pool of this.#pools) for (const member of pool.members()) emit(this.#clientLabels(member.name), member.inFlight); },
      reset: () => {},
    });
    this.#feed(families.circuitState, {
      collect: (emit) => { for (const pool of this.#pools) for (const member of pool.members()) emit(this.#clientLabels(member.name), CIRCUIT_STATE_VALUE[member.state.kind]); },
      reset: () => {},
    });
    this.#feed(families.transitions, countedSource(this.#transitions));
    this.#feed(families.rateLimited, countedSource(this.#rateLimited));
    this.#feed(families.rateLimitWait, {
      collect: (emit) => { for (const wait of this.#waits.values()) emit(wait.labels, wait.buckets); },
      reset: () => { for (const wait of this.#waits.values()) wait.buckets.reset(); },
    });
  }

  /**
   * Count one ended attempt from the pool's verdict: `success` adds to none of the error counters,
   * `failure`, `answered` and `refused` to `errors`, `cancelled` (the caller left, a hedge won
   * elsewhere, the pool was destroyed) to `cancelled`, which says nothing about the client.
   */
  onOutcome(call: Call<unknown>, outcome: Outcome, durationMs: number): void {
    const client = this.#clients.get(call.clientName) ?? this.#addClient(call.clientName);
    const series = client.byMethod.get(call.method) ?? this.#addMethod(client, call.method);
    series.requests++;
    const kind = call.kind;
    if (kind === 'retry') series.retries++;
    else if (kind === 'hedge') series.hedges++;
    const verdict = outcome.kind;
    if (verdict === 'cancelled') series.cancelled++;
    else if (verdict !== 'success') series.errors++;
    series.duration.observe(durationMs / 1000);
  }

  /** Subscribe to the pool's events and read its members at scrape time. */
  attach(pool: PoolObserver): void {
    this.#pools.push(pool);
    this.#subscriptions.push(
      pool.onStateChange((change) => this.#onStateChange(change)),
      pool.onRateLimit((event) => this.#onRateLimit(event)),
    );
  }

  /** The pool closed: stop reading its members at scrape time. Its counts stay until `unregister()`. */
  close(pool: PoolObserver): void {
    const i = this.#pools.indexOf(pool);
    if (i >= 0) this.#pools.splice(i, 1);
  }

  /**
   * Take this adapter's series off the registry (and each metric, once no other adapter feeds it) and
   * stop listening to its pools: for a process that retires a pool but keeps running.
   */
  unregister(): void {
    for (const subscription of this.#subscriptions.splice(0)) subscription.dispose();
    this.#pools.length = 0;
    for (const { detach } of this.#fed) detach();
    releaseFamilies(this.registry, this.#fed.map(({ family }) => family));
    this.#fed.length = 0;
  }

  #addClient(name: string): ClientSeries {
    const client = new ClientSeries(name);
    this.#clients.set(name, client);
    return client;
  }

  /** First call of a method on a client. Past the cap it is not remembered, so unbounded methods cannot grow the map. */
  #addMethod(client: ClientSeries, method: string): CallSeries {
    const label = this.#methods.label(method);
    const existing = label === OTHER_METHOD ? client.byMethod.get(OTHER_METHOD) : undefined;
    if (existing !== undefined) return existing;
    const series = new CallSeries({ client: client.name, method: label, ...this.#constant }, this.#buckets);
    client.byMethod.set(label, series);
    return series;
  }

  /** A counter read from one field of every client × method series. */
  #callCounter(field: (typeof CALL_COUNTERS)[number]): Source<ScalarEmit> {
    return {
      collect: (emit) => { for (const series of this.#callSeries()) emit(series.labels, series[field]); },
      reset: () => { for (const series of this.#callSeries()) series[field] = 0; },
    };
  }

  *#callSeries(): Generator<CallSeries> {
    for (const client of this.#clients.values()) yield* client.byMethod.values();
  }

  #clientLabels(client: string): Labels {
    return { client, ...this.#constant };
  }

  #onStateChange({ client, from, to }: StateChange): void {
    count(this.#transitions, [client, from.kind, to.kind], () => ({ client, from: from.kind, to: to.kind, ...this.#constant }));
  }

  #onRateLimit({ scope, client = '', waitedMs, rejected }: RateLimitEvent): void {
    const labels = (): Labels => ({ scope, client, ...this.#constant });
    if (rejected) {
      count(this.#rateLimited, [scope, client], labels);
      return;
    }
    const key = JSON.stringify([scope, client]);
    let wait = this.#waits.get(key);
    if (wait === undefined) this.#waits.set(key, (wait = { labels: labels(), buckets: new Buckets(this.#waitBuckets) }));
    wait.buckets.observe(waitedMs / 1000);
  }

  #feed<E>(family: Family<E>, source: Source<E>): void {
    family.sources.add(source);
    this.#fed.push({ family, detach: () => family.sources.delete(source) });
  }
}

export type { PrometheusMetrics };

function count(map: Map<string, Counted>, values: readonly string[], labels: () => Labels): void {
  const key = JSON.stringify(values);
  const counted = map.get(key);
  if (counted === undefined) map.set(key, { labels: labels(), value: 1 });
  else counted.value++;
}

function countedSource(map: Map<string, Counted>): Source<ScalarEmit> {
  return {
    collect: (emit) => { for (const { labels, value } of map.values()) emit(labels, value); },
    reset: () => { for (const counted of map.values()) counted.value = 0; },
  };
}
