import { metrics, ValueType, type Attributes, type BatchObservableResult, type Meter, type MeterProvider, type Observable } from '@opentelemetry/api';
import { InvalidOptionError } from '../errors.js';
import { CallbackGuard } from '../pipeline/guard.js';
// stats-source.ts loads neither prom-client nor clientpool/redis: this entry must not load prom-client.
import { sourceKey, type StatsSourceKind } from '../prometheus/stats-source.js';
import { keySet, knownKeys, optionsObject, unreadableOptions } from '../validate.js';
import { METER_NAME } from './metrics-names.js';
import { withCause } from './metrics-options.js';

// One way to observe a source of stats keyed by `key` (a Redis-shared bucket, a fleet) with observable
// instruments: each adapter (redis-bucket-metrics.ts, redis-fleet-metrics.ts) only declares its
// instruments and what they observe.

const OPTION_KEYS = keySet(['meter', 'meterProvider', 'attributes']);

/** One observable instrument of an observed source. */
export interface StatsInstrument {
  readonly kind: 'gauge' | 'counter' | 'upDownCounter';
  readonly name: string;
  readonly description: string;
  readonly unit: string;
  /** @default ValueType.INT */
  readonly valueType?: ValueType;
  /** Attribute names the instrument sets beside the key, e.g. `clientpool.redis_bucket.source`. */
  readonly attributes?: readonly string[];
}

/** What an adapter declares: the kind of source, its key attribute, its instruments, how a collection fills them. */
export interface StatsObserverSpec<S, K extends string> {
  readonly kind: StatsSourceKind<S>;
  /** The attribute holding the source's key. */
  readonly keyAttribute: string;
  readonly instruments: Readonly<Record<K, StatsInstrument>>;
  /**
   * Made once per observer: what one collection observes from checked stats. `attributes(extra)` gives
   * the frozen attributes of an observation, `{ [keyAttribute]: key, ...constant, ...extra }`.
   */
  readonly observer: (attributes: (extra?: Attributes) => Readonly<Attributes>) => (result: BatchObservableResult, instruments: Readonly<Record<K, Observable>>, stats: S) => void;
}

/** The options every observed source takes; each adapter's public options type is this shape. */
export interface StatsObserverOptions {
  readonly meter?: Meter;
  readonly meterProvider?: MeterProvider;
  readonly attributes?: Attributes;
}

/** What an observer returns; each adapter's public result type is this shape. */
export interface StatsObserver {
  readonly key: string;
  unregister(): void;
}

/** The meter methods each instrument kind needs, in the order an error lists them. */
const CREATE_METHOD = { gauge: 'createObservableGauge', counter: 'createObservableCounter', upDownCounter: 'createObservableUpDownCounter' } as const;

/**
 * Observe `source` as `spec` declares.
 * @throws InvalidOptionError for a source without a non-empty string `key` and `stats`, a bad or unknown
 *   option, or a meter (or provider) that cannot make the instruments; what was thrown is the `cause`.
 */
export function observeStats<S, K extends string>(spec: StatsObserverSpec<S, K>, source: unknown, options: StatsObserverOptions): StatsObserver {
  const key = sourceKey(spec.kind, source);
  optionsObject('options', options);
  knownKeys('options', options, OPTION_KEYS);
  let meterOption: unknown;
  let providerOption: unknown;
  let attributesOption: unknown;
  try {
    ({ meter: meterOption, meterProvider: providerOption, attributes: attributesOption } = options);
  } catch (error) {
    throw unreadableOptions('options', options, error);
  }
  if (meterOption !== undefined && providerOption !== undefined) {
    throw new InvalidOptionError('meter', 'given without meterProvider (the meter already comes from a provider)', meterOption);
  }
  const instruments = Object.values<StatsInstrument>(spec.instruments);
  const reserved = [spec.keyAttribute, ...instruments.flatMap((instrument) => instrument.attributes ?? [])];
  const attributes = constantAttributes(attributesOption ?? {}, reserved);
  const kinds = new Set(instruments.map((instrument) => instrument.kind));
  const methods = [...(Object.keys(CREATE_METHOD) as StatsInstrument['kind'][]).filter((kind) => kinds.has(kind)).map((kind) => CREATE_METHOD[kind]), 'addBatchObservableCallback', 'removeBatchObservableCallback'];
  const meter = meterOption === undefined ? providedMeter(providerOption, methods) : meterShape('meter', meterOption, methods);
  return new KeyedObserver(spec, source as { readonly stats: unknown }, key, meter, attributes);
}

class KeyedObserver<S, K extends string> implements StatsObserver {
  readonly key: string;
  readonly #spec: StatsObserverSpec<S, K>;
  readonly #source: { readonly stats: unknown };
  readonly #meter: Meter;
  readonly #guard = new CallbackGuard();
  readonly #instruments: Observable[];
  #isObserving = false;
  readonly #observe: (result: BatchObservableResult) => void;

  constructor(spec: StatsObserverSpec<S, K>, source: { readonly stats: unknown }, key: string, meter: Meter, constant: Readonly<Attributes>) {
    this.#spec = spec;
    this.#source = source;
    this.key = key;
    this.#meter = meter;
    const made = {} as Record<K, Observable>;
    for (const [field, { kind, name, description, unit, valueType = ValueType.INT }] of Object.entries(spec.instruments) as [K, StatsInstrument][]) {
      made[field] = make(meter, name, () => meter[CREATE_METHOD[kind]](name, { description, unit, valueType }));
    }
    this.#instruments = Object.values(made);
    const observe = spec.observer((extra = {}) => Object.freeze({ [spec.keyAttribute]: key, ...constant, ...extra }));
    // One batch callback: `stats` is read once per collection, so a collection observes a source whole or not at all.
    this.#observe = (result) => {
      const stats = this.#stats();
      if (stats !== undefined) observe(result, made, stats);
    };
    try {
      meter.addBatchObservableCallback(this.#observe, this.#instruments);
    } catch (error) {
      throw withCause(new InvalidOptionError('meter', 'a Meter that takes a batch observable callback (it threw)', meter), error);
    }
    this.#isObserving = true;
  }

  unregister(): void {
    if (!this.#isObserving) return;
    this.#isObserving = false;
    try {
      this.#meter.removeBatchObservableCallback(this.#observe, this.#instruments);
    } catch (error) {
      this.#guard.warn(`${this.#spec.kind.caller}: unregistering the observers of the ${this.#spec.kind.noun} ${JSON.stringify(this.key)}`, error);
    }
  }

  /** The source's stats, checked; undefined for one with nothing to show, or stats that cannot be read (reported once). */
  #stats(): S | undefined {
    const { kind } = this.#spec;
    try {
      return kind.check(this.#source.stats);
    } catch (error) {
      this.#guard.warn(`the stats of the ${kind.noun} ${JSON.stringify(this.key)} (${kind.caller})`, error, `The ${kind.option} was left out of the collection.`);
      return undefined;
    }
  }
}

/** One instrument; a meter whose factory throws or returns nothing fails the call at once, naming `meter`. */
function make(meter: Meter, name: string, create: () => Observable): Observable {
  let made: unknown;
  try {
    made = create();
  } catch (error) {
    throw withCause(new InvalidOptionError('meter', `a Meter that makes the instrument ${name} (it threw)`, meter), error);
  }
  if (typeof made !== 'object' || made === null) throw new InvalidOptionError('meter', `a Meter that makes the instrument ${name}`, made);
  return made as Observable;
}

/** The `clientpool` meter of `provider` (the global one when not given), checked. */
function providedMeter(provider: unknown, methods: readonly string[]): Meter {
  const option = provider === undefined ? 'meterProvider (the global one)' : 'meterProvider';
  let meter: unknown;
  try {
    const from = provider === undefined ? metrics.getMeterProvider() : (provider as MeterProvider);
    if (typeof from !== 'object' || from === null || typeof from.getMeter !== 'function') throw new InvalidOptionError(option, 'an OpenTelemetry MeterProvider', provider);
    meter = from.getMeter(METER_NAME);
  } catch (error) {
    if (error instanceof InvalidOptionError) throw error;
    throw withCause(new InvalidOptionError(option, 'a MeterProvider whose getMeter() returns a Meter (it threw)', provider), error);
  }
  return meterShape(option, meter, methods);
}

/** `value` as a meter with every method in `methods`. */
function meterShape(option: string, value: unknown, methods: readonly string[]): Meter {
  let isShaped: boolean;
  try {
    isShaped = typeof value === 'object' && value !== null && methods.every((method) => typeof (value as Record<string, unknown>)[method] === 'function');
  } catch (error) {
    throw withCause(new InvalidOptionError(option, 'an OpenTelemetry Meter whose methods can be read (a getter or Proxy trap threw)', value), error);
  }
  if (!isShaped) throw new InvalidOptionError(option, `an OpenTelemetry Meter (with ${methods.join(', ')})`, value);
  return value as Meter;
}

/** The `attributes` option, read once: string, number or boolean values, none of the `reserved` names. */
function constantAttributes(value: unknown, reserved: readonly string[]): Readonly<Attributes> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidOptionError('attributes', 'an object of attribute names to values', value);
  let entries: [string, unknown][];
  try {
    entries = Object.entries(value);
  } catch (error) {
    throw unreadableOptions('attributes', value, error);
  }
  const attributes: Attributes = {};
  for (const [name, attribute] of entries) {
    if (reserved.includes(name)) throw new InvalidOptionError('attributes', `free of the ${reserved.length === 1 ? 'name' : 'names'} the instruments set (${reserved.join(', ')})`, name);
    if (typeof attribute !== 'string' && typeof attribute !== 'boolean' && !(typeof attribute === 'number' && Number.isFinite(attribute))) {
      throw new InvalidOptionError(`attributes.${name}`, 'a string, finite number or boolean', attribute);
    }
    attributes[name] = attribute;
  }
  return Object.freeze(attributes);
}
