import { createNoopMeter, metrics, ValueType, type BatchObservableResult, type Counter, type Histogram, type Meter, type MeterProvider, type ObservableCounter, type ObservableGauge, type ObservableUpDownCounter } from '@opentelemetry/api';
import type { CircuitState } from '../breaker/breaker.js';
import type { Call } from '../call.js';
import { InvalidOptionError } from '../errors.js';
import type { Disposable } from '../events.js';
import type { MemberSnapshot } from '../member.js';
import type { Middleware } from '../middleware/middleware.js';
import { CallbackGuard } from '../pipeline/guard.js';
import type { CallEnd } from '../pipeline/call-end.js';
import type { Outcome } from '../pipeline/outcome.js';
import type { PoolObserver, RateLimitEvent, StateChange } from '../pool-events.js';
import { MetricAttributes, type EntryCounts } from './metrics-attributes.js';
import {
  ATTR_CALL_SOURCE,
  METER_NAME,
  METRIC_ATTEMPT_DURATION,
  METRIC_ATTEMPTS_ACTIVE,
  METRIC_CALL_DURATION,
  METRIC_CIRCUIT_STATE,
  METRIC_CONCURRENCY_LIMIT,
  METRIC_CLIENT_HEIGHT,
  METRIC_CLIENT_LAG,
  METRIC_QUORUM_DISAGREEMENTS,
  METRIC_CLIENT_TIER,
  METRIC_LIMIT_HEADROOM,
  ATTR_LIMIT,
  METRIC_CIRCUIT_TRANSITIONS,
  METRIC_RATE_LIMIT_WAIT,
} from './metrics-names.js';
import { meterShape, resolveOtelMetricsOptions, withCause, type OtelMetricsOptions, type ResolvedOtelMetricsOptions } from './metrics-options.js';

/** The middleware's name, as `pool.use()` reports it in warnings. */
const NAME = 'otel-metrics';

/** `clientpool.circuit.state` values, as the Prometheus adapter's `circuit_state`. */
const CIRCUIT_STATE_VALUE: Readonly<Record<CircuitState['kind'], number>> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * OpenTelemetry metrics for a pool, as a middleware: `pool.use(otelMetrics())`. The same figures as the
 * Prometheus adapter, with OpenTelemetry names and units (seconds, `error.type`):
 *
 * - `clientpool.call.duration` (histogram, `s`; `clientpool.method`, `error.type` = the clientpool error
 *   code the caller got, absent on success): each `pool.run()` as its caller saw it, all attempts,
 *   waits and backoffs included; its count is the number of calls.
 * - `clientpool.attempt.duration` (histogram, `s`; `clientpool.client`, `clientpool.method`,
 *   `clientpool.attempt.kind` first|retry|hedge|quorum, `clientpool.outcome`
 *   success|failure|answered|refused|cancelled, `error.type` on failure, answered and refused): each
 *   attempt, from the pool's verdict on it, timed on the pool's clock.
 * - `clientpool.attempts.active` (observable up-down counter, `{attempt}`; `clientpool.client`) and
 *   `clientpool.circuit.state` (observable gauge, `{state}`, 0 closed, 1 half-open, 2 open;
 *   `clientpool.client`): read from `pool.members()` at collection, nothing per call.
 * - `clientpool.circuit.transitions` (counter, `{transition}`; `clientpool.client`,
 *   `clientpool.circuit.from`, `clientpool.circuit.to`) and `clientpool.rate_limit.wait` (histogram, `s`;
 *   `clientpool.rate_limit.scope`, `clientpool.method`, `clientpool.client` for a client's own limit,
 *   `error.type` = `ERR_RATE_LIMITED` when no token came): from the pool's events.
 *
 * Attribute sets are made once per client × method × kind × outcome and reused. Those of clients gone
 * from every pool are forgotten at each collection and, so that churn without collections (no reader,
 * a long export interval) stays bounded too, by a sweep after as many new clients as there were live
 * ones at the last sweep (at least 64): the adapter holds at most the live clients' sets plus that
 * allowance, whatever the churn, for one counter increment per new client and amortised O(1) per
 * sweep. Forgetting a set loses no measurement, as the SDK keys series by attribute values: a removed
 * client's last measurements are reported at the next collection however many clients came and went
 * since. What the SDK keeps is its own: per instrument and collection at most its cardinality limit
 * of series (2000 by default; past it, measurements go to the `otel.metric.overflow=true` series), and
 * with cumulative temporality every series it has ever reported, a removed client's included. For a
 * fleet whose clients churn, export with delta temporality or drop `clientpool.client` with a View.
 *
 * With OpenTelemetry's no-op meter (no SDK registered when the middleware is made, and no `meter` or
 * `meterProvider` given) it records nothing and asks the pool to time nothing: one empty call per
 * attempt. The metrics API does not forward a meter to an SDK registered later, so register the SDK
 * before making this.
 * `pool.close()` disposes its event subscriptions and, with its last pool, the observable callbacks.
 *
 * @throws InvalidOptionError for a bad or unknown option, naming it; for a `meterProvider` (or global
 *   provider) whose `getMeter()` throws or returns no Meter, naming `meterProvider`; for a meter whose
 *   instrument factory throws or returns no instrument, naming `meter`. What was thrown is the `cause`.
 * @example
 * ```ts
 * import { metrics } from '@opentelemetry/api';
 * import { ConsoleMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
 * import { otelMetrics } from 'clientpool/otel';
 *
 * const reader = new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter() });
 * metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] })); // first: see above
 * pool.use(otelMetrics({ attributes: { 'clientpool.pool': 'rpc' } }));
 * ```
 */
export function otelMetrics(options: OtelMetricsOptions = {}): Middleware {
  const resolved = resolveOtelMetricsOptions(options);
  const meter = resolved.meter ?? providedMeter(resolved.meterProvider);
  // Its instruments drop every measurement: skip even the attribute lookups, and the attempt timing.
  // A function of its own per adapter (no `durationMs` parameter, so the pool times nothing for it): a pool
  // refuses two middleware sharing a hook function, and two no-op adapters are not one.
  if (meter === createNoopMeter()) return { name: NAME, onOutcome: () => {} };
  return new OtelMetrics(resolved, meter);
}

/** The `clientpool` meter of `provider` (the global one when not given), checked like a `meter` option. */
function providedMeter(provider: MeterProvider | undefined): Meter {
  // The global provider is whatever an app registered: checked and named as if it had been given.
  const option = provider === undefined ? 'meterProvider (the global one)' : 'meterProvider';
  let meter: unknown;
  try {
    meter = (provider ?? metrics.getMeterProvider()).getMeter(METER_NAME);
  } catch (error) {
    throw withCause(new InvalidOptionError(option, 'a MeterProvider whose getMeter() returns a Meter (it threw)', provider), error);
  }
  return meterShape(option, meter);
}

/**
 * Make one instrument; a meter whose factory throws, or returns something without the method the
 * adapter calls (`record`, `add`; none for an observable), fails `otelMetrics()` at once rather than
 * every call later.
 * @throws InvalidOptionError naming `meter`, with what the factory threw as the `cause`.
 */
function instrument<I extends object>(meter: Meter, name: string, make: () => I, method: 'record' | 'add' | undefined): I {
  let made: unknown;
  try {
    made = make();
    if (typeof made === 'object' && made !== null && (method === undefined || typeof (made as Record<string, unknown>)[method] === 'function')) return made as I;
  } catch (error) {
    throw withCause(new InvalidOptionError('meter', `a Meter that makes the instrument ${name} (it threw)`, meter), error);
  }
  throw new InvalidOptionError('meter', `a Meter whose instrument ${name} has ${method ?? 'a value'}()`, made);
}

/** Reads an adapter's map sizes; set by the class, which alone can read them. */
let countEntries: (middleware: Middleware) => EntryCounts | undefined;

/**
 * How many attribute-set entries an {@link otelMetrics} middleware holds, per map (undefined for the
 * no-op one, which holds none): for tests that check memory stays bounded under client churn.
 * Internal: not exported from `clientpool/otel`.
 */
export function trackedEntries(middleware: Middleware): EntryCounts | undefined {
  return countEntries(middleware);
}

class OtelMetrics implements Middleware {
  readonly name = NAME;
  readonly #meter: Meter;
  readonly #attributes: MetricAttributes;
  readonly #guard = new CallbackGuard();
  readonly #callDuration: Histogram;
  readonly #attemptDuration: Histogram;
  readonly #transitions: Counter;
  readonly #rateLimitWait: Histogram;
  readonly #active: ObservableUpDownCounter;
  readonly #circuitState: ObservableGauge;
  readonly #concurrencyLimit: ObservableGauge;
  readonly #height: ObservableGauge;
  readonly #lag: ObservableGauge;
  readonly #disagreements: ObservableCounter;
  readonly #tier: ObservableGauge;
  readonly #limitHeadroom: ObservableGauge;
  /** The pools attached and not yet closed, each with its event subscriptions. */
  readonly #pools = new Map<PoolObserver, Disposable[]>();
  /** Whether the meter took the observable callback (a user's meter may have refused it). */
  #isObserving = false;
  /** Made once, so that the very function given to the meter can be taken back. */
  readonly #observe = (result: BatchObservableResult): void => {
    const live = new Set<string>();
    const read: MemberSnapshot[][] = [];
    for (const pool of this.#pools.keys()) {
      const members = pool.members();
      read.push(members);
      for (const member of members) live.add(member.name);
    }
    // Gone clients' sets first: the ones made below are then all of live clients.
    this.#attributes.retainClients(live);
    for (const members of read) {
      for (const member of members) {
        const attributes = this.#attributes.client(member.name);
        result.observe(this.#active, member.inFlight, attributes);
        result.observe(this.#circuitState, CIRCUIT_STATE_VALUE[member.state.kind], attributes);
        if (member.maxInFlight !== undefined) result.observe(this.#concurrencyLimit, member.maxInFlight, attributes);
        if (member.height !== undefined) result.observe(this.#height, member.height, attributes);
        if (member.lag !== undefined) result.observe(this.#lag, member.lag, attributes);
        result.observe(this.#tier, member.tier, attributes);
        const quota = member.quota;
        if (quota !== undefined) for (const limit of Object.keys(quota)) result.observe(this.#limitHeadroom, quota[limit]!, { ...attributes, [ATTR_LIMIT]: limit });
        if (member.disagreements > 0) result.observe(this.#disagreements, member.disagreements, attributes);
      }
    }
  };
  /**
   * The clients of every attached pool, for the sweep of gone clients' attribute sets. While a pool
   * closes its clients have left `members()` already: their sets are forgotten too, which loses nothing,
   * as the SDK keys its series by value.
   */
  readonly #liveClients = (): ReadonlySet<string> => {
    const live = new Set<string>();
    for (const pool of this.#pools.keys()) for (const member of pool.members()) live.add(member.name);
    return live;
  };

  constructor(options: ResolvedOtelMetricsOptions, meter: Meter) {
    this.#meter = meter;
    this.#attributes = new MetricAttributes(options.maxMethods, options.attributes, this.#liveClients);
    const seconds = (description: string, buckets: readonly number[]): Parameters<Meter['createHistogram']>[1] => ({
      description,
      unit: 's',
      valueType: ValueType.DOUBLE,
      advice: { explicitBucketBoundaries: [...buckets] },
    });
    const histogram = (name: string, description: string, buckets: readonly number[]): Histogram =>
      instrument(meter, name, () => meter.createHistogram(name, seconds(description, buckets)), 'record');
    this.#callDuration = histogram(METRIC_CALL_DURATION, 'Duration of pool calls as their callers saw them: every attempt, wait and backoff.', options.buckets);
    this.#attemptDuration = histogram(METRIC_ATTEMPT_DURATION, "Duration of attempts, from the pick of their client to the pool's verdict.", options.buckets);
    this.#rateLimitWait = histogram(METRIC_RATE_LIMIT_WAIT, 'Time calls waited for a rate-limit token; refused ones carry error.type.', options.waitBuckets);
    this.#transitions = instrument(meter, METRIC_CIRCUIT_TRANSITIONS, () => meter.createCounter(METRIC_CIRCUIT_TRANSITIONS, { description: 'Circuit state transitions per client.', unit: '{transition}', valueType: ValueType.INT }), 'add');
    this.#active = instrument(meter, METRIC_ATTEMPTS_ACTIVE, () => meter.createObservableUpDownCounter(METRIC_ATTEMPTS_ACTIVE, { description: 'Attempts in flight per client.', unit: '{attempt}', valueType: ValueType.INT }), undefined);
    this.#circuitState = instrument(meter, METRIC_CIRCUIT_STATE, () => meter.createObservableGauge(METRIC_CIRCUIT_STATE, { description: 'Circuit state per client: 0 closed, 1 half-open, 2 open.', unit: '{state}', valueType: ValueType.INT }), undefined);
    this.#concurrencyLimit = instrument(meter, METRIC_CONCURRENCY_LIMIT, () => meter.createObservableGauge(METRIC_CONCURRENCY_LIMIT, { description: 'The most attempts in flight per client (maxInFlight).', unit: '{attempt}', valueType: ValueType.INT }), undefined);
    this.#height = instrument(meter, METRIC_CLIENT_HEIGHT, () => meter.createObservableGauge(METRIC_CLIENT_HEIGHT, { description: "Each client's last reported height (block, slot, LSN).", unit: '{height}', valueType: ValueType.INT }), undefined);
    this.#limitHeadroom = instrument(meter, METRIC_LIMIT_HEADROOM, () => meter.createObservableGauge(METRIC_LIMIT_HEADROOM, { description: "Tokens left in each client's own in-memory limits, by limit name.", unit: '{token}', valueType: ValueType.DOUBLE }), undefined);
    this.#tier = instrument(meter, METRIC_CLIENT_TIER, () => meter.createObservableGauge(METRIC_CLIENT_TIER, { description: "Each client's priority tier: lower serves first.", unit: '{tier}', valueType: ValueType.INT }), undefined);
    this.#disagreements = instrument(meter, METRIC_QUORUM_DISAGREEMENTS, () => meter.createObservableCounter(METRIC_QUORUM_DISAGREEMENTS, { description: "Quorum reads each client's answer was outvoted in.", unit: '{read}', valueType: ValueType.INT }), undefined);
    this.#lag = instrument(meter, METRIC_CLIENT_LAG, () => meter.createObservableGauge(METRIC_CLIENT_LAG, { description: "How far each client trails the pool's corroborated head (negative: ahead).", unit: '{height}', valueType: ValueType.INT }), undefined);
  }

  /** Record one whole call from the pool's account of it, under the code of the error the caller got, if any. */
  onCallEnd({ method, error, durationMs, source }: CallEnd<unknown>): void {
    try {
      const attributes = this.#attributes.call(method, error, error !== undefined);
      // Only calls answered by another's journey or the cache carry a source: a few, and an object each.
      this.#callDuration.record(durationMs / 1000, source === 'upstream' ? attributes : { ...attributes, [ATTR_CALL_SOURCE]: source });
    } catch (thrown) {
      // A meter of the user's could throw: that must not turn the caller's result into a failure.
      this.#guard.warn(`otelMetrics: recording ${METRIC_CALL_DURATION}`, thrown);
    }
  }

  /** Record one ended attempt from the pool's verdict, timed by the pool (three parameters: it times attempts for us). */
  onOutcome(call: Call<unknown>, outcome: Outcome, durationMs: number): void {
    this.#attemptDuration.record(durationMs / 1000, this.#attributes.attempt(call.clientName, call.method, call.kind, outcome));
  }

  /** Listen to the pool's events and read its members at collection. */
  attach(pool: PoolObserver): void {
    // Attached already: its events would be heard, and counted, twice.
    if (this.#pools.has(pool)) return;
    if (this.#pools.size === 0) {
      try {
        this.#meter.addBatchObservableCallback(this.#observe, [this.#active, this.#circuitState, this.#concurrencyLimit, this.#height, this.#lag, this.#disagreements, this.#tier, this.#limitHeadroom]);
        this.#isObserving = true;
      } catch (error) {
        // A meter of the user's: without the gauges, calls are still counted and the pool still usable.
        this.#guard.warn(`otelMetrics: registering ${METRIC_ATTEMPTS_ACTIVE} and ${METRIC_CIRCUIT_STATE}`, error);
      }
    }
    const subscriptions = [
      pool.onStateChange((change) => this.#onStateChange(change)),
      pool.onRateLimit((event) => this.#onRateLimit(event)),
    ];
    this.#pools.set(pool, subscriptions);
  }

  /** The pool closed: stop listening to it and reading its members; with the last pool, take back the observable callback. */
  close(pool: PoolObserver): void {
    const subscriptions = this.#pools.get(pool);
    if (subscriptions === undefined) return;
    this.#pools.delete(pool);
    for (const subscription of subscriptions) subscription.dispose();
    if (this.#pools.size > 0 || !this.#isObserving) return;
    this.#isObserving = false;
    try {
      this.#meter.removeBatchObservableCallback(this.#observe, [this.#active, this.#circuitState, this.#concurrencyLimit, this.#height, this.#lag, this.#disagreements, this.#tier, this.#limitHeadroom]);
    } catch (error) {
      // As its add: a meter of the user's must not fail the pool's close().
      this.#guard.warn(`otelMetrics: unregistering ${METRIC_ATTEMPTS_ACTIVE} and ${METRIC_CIRCUIT_STATE}`, error);
    }
  }

  #onStateChange({ client, from, to }: StateChange): void {
    this.#transitions.add(1, this.#attributes.transition(client, from.kind, to.kind));
  }

  #onRateLimit(event: RateLimitEvent): void {
    this.#rateLimitWait.record(event.waitedMs / 1000, this.#attributes.rateLimit(event));
  }

  static {
    countEntries = (middleware) => (#attributes in middleware ? middleware.#attributes.entryCounts() : undefined);
  }
}
