import { createNoopMeter, metrics, ValueType, type BatchObservableResult, type Counter, type Histogram, type Meter, type MeterProvider, type ObservableGauge, type ObservableUpDownCounter } from '@opentelemetry/api';
import type { CircuitState } from '../breaker/breaker.js';
import type { Call, CallScope } from '../call.js';
import { guardedClock, type Clock } from '../clock.js';
import { InvalidOptionError } from '../errors.js';
import type { Disposable } from '../events.js';
import type { Middleware } from '../middleware/middleware.js';
import { CallbackGuard } from '../pipeline/guard.js';
import type { Outcome } from '../pipeline/outcome.js';
import type { PoolObserver, RateLimitEvent, StateChange } from '../pool-events.js';
import { MetricAttributes } from './metrics-attributes.js';
import {
  METER_NAME,
  METRIC_ATTEMPT_DURATION,
  METRIC_ATTEMPTS_ACTIVE,
  METRIC_CALL_DURATION,
  METRIC_CIRCUIT_STATE,
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
 *   `clientpool.attempt.kind` first|retry|hedge, `clientpool.outcome`
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
 * Attribute sets are made once per client × method × kind × outcome and reused. With OpenTelemetry's
 * no-op meter (no SDK registered when the middleware is made, and no `meter` or `meterProvider` given)
 * it records nothing and asks the pool to time nothing: one empty call per attempt. The metrics API
 * does not forward a meter to an SDK registered later, so register the SDK before making this.
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
  if (meter === createNoopMeter()) return { name: NAME, onOutcome: recordNothing };
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

/** No `durationMs` parameter, so that the pool does not time attempts for it (it reads the hook's `length`). */
function recordNothing(): void {}

class OtelMetrics implements Middleware {
  readonly name = NAME;
  readonly #meter: Meter;
  readonly #attributes: MetricAttributes;
  readonly #clock: Clock;
  readonly #guard = new CallbackGuard();
  readonly #callDuration: Histogram;
  readonly #attemptDuration: Histogram;
  readonly #transitions: Counter;
  readonly #rateLimitWait: Histogram;
  readonly #active: ObservableUpDownCounter;
  readonly #circuitState: ObservableGauge;
  /** The pools attached and not yet closed, each with its event subscriptions. */
  readonly #pools = new Map<PoolObserver, Disposable[]>();
  /** Whether the meter took the observable callback (a user's meter may have refused it). */
  #isObserving = false;
  /** Made once, so that the very function given to the meter can be taken back. */
  readonly #observe = (result: BatchObservableResult): void => {
    const current = new Set<string>();
    for (const pool of this.#pools.keys()) {
      for (const member of pool.members()) {
        current.add(member.name);
        const attributes = this.#attributes.client(member.name);
        result.observe(this.#active, member.inFlight, attributes);
        result.observe(this.#circuitState, CIRCUIT_STATE_VALUE[member.state.kind], attributes);
      }
    }
    this.#attributes.retainClients(current);
  };

  constructor(options: ResolvedOtelMetricsOptions, meter: Meter) {
    this.#meter = meter;
    this.#attributes = new MetricAttributes(options.maxMethods, options.attributes);
    this.#clock = guardedClock(options.clock, (what, error) => this.#guard.warn(`otelMetrics: ${what}`, error));
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
  }

  /** Time the whole call; record it once it settles, under the code of the error the caller got, if any. */
  around(scope: CallScope<unknown>, next: () => Promise<unknown>): Promise<unknown> {
    const start = this.#clock.now();
    return next().then(
      (value) => {
        this.#recordCall(scope.method, start, undefined, false);
        return value;
      },
      (error: unknown) => {
        this.#recordCall(scope.method, start, error, true);
        throw error;
      },
    );
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
        this.#meter.addBatchObservableCallback(this.#observe, [this.#active, this.#circuitState]);
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
      this.#meter.removeBatchObservableCallback(this.#observe, [this.#active, this.#circuitState]);
    } catch (error) {
      // As its add: a meter of the user's must not fail the pool's close().
      this.#guard.warn(`otelMetrics: unregistering ${METRIC_ATTEMPTS_ACTIVE} and ${METRIC_CIRCUIT_STATE}`, error);
    }
  }

  /** A meter of the user's could throw: that must not turn the caller's result into a failure. */
  #recordCall(method: string, start: number, error: unknown, isFailed: boolean): void {
    try {
      this.#callDuration.record((this.#clock.now() - start) / 1000, this.#attributes.call(method, error, isFailed));
    } catch (thrown) {
      this.#guard.warn(`otelMetrics: recording ${METRIC_CALL_DURATION}`, thrown);
    }
  }

  #onStateChange({ client, from, to }: StateChange): void {
    this.#transitions.add(1, this.#attributes.transition(client, from.kind, to.kind));
  }

  #onRateLimit(event: RateLimitEvent): void {
    this.#rateLimitWait.record(event.waitedMs / 1000, this.#attributes.rateLimit(event));
  }
}
