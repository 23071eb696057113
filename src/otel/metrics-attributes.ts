import type { Attributes } from '@opentelemetry/api';
import type { CircuitState } from '../breaker/breaker.js';
import type { AttemptKind } from '../call.js';
import type { Outcome } from '../pipeline/outcome.js';
import type { RateLimitEvent } from '../pool-events.js';
import { CodeLabels, codeOf, MAX_CODES } from '../prometheus/call-outcomes.js';
import { MethodLabels } from '../prometheus/method-labels.js';
import { MIN_SWEEP_INTERVAL } from '../prometheus/removed-clients.js';
import { ATTR_CLIENT, ATTR_ERROR_TYPE } from './attributes.js';
import { ATTR_ATTEMPT_KIND, ATTR_CIRCUIT_FROM, ATTR_CIRCUIT_TO, ATTR_METHOD, ATTR_OUTCOME, ATTR_RATE_LIMIT_SCOPE } from './metrics-names.js';

const KIND_INDEX: Readonly<Record<AttemptKind, number>> = { first: 0, retry: 1, hedge: 2, quorum: 3 };
const OUTCOME_INDEX: Readonly<Record<Outcome['kind'], number>> = { success: 0, failure: 1, answered: 2, refused: 3, cancelled: 4 };
const OUTCOMES = 5;
/**
 * How many distinct error codes are kept (past that, `ERR_UNKNOWN`): clientpool's own are a dozen, but a
 * user subclass of `ClientPoolError` could build its code from data. The Prometheus adapter's cap.
 */
export const MAX_ERROR_TYPES = MAX_CODES;

/** The clients now in the adapter's pools, read by a sweep. */
export type LiveClients = () => ReadonlySet<string>;

/** How many entries a {@link MetricAttributes} holds, per map: for tests that check memory stays bounded. */
export interface EntryCounts {
  /** Clients with attempt sets (`clientpool.attempt.duration`). */
  readonly attempts: number;
  /** Clients with a gauge set (`clientpool.attempts.active`, `clientpool.circuit.state`). */
  readonly gauges: number;
  /** Clients with circuit-transition sets. */
  readonly transitions: number;
  /** Clients with client-scope rate-limit sets, plus the pool-scope sets (a closed set per method). */
  readonly rateLimits: number;
  /** Method labels with call sets: at most `maxMethods` + 1 (`other`). */
  readonly methods: number;
}

/**
 * The attribute sets the instruments record with, each made once and reused: with no SDK, recording then
 * allocates nothing, and with one, the SDK meets the same object again. Bounded like the Prometheus
 * adapter's labels: `maxMethods` distinct methods, past that `other`; error types are clientpool error
 * codes, capped.
 *
 * Sets kept per client are a cache: the SDK keys its series by the attributes' values, not by object, so
 * forgetting a set loses no measurement. The sets of clients gone from every pool are forgotten at each
 * collection ({@link retainClients}) and, so that churn without collections stays bounded, by a sweep
 * after as many new per-client entries as there were live clients at the last sweep (at least
 * {@link MIN_SWEEP_INTERVAL}): a sweep reads every member once, so it costs amortised O(1) per entry, and
 * the per-client maps hold at most the live clients plus that allowance.
 */
export class MetricAttributes {
  readonly #methods: MethodLabels;
  readonly #constant: Readonly<Attributes>;
  readonly #attempts = new Map<string, Map<string, AttemptSets>>();
  readonly #calls = new Map<string, ErrorSets>();
  readonly #clients = new Map<string, Attributes>();
  /** By client, then `from\nto`. */
  readonly #transitions = new Map<string, Map<string, Attributes>>();
  /** Pool-scope limits' (no client), by `scope\nmethod\nrejected`. */
  readonly #rateLimits = new Map<string, Attributes>();
  /** Client-scope limits', by client, then `scope\nmethod\nrejected`. */
  readonly #clientRateLimits = new Map<string, Map<string, Attributes>>();
  readonly #errorTypes = new CodeLabels();
  /**
   * Bound once: what {@link ErrorSets} calls to turn an error into its `error.type`. The Prometheus
   * adapter's reading: only clientpool's codes (a system error's `code` might not be a closed set), read
   * without throwing (a user subclass's getter may), capped; anything else is `ERR_UNKNOWN`.
   */
  readonly #errorType = (error: unknown): string => this.#errorTypes.label(codeOf(error));

  readonly #liveClients: LiveClients;
  /** Per-client entries made since the last sweep, and how many make the next one due. */
  #made = 0;
  #sweepAfter = MIN_SWEEP_INTERVAL;

  /**
   * @param maxMethods distinct `clientpool.method` values kept; later ones are `other`.
   * @param constant attributes added to every set.
   * @param liveClients the clients now in the adapter's pools, read by a sweep between collections.
   */
  constructor(maxMethods: number, constant: Readonly<Attributes>, liveClients: LiveClients) {
    this.#methods = new MethodLabels(maxMethods);
    this.#constant = constant;
    this.#liveClients = liveClients;
  }

  /**
   * Forget the sets of clients not in `current` (at collection, or when a sweep is due), so that clients
   * that come and go do not grow this cache; a removed client still finishing an attempt gets its sets
   * made again, equal to the old ones, and forgotten at the next sweep. O(clients kept).
   */
  retainClients(current: ReadonlySet<string>): void {
    this.#made = 0;
    this.#sweepAfter = Math.max(MIN_SWEEP_INTERVAL, current.size);
    for (const name of this.#attempts.keys()) if (!current.has(name)) this.#attempts.delete(name);
    for (const name of this.#clients.keys()) if (!current.has(name)) this.#clients.delete(name);
    for (const name of this.#transitions.keys()) if (!current.has(name)) this.#transitions.delete(name);
    for (const name of this.#clientRateLimits.keys()) if (!current.has(name)) this.#clientRateLimits.delete(name);
  }

  /** `clientpool.attempt.duration`'s: client, method, attempt kind, outcome, and `error.type` unless it succeeded or was cancelled. */
  attempt(client: string, method: string, kind: AttemptKind, outcome: Outcome): Attributes {
    let byMethod = this.#attempts.get(client);
    if (byMethod === undefined) {
      this.#madeClientEntry();
      this.#attempts.set(client, (byMethod = new Map<string, AttemptSets>()));
    }
    const sets = byMethod.get(method) ?? this.#byLabel(byMethod, method, (label) => new AttemptSets({ [ATTR_CLIENT]: client, [ATTR_METHOD]: label, ...this.#constant }, this.#errorType));
    return sets.of(kind, outcome);
  }

  /** `clientpool.call.duration`'s: the method, and the code of the error the caller got (none on success). */
  call(method: string, error: unknown, isFailed: boolean): Attributes {
    const sets = this.#calls.get(method) ?? this.#byLabel(this.#calls, method, (label) => new ErrorSets({ [ATTR_METHOD]: label, ...this.#constant }, this.#errorType));
    return isFailed ? sets.failed(error) : sets.ok;
  }

  /** The gauges': the client. For collection, right after {@link retainClients}: it does not count towards a sweep. */
  client(name: string): Attributes {
    let attributes = this.#clients.get(name);
    // Not counted towards a sweep: made only at collection, right after retainClients(), for live clients.
    if (attributes === undefined) this.#clients.set(name, (attributes = Object.freeze({ [ATTR_CLIENT]: name, ...this.#constant })));
    return attributes;
  }

  /** `clientpool.circuit.transitions`': the client and both states. */
  transition(client: string, from: CircuitState['kind'], to: CircuitState['kind']): Attributes {
    let byStates = this.#transitions.get(client);
    if (byStates === undefined) {
      this.#madeClientEntry();
      this.#transitions.set(client, (byStates = new Map<string, Attributes>()));
    }
    const key = `${from}\n${to}`;
    let attributes = byStates.get(key);
    if (attributes === undefined) {
      byStates.set(key, (attributes = Object.freeze({ [ATTR_CLIENT]: client, [ATTR_CIRCUIT_FROM]: from, [ATTR_CIRCUIT_TO]: to, ...this.#constant })));
    }
    return attributes;
  }

  /** `clientpool.rate_limit.wait`'s: scope, method, the client of a client-scope limit, and `error.type` when refused. */
  rateLimit({ scope, client, method, rejected }: RateLimitEvent): Attributes {
    const label = this.#methods.label(method);
    const key = `${scope}\n${label}\n${rejected ? 1 : 0}`;
    let sets = this.#rateLimits;
    if (client !== undefined) {
      let byClient = this.#clientRateLimits.get(client);
      if (byClient === undefined) {
        this.#madeClientEntry();
        this.#clientRateLimits.set(client, (byClient = new Map<string, Attributes>()));
      }
      sets = byClient;
    }
    let attributes = sets.get(key);
    if (attributes === undefined) {
      const made: Attributes = { [ATTR_RATE_LIMIT_SCOPE]: scope, [ATTR_METHOD]: label, ...this.#constant };
      if (client !== undefined) made[ATTR_CLIENT] = client;
      if (rejected) made[ATTR_ERROR_TYPE] = 'ERR_RATE_LIMITED';
      sets.set(key, (attributes = Object.freeze(made)));
    }
    return attributes;
  }

  /** How many entries each map holds. */
  entryCounts(): EntryCounts {
    return {
      attempts: this.#attempts.size,
      gauges: this.#clients.size,
      transitions: this.#transitions.size,
      rateLimits: this.#clientRateLimits.size + this.#rateLimits.size,
      methods: this.#calls.size,
    };
  }

  /**
   * A client's first entry in a per-client map is about to be made: once the allowance is used up,
   * sweep first. Called before the entry is added, so that the sweep never drops the entry being made.
   */
  #madeClientEntry(): void {
    if (++this.#made >= this.#sweepAfter) this.retainClients(this.#liveClients());
  }

  /**
   * First sight of `method` in `map`: its sets under its label. Past the cap a method is not remembered
   * under its own name, so that unbounded methods cannot grow the map; it shares the `other` sets.
   */
  #byLabel<S>(map: Map<string, S>, method: string, make: (label: string) => S): S {
    const label = this.#methods.label(method);
    let sets = map.get(label);
    if (sets === undefined) map.set(label, (sets = make(label)));
    return sets;
  }
}

/** A base set and its variants with `error.type`, one per error code. */
class ErrorSets {
  readonly ok: Attributes;
  readonly #failed = new Map<string, Attributes>();
  readonly #errorType: (error: unknown) => string;

  constructor(base: Attributes, errorType: (error: unknown) => string) {
    this.ok = Object.freeze(base);
    this.#errorType = errorType;
  }

  failed(error: unknown): Attributes {
    const type = this.#errorType(error);
    let attributes = this.#failed.get(type);
    if (attributes === undefined) this.#failed.set(type, (attributes = Object.freeze({ ...this.ok, [ATTR_ERROR_TYPE]: type })));
    return attributes;
  }
}

/** One client × method's attempt attribute sets, indexed by attempt kind × outcome. */
class AttemptSets {
  readonly #base: Attributes;
  readonly #errorType: (error: unknown) => string;
  readonly #sets: (ErrorSets | undefined)[] = [];

  constructor(base: Attributes, errorType: (error: unknown) => string) {
    this.#base = base;
    this.#errorType = errorType;
  }

  of(kind: AttemptKind, outcome: Outcome): Attributes {
    const i = KIND_INDEX[kind] * OUTCOMES + OUTCOME_INDEX[outcome.kind];
    let sets = this.#sets[i];
    if (sets === undefined) this.#sets[i] = sets = new ErrorSets({ ...this.#base, [ATTR_ATTEMPT_KIND]: kind, [ATTR_OUTCOME]: outcome.kind }, this.#errorType);
    return outcome.kind === 'success' || outcome.kind === 'cancelled' ? sets.ok : sets.failed(outcome.error);
  }
}
