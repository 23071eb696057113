import { Registry } from 'prom-client';
import type { CircuitState } from '../breaker/breaker.js';
import type { Call } from '../call.js';
import { guardedClock, type Clock } from '../clock.js';
import type { Disposable } from '../events.js';
import type { Middleware } from '../middleware/middleware.js';
import { CallbackGuard } from '../pipeline/guard.js';
import type { CallEnd } from '../pipeline/call-end.js';
import type { Outcome } from '../pipeline/outcome.js';
import type { PoolObserver, RateLimitEvent, StateChange } from '../pool-events.js';
import { Buckets } from './buckets.js';
import { CodeLabels, codeOf, MethodCalls, ZERO_CODES, type CodeSeries } from './call-outcomes.js';
import { CallSeries, ClientSeries } from './call-series.js';
import { HistogramFamily, ScalarFamily, type Family, type Labels, type ScalarEmit, type Source } from './family.js';
import { MethodLabels, OTHER_METHOD } from './method-labels.js';
import { resolveOptions, type PrometheusMetricsOptions } from './options.js';
import { MIN_SWEEP_INTERVAL, sweep, type ClientKeyed } from './removed-clients.js';
import { registerFamilies, releaseFamilies, type AnyRegistry, type FedFamily } from './shared-families.js';

/** A pool as `attach()` receives it: a `ClientPool` also tells whether its `close()` has begun. */
type ClosablePool = PoolObserver & { readonly isClosed?: unknown };

/** A pool the adapter serves. */
interface Served {
  /** Its event subscriptions, disposed when it closes. */
  readonly subscriptions: readonly Disposable[];
  /**
   * Its members' names at the last sweep. From the first sweep that finds it closing, the names it had
   * then, kept until its `close()` reaches the middleware: its clients leave `members()` while calls in
   * flight still end on them, so they must not be taken for removed ones.
   */
  names: ReadonlySet<string>;
  isClosing: boolean;
}

/** `<prefix>_circuit_state` values. */
const CIRCUIT_STATE_VALUE: Readonly<Record<CircuitState['kind'], number>> = { closed: 0, 'half-open': 1, open: 2 };

/** The counters kept per client × method, each a field of {@link CallSeries} and a family of the same key. */
const CALL_COUNTERS = ['requests', 'errors', 'cancelled', 'retries', 'hedges'] as const;

/** A counter or gauge series kept by key outside the hot path (transitions, rate limits). */
interface Counted extends ClientKeyed {
  readonly labels: Labels;
  value: number;
}

/** A rate-limit wait histogram series, by scope and client. */
interface Waits extends ClientKeyed {
  readonly labels: Labels;
  readonly buckets: Buckets;
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
 * Calls as their callers saw them (`<prefix>_calls_total`, `<prefix>_call_duration_seconds`, by
 * `method` and `code`) come from the pool's account of each (`onCallEnd`), once per `pool.run()`
 * whatever its attempts, including calls refused before any client (`ERR_NO_CLIENTS`,
 * `ERR_ALL_CIRCUITS_OPEN`, `ERR_RATE_LIMITED`, `ERR_POOL_CLOSED`) and calls another middleware's `around`
 * failed, wherever the adapter sits; durations are on the pool's clock. A removed
 * client's series are dropped once a scrape exported them and `removedClientsRetention` passed, unless
 * `removedClients: 'keep'`. So that `rate()` and `increase()` see first counts, each client's
 * `circuit_transitions_total{from="closed",to="open"}`, each rate-limited client's
 * `rate_limited_total{scope="client"}` and each method's `calls_total` for the pool's own error codes
 * are exported at 0 before they move.
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

/** Reads an adapter's map sizes; set by the class, which alone can read them. */
let countEntries: (metrics: PrometheusMetrics) => { clients: number; transitions: number; rateLimits: number; methods: number };

/**
 * How many entries an adapter holds, per kind: for tests that check memory stays bounded under client
 * churn. Internal: not exported from `clientpool/prometheus`.
 */
export function trackedEntries(metrics: PrometheusMetrics): { clients: number; transitions: number; rateLimits: number; methods: number } {
  return countEntries(metrics);
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
  readonly #pools = new Map<PoolObserver, Served>();
  readonly #transitions = new Map<string, Counted>();
  readonly #rateLimited = new Map<string, Counted>();
  /** Low-priority calls shed, by method: as many series as methods, like `calls_total`. */
  readonly #shed = new Map<string, Counted>();
  readonly #waits = new Map<string, Waits>();
  /** Calls by raw method name (methods past the cap share the `other` entry without being keys). */
  readonly #calls = new Map<string, MethodCalls>();
  readonly #codes = new CodeLabels();
  readonly #clock: Clock;
  readonly #dropsRemoved: boolean;
  readonly #retention: number;
  /** Scrapes so far, for the removed-client sweep (a removed client is exported at one more scrape). */
  #scrapes = 0;
  /** Per-client entries made since the last sweep, and how many trigger one between scrapes. */
  #created = 0;
  #sweepAfter = MIN_SWEEP_INTERVAL;
  /** Set by `unregister()`: nothing reads the counts any more, so the hooks keep none. */
  #isRetired = false;
  /** The families this adapter feeds, and how to stop feeding each, for `unregister()`. */
  readonly #fed: { readonly family: FedFamily; readonly detach: () => void }[] = [];

  constructor(options: PrometheusMetricsOptions) {
    const resolved = resolveOptions(options);
    this.registry = resolved.registry ?? new Registry();
    this.#buckets = resolved.buckets;
    this.#waitBuckets = resolved.waitBuckets;
    this.#constant = resolved.labels;
    this.#methods = new MethodLabels(resolved.maxMethods);
    const guard = new CallbackGuard();
    this.#clock = guardedClock(resolved.clock, (what, error) => guard.warn(`the clock of the prometheus middleware: ${what}`, error));
    this.#dropsRemoved = resolved.removedClients === 'drop';
    this.#retention = resolved.removedClientsRetention;

    const p = resolved.prefix;
    const constant = Object.keys(resolved.labels);
    const call = ['client', 'method', ...constant];
    const client = ['client', ...constant];
    const limit = ['scope', 'client', ...constant];
    const calls = ['method', 'code', ...constant];
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
        concurrencyLimit: new ScalarFamily('gauge', `${p}_concurrency_limit`, 'The most attempts in flight per client (add(client, { maxInFlight })); clients without a cap have no series.', client, 'sum'),
        height: new ScalarFamily('gauge', `${p}_client_height`, 'Each client\'s last reported height (block, slot, LSN); clients with none have no series.', client, 'max'),
        tier: new ScalarFamily('gauge', `${p}_client_tier`, 'Each client\'s priority tier (add(client, { tier })): lower serves first; join it with in_flight to see which tier takes traffic.', client, 'max'),
        disagreements: new ScalarFamily('counter', `${p}_quorum_disagreements_total`, 'Quorum reads (pool.quorum()) each client\'s answer was outvoted in; clients never outvoted have no series.', client, 'sum'),
        limitHeadroom: new ScalarFamily('gauge', `${p}_limit_headroom`, 'Tokens left in each client\'s own in-memory limits, by limit name (requests, tokens, ...: add(client, { limit })); clients without one have no series.', ['client', 'limit', ...constant], 'sum'),
        lag: new ScalarFamily('gauge', `${p}_client_lag`, 'How far each client trails the pool\'s corroborated head (negative: ahead of it); no series while either is unknown.', client, 'max'),
        transitions: new ScalarFamily('counter', `${p}_circuit_transitions_total`, 'Circuit state transitions per client.', ['client', 'from', 'to', ...constant], 'sum'),
        shed: new ScalarFamily('counter', `${p}_shed_total`, 'Low-priority calls (priority: \'low\') shed with ShedError (ERR_SHED) instead of waiting, by method.', ['method', ...constant], 'sum'),
        rateLimited: new ScalarFamily('counter', `${p}_rate_limited_total`, 'Calls refused a rate-limit token (RateLimitedError).', limit, 'sum'),
        rateLimitWait: new HistogramFamily(`${p}_rate_limit_wait_seconds`, 'Time calls waited for a rate-limit token before getting one, in seconds.', limit, resolved.waitBuckets),
        calls: new ScalarFamily('counter', `${p}_calls_total`, 'Calls (pool.run()) as their callers saw them, counted once each when they settle, by the code they ended with (OK on success).', calls, 'sum'),
        callsReused: new ScalarFamily('counter', `${p}_calls_reused_total`, 'Calls answered without a journey of their own, by source: shared (joined an in-flight call with the same coalesce key), cache (a fresh cached result), stale (a stale result served on failure).', ['method', 'source', ...constant], 'sum'),
        callDuration: new HistogramFamily(`${p}_call_duration_seconds`, 'Duration of whole calls in seconds, all attempts, waits and backoffs included, on the pool\'s clock.', calls, resolved.buckets),
      },
      { ...resolved, bucketOptions: { duration: 'buckets', rateLimitWait: 'waitBuckets', callDuration: 'buckets' } },
    );

    // Registered before every other family, so the sweep runs before anything of this scrape is read.
    this.#feed(families.requests, {
      collect: (emit) => {
        this.#sweep(true);
        this.#scrapes++;
        for (const series of this.#callSeries()) emit(series.labels, series.requests);
      },
      reset: () => { for (const series of this.#callSeries()) series.requests = 0; },
    });
    for (const field of CALL_COUNTERS) if (field !== 'requests') this.#feed(families[field], this.#callCounter(field));
    this.#feed(families.duration, {
      collect: (emit) => { for (const series of this.#callSeries()) emit(series.labels, series.duration); },
      reset: () => { for (const series of this.#callSeries()) series.duration.reset(); },
    });
    this.#feed(families.inFlight, {
      collect: (emit) => { for (const pool of this.#pools.keys()) for (const member of pool.members()) emit(this.#clientLabels(member.name), member.inFlight); },
      reset: () => {},
    });
    this.#feed(families.circuitState, {
      collect: (emit) => { for (const pool of this.#pools.keys()) for (const member of pool.members()) emit(this.#clientLabels(member.name), CIRCUIT_STATE_VALUE[member.state.kind]); },
      reset: () => {},
    });
    this.#feed(families.concurrencyLimit, {
      collect: (emit) => {
        for (const pool of this.#pools.keys()) for (const member of pool.members()) if (member.maxInFlight !== undefined) emit(this.#clientLabels(member.name), member.maxInFlight);
      },
      reset: () => {},
    });
    this.#feed(families.height, {
      collect: (emit) => {
        for (const pool of this.#pools.keys()) for (const member of pool.members()) if (member.height !== undefined) emit(this.#clientLabels(member.name), member.height);
      },
      reset: () => {},
    });
    this.#feed(families.tier, {
      collect: (emit) => { for (const pool of this.#pools.keys()) for (const member of pool.members()) emit(this.#clientLabels(member.name), member.tier); },
      reset: () => {},
    });
    this.#feed(families.disagreements, {
      collect: (emit) => {
        for (const pool of this.#pools.keys()) for (const member of pool.members()) if (member.disagreements > 0) emit(this.#clientLabels(member.name), member.disagreements);
      },
      reset: () => {},
    });
    this.#feed(families.limitHeadroom, {
      collect: (emit) => {
        for (const pool of this.#pools.keys()) {
          for (const member of pool.members()) {
            const quota = member.quota;
            if (quota !== undefined) for (const limit of Object.keys(quota)) emit({ ...this.#clientLabels(member.name), limit }, quota[limit]!);
          }
        }
      },
      reset: () => {},
    });
    this.#feed(families.lag, {
      collect: (emit) => {
        for (const pool of this.#pools.keys()) for (const member of pool.members()) if (member.lag !== undefined) emit(this.#clientLabels(member.name), member.lag);
      },
      reset: () => {},
    });
    this.#feed(families.transitions, {
      collect: (emit) => {
        for (const { labels, value } of this.#transitions.values()) emit(labels, value);
        // Every client's first opening from closed moves a series already exported at 0: rate() and
        // increase() see no jump from "no series" to 1, so a flapping alert would miss it. Read here,
        // like in_flight, so it costs nothing per call and vanishes with the client.
        for (const client of this.#clientNames()) emit({ client, from: 'closed', to: 'open', ...this.#constant }, 0);
      },
      reset: () => { for (const counted of this.#transitions.values()) counted.value = 0; },
    });
    this.#feed(families.shed, {
      collect: (emit) => { for (const { labels, value } of this.#shed.values()) emit(labels, value); },
      reset: () => { for (const counted of this.#shed.values()) counted.value = 0; },
    });
    this.#feed(families.rateLimited, {
      collect: (emit) => {
        for (const { labels, value } of this.#rateLimited.values()) emit(labels, value);
        // A client with a limit of its own (it has `tokens`) has its refusals at 0 before the first, as above.
        for (const pool of this.#pools.keys()) for (const member of pool.members()) if (member.tokens !== undefined) emit({ scope: 'client', client: member.name, ...this.#constant }, 0);
      },
      reset: () => { for (const counted of this.#rateLimited.values()) counted.value = 0; },
    });
    this.#feed(families.rateLimitWait, {
      collect: (emit) => { for (const wait of this.#waits.values()) emit(wait.labels, wait.buckets); },
      reset: () => { for (const wait of this.#waits.values()) wait.buckets.reset(); },
    });
    this.#feed(families.calls, {
      collect: (emit) => {
        for (const calls of this.#calls.values()) {
          for (const series of calls.all()) emit(series.labels, series.duration.count);
          // The pool's own error codes at 0 for every method seen, for the same reason as the transitions.
          for (const code of ZERO_CODES) emit(calls.labelsOf(code), 0);
        }
      },
      // The count is the histogram's: zeroing it zeroes both, as the registry resets every family at once.
      reset: () => { for (const series of this.#codeSeries()) series.duration.reset(); },
    });
    this.#feed(families.callsReused, {
      collect: (emit) => {
        for (const calls of this.#calls.values()) for (const [source, count] of Object.entries(calls.reused)) if (count > 0) emit(calls.sourceLabels(source), count);
      },
      reset: () => {
        for (const calls of this.#calls.values()) calls.reused.shared = calls.reused.cache = calls.reused.stale = 0;
      },
    });
    this.#feed(families.callDuration, {
      collect: (emit) => { for (const series of this.#codeSeries()) emit(series.labels, series.duration); },
      reset: () => { for (const series of this.#codeSeries()) series.duration.reset(); },
    });
  }

  /**
   * Count one whole `pool.run()` by method and the code it ended with, once, however many attempts it
   * made, from the pool's account of it (a call refused before any client included), timed on the pool's
   * clock. A call is counted when it settles: one still running is in no call metric.
   */
  onCallEnd({ method, error, durationMs, source }: CallEnd<unknown>): void {
    if (this.#isRetired) return;
    const calls = this.#calls.get(method) ?? this.#addMethodCalls(method);
    (error === undefined ? calls.ok : calls.failed(codeOf(error), this.#codes)).duration.observe(durationMs / 1000);
    if (source !== 'upstream') calls.reused[source]++;
    if (error?.code === 'ERR_SHED') this.#count(this.#shed, undefined, [method], () => ({ method, ...this.#constant }));
  }

  /**
   * Count one ended attempt from the pool's verdict: `success` adds to none of the error counters,
   * `failure`, `answered` and `refused` to `errors`, `cancelled` (the caller left, a hedge won
   * elsewhere, the pool was destroyed) to `cancelled`, which says nothing about the client.
   */
  onOutcome(call: Call<unknown>, outcome: Outcome, durationMs: number): void {
    if (this.#isRetired) return;
    const client = this.#clients.get(call.clientName) ?? this.#addClient(call.clientName);
    // Counts after its removal (an attempt that was in flight) are exported at one more scrape too.
    client.goneAt = -1;
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

  /**
   * Subscribe to the pool's events and read its members at scrape time. A pool attached again is
   * ignored, and so is every pool once the adapter is unregistered.
   */
  attach(pool: PoolObserver): void {
    if (this.#isRetired || this.#pools.has(pool)) return;
    const subscriptions = [pool.onStateChange((change) => this.#onStateChange(change)), pool.onRateLimit((event) => this.#onRateLimit(event))];
    this.#pools.set(pool, { subscriptions, names: new Set(), isClosing: false });
  }

  /**
   * The pool closed: dispose its event subscriptions and stop reading its members, so the adapter keeps
   * nothing of it. Its clients' series stay while no other pool is served; once one is, they are
   * removed clients' series (`removedClients`): under `'drop'`, exported at one more scrape and kept
   * for `removedClientsRetention`, then dropped.
   */
  close(pool: PoolObserver): void {
    const served = this.#pools.get(pool);
    if (served === undefined) return;
    this.#pools.delete(pool);
    for (const subscription of served.subscriptions) subscription.dispose();
  }

  /**
   * Take this adapter's series off the registry (and each metric, once no other adapter feeds it) and
   * stop listening to its pools: for a process that retires a pool but keeps running, or hands its
   * constant labels to a new adapter. The adapter is retired for good: it forgets every count, and a pool
   * it stays in (a pool cannot drop middleware) costs it one check per attempt and call, with nothing
   * kept; `use()` on another pool attaches nothing. Register a new adapter to export again. Idempotent.
   */
  unregister(): void {
    this.#isRetired = true;
    for (const { subscriptions } of this.#pools.values()) for (const subscription of subscriptions) subscription.dispose();
    this.#pools.clear();
    for (const { detach } of this.#fed) detach();
    releaseFamilies(this.registry, this.#fed.map(({ family }) => family));
    this.#fed.length = 0;
    for (const map of this.#clientMaps()) map.clear();
    this.#calls.clear();
  }

  /** First call of a method. Past the `maxMethods` cap it is not a key: every such method shares `other`. */
  #addMethodCalls(method: string): MethodCalls {
    const label = this.#methods.label(method);
    const existing = label === OTHER_METHOD ? this.#calls.get(OTHER_METHOD) : undefined;
    if (existing !== undefined) return existing;
    const calls = new MethodCalls({ method: label, ...this.#constant }, this.#buckets);
    this.#calls.set(label, calls);
    return calls;
  }

  *#codeSeries(): Generator<CodeSeries> {
    for (const calls of this.#calls.values()) yield* calls.all();
  }

  #addClient(name: string): ClientSeries {
    const client = new ClientSeries(name);
    this.#clients.set(name, client);
    this.#madeClientEntry();
    return client;
  }

  /** A per-client entry was made: past the interval, sweep removed clients, so churn without scrapes stays bounded. */
  #madeClientEntry(): void {
    if (++this.#created >= this.#sweepAfter) this.#sweep(false);
  }

  /**
   * Drop the entries of clients no attached pool has any more (`removedClients: 'drop'`): see
   * {@link sweep}. Reads every pool's members, so between scrapes it runs only after as many new
   * entries as there are clients (at least {@link MIN_SWEEP_INTERVAL}), or sooner once after a scrape
   * that kept more than that allowance: amortised O(1) per entry.
   * A closing pool's clients leave `members()` before its middleware is closed, so from the first
   * sweep that finds it closing, the names it had then count as live until it closed; only its own:
   * the other pools' removed clients are dropped as usual, however long its `close()` takes. Names
   * it had are those listed at the last sweep plus clients first seen since that no pool lists: a
   * client another pool added and removed in that interval is kept with them (at most one interval's).
   */
  #sweep(isScrape: boolean): void {
    this.#created = 0;
    if (!this.#dropsRemoved || this.#pools.size === 0) return;
    const live = new Set<string>();
    const listed: [Served, Set<string>][] = [];
    const starting: Served[] = [];
    for (const [pool, served] of this.#pools) {
      const names = new Set<string>();
      for (const member of pool.members()) names.add(member.name);
      for (const name of names) live.add(name);
      listed.push([served, names]);
      if (!served.isClosing && (pool as ClosablePool).isClosed === true) starting.push(served);
    }
    if (starting.length > 0) {
      // Clients added since the last sweep were never listed: the pool now closing may have had them.
      const newcomers = this.#newcomers(live);
      for (const served of starting) {
        served.isClosing = true;
        served.names = new Set([...served.names, ...newcomers]);
      }
    }
    for (const [served, names] of listed) {
      if (!served.isClosing) {
        served.names = names;
        continue;
      }
      if (names.size > 0) served.names = new Set([...served.names, ...names]);
      for (const name of served.names) live.add(name);
    }
    const interval = Math.max(MIN_SWEEP_INTERVAL, live.size);
    const kept = sweep(this.#clientMaps(), { live, scrapes: this.#scrapes, isScrape, now: this.#clock.now(), retention: this.#retention, maxWaiting: interval });
    // A scrape keeps every absent client so that it shows them, even past the allowance. The next sweep
    // trims the excess; due that much sooner, kept clients plus new entries stay under allowance +
    // interval, as after any other sweep, instead of waiting a whole interval above it.
    this.#sweepAfter = isScrape ? Math.max(1, interval - Math.max(0, kept - interval)) : interval;
  }

  /** The clients with entries not yet found gone that neither `live` nor any pool at the last sweep listed. */
  #newcomers(live: ReadonlySet<string>): Set<string> {
    const listed = new Set(live);
    for (const served of this.#pools.values()) for (const name of served.names) listed.add(name);
    const newcomers = new Set<string>();
    for (const map of this.#clientMaps()) {
      for (const { client, goneAt } of map.values()) if (client !== undefined && goneAt < 0 && !listed.has(client)) newcomers.add(client);
    }
    return newcomers;
  }

  #clientMaps(): Map<string, ClientKeyed>[] {
    return [this.#clients, this.#transitions, this.#rateLimited, this.#waits];
  }

  /** The clients of every pool served: its members, and while it closes the names it had. */
  *#clientNames(): Generator<string> {
    for (const [pool, served] of this.#pools) {
      if (served.isClosing) yield* served.names;
      for (const member of pool.members()) if (!served.isClosing || !served.names.has(member.name)) yield member.name;
    }
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
    if (this.#isRetired) return;
    this.#count(this.#transitions, client, [client, from.kind, to.kind], () => ({ client, from: from.kind, to: to.kind, ...this.#constant }));
  }

  #onRateLimit({ scope, client = '', waitedMs, rejected }: RateLimitEvent): void {
    if (this.#isRetired) return;
    const labels = (): Labels => ({ scope, client, ...this.#constant });
    // The pool-wide limit's series belong to no client: never swept.
    const owner = scope === 'client' && client !== '' ? client : undefined;
    if (rejected) {
      this.#count(this.#rateLimited, owner, [scope, client], labels);
      return;
    }
    const key = JSON.stringify([scope, client]);
    let wait = this.#waits.get(key);
    if (wait === undefined) {
      this.#waits.set(key, (wait = { client: owner, goneAt: -1, goneSince: 0, labels: labels(), buckets: new Buckets(this.#waitBuckets) }));
      if (owner !== undefined) this.#madeClientEntry();
    }
    wait.goneAt = -1;
    wait.buckets.observe(waitedMs / 1000);
  }

  #count(map: Map<string, Counted>, client: string | undefined, values: readonly string[], labels: () => Labels): void {
    const key = JSON.stringify(values);
    const counted = map.get(key);
    if (counted !== undefined) {
      counted.goneAt = -1;
      counted.value++;
      return;
    }
    map.set(key, { client, goneAt: -1, goneSince: 0, labels: labels(), value: 1 });
    if (client !== undefined) this.#madeClientEntry();
  }

  static {
    countEntries = (metrics) => ({
      clients: metrics.#clients.size,
      transitions: metrics.#transitions.size,
      rateLimits: metrics.#rateLimited.size + metrics.#waits.size,
      methods: metrics.#calls.size,
    });
  }

  #feed<E>(family: Family<E>, source: Source<E>): void {
    family.sources.add(source);
    this.#fed.push({ family, detach: () => family.sources.delete(source) });
  }
}

export type { PrometheusMetrics };
