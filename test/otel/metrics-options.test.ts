import { createNoopMeter, metrics, type Meter, type MeterProvider } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { otelMetrics, type OtelMetricsOptions } from '../../src/otel/index.js';
import { expectInvalid, thrownBy } from '../helpers/bad-input.js';
import { testMeterProvider } from './metric-reader.js';

describe('otelMetrics options', () => {
  const { provider } = testMeterProvider();

  it.each<[string, unknown, string, unknown]>([
    ['options', 'metrics', 'options', 'metrics'],
    ['misspelt option', { maxMethod: 5 }, 'options.maxMethod', 5],
    ['meter', { meter: {} }, 'meter', {}],
    ['meterProvider', { meterProvider: { getMeter: 'no' } }, 'meterProvider', { getMeter: 'no' }],
    ['fractional maxMethods', { maxMethods: 1.5 }, 'maxMethods', 1.5],
    ['negative maxMethods', { maxMethods: -1 }, 'maxMethods', -1],
    ['empty buckets', { buckets: [] }, 'buckets', []],
    ['unsorted buckets', { buckets: [1, 0.5] }, 'buckets', [1, 0.5]],
    ['infinite bucket', { buckets: [1, Infinity] }, 'buckets', [1, Infinity]],
    ['NaN wait bucket', { waitBuckets: [Number.NaN] }, 'waitBuckets', [Number.NaN]],
    ['attributes', { attributes: [] }, 'attributes', []],
    ['attribute the instruments set', { attributes: { 'clientpool.client': 'x' } }, 'attributes', 'clientpool.client'],
    ['error.type attribute', { attributes: { 'error.type': 'x' } }, 'attributes', 'error.type'],
    ['attribute value', { attributes: { 'clientpool.pool': { name: 'rpc' } } }, 'attributes.clientpool.pool', { name: 'rpc' }],
    ['NaN attribute value', { attributes: { weight: Number.NaN } }, 'attributes.weight', Number.NaN],
    ['clock (not an option: call durations are on the pool clock)', { clock: { now: () => 0 } }, 'options.clock', undefined],
  ])('refuses a bad %s with InvalidOptionError naming it and the value', (_, options, option, value) => {
    const error = thrownBy(() => otelMetrics(options as OtelMetricsOptions));
    if (value === undefined) expectInvalid(error, option);
    else expectInvalid(error, option, value);
  });

  it('refuses a meter and a meterProvider together', () => {
    expectInvalid(thrownBy(() => otelMetrics({ meter: provider.getMeter('x'), meterProvider: provider })), 'meter');
  });

  it('accepts attribute values of every kind the API takes', () => {
    expect(() => otelMetrics({ meterProvider: provider, attributes: { pool: 'rpc', shard: 3, primary: true, zones: ['a', 'b'] } })).not.toThrow();
  });

  it('checks its options even when the meter is the no-op one', () => {
    expectInvalid(thrownBy(() => otelMetrics({ meter: createNoopMeter(), maxMethods: -1 })), 'maxMethods', -1);
  });

  describe('options whose reads throw', () => {
    const trap = new Error('trap');
    const throwing = <T extends object>(target: T): T => new Proxy(target, { get: () => { throw trap; } });
    const getterThrowing = (key: string): object => Object.defineProperty({}, key, { enumerable: true, get: () => { throw trap; } });

    it.each<[string, () => unknown, string]>([
      ['a Proxy whose every read throws', () => throwing({}), 'options'],
      ['a getter that throws', () => getterThrowing('maxMethods'), 'options'],
      ['attributes as a Proxy whose reads throw', () => ({ attributes: throwing({ pool: 'rpc' }) }), 'attributes'],
      ['an attribute value getter that throws', () => ({ attributes: getterThrowing('pool') }), 'attributes'],
      ['buckets as a Proxy whose reads throw', () => ({ buckets: throwing([1, 2]) }), 'buckets'],
      ['waitBuckets as a Proxy whose reads throw', () => ({ waitBuckets: throwing([1, 2]) }), 'waitBuckets'],
      ['a meter whose reads throw', () => ({ meter: throwing({}) }), 'meter'],
      ['a meterProvider whose reads throw', () => ({ meterProvider: throwing({}) }), 'meterProvider'],
    ])('refuses %s with InvalidOptionError naming it, the throw as cause', (_, options, option) => {
      const error = thrownBy(() => otelMetrics(options() as OtelMetricsOptions));
      expectInvalid(error, option);
      expect((error as Error).cause).toBe(trap);
    });

    it('reads each option once', () => {
      let reads = 0;
      const options = Object.defineProperty({ meterProvider: provider }, 'maxMethods', { enumerable: true, get: () => ++reads });
      otelMetrics(options);
      expect(reads).toBe(1);
    });
  });

  describe('a meterProvider or meter that cannot make the instruments', () => {
    afterEach(() => metrics.disable());
    const meterProvider = (getMeter: () => unknown): MeterProvider => ({ getMeter }) as unknown as MeterProvider;

    it.each<[string, unknown]>([
      ['undefined', undefined],
      ['an object without the instrument factories', { createHistogram: () => ({}) }],
    ])('refuses a meterProvider whose getMeter() returns %s, naming meterProvider', (_, meter) => {
      expectInvalid(thrownBy(() => otelMetrics({ meterProvider: meterProvider(() => meter) })), 'meterProvider', meter);
    });

    it('refuses a meterProvider whose getMeter() throws, naming it, with the throw as cause', () => {
      const broken = new Error('no meter');
      const error = thrownBy(() => otelMetrics({ meterProvider: meterProvider(() => { throw broken; }) }));
      expectInvalid(error, 'meterProvider');
      expect((error as Error).cause).toBe(broken);
    });

    it('checks the global provider\'s meter alike, naming it', () => {
      metrics.setGlobalMeterProvider(meterProvider(() => undefined));
      expectInvalid(thrownBy(() => otelMetrics()), 'meterProvider (the global one)', undefined);
    });

    /** A real SDK meter whose factory `factory` is replaced by `make`. */
    const meterWith = (factory: keyof Meter, make: () => unknown): Meter => {
      const meter = provider.getMeter('broken');
      return new Proxy(meter, { get: (target, key) => (key === factory ? make : Reflect.get(target, key) as unknown) });
    };

    it.each<[keyof Meter]>([['createHistogram'], ['createCounter'], ['createObservableGauge'], ['createObservableUpDownCounter']])(
      'refuses a meter whose %s throws, naming meter, with the throw as cause',
      (factory) => {
        const broken = new Error('meter broken');
        const error = thrownBy(() => otelMetrics({ meter: meterWith(factory, () => { throw broken; }) }));
        expectInvalid(error, 'meter');
        expect((error as Error).cause).toBe(broken);
      },
    );

    it.each<[keyof Meter, unknown]>([
      ['createHistogram', undefined],
      ['createHistogram', {}],
      ['createCounter', { record: () => {} }],
      ['createObservableGauge', null],
    ])('refuses a meter whose %s returns %o, not an instrument, naming meter', (factory, made) => {
      expectInvalid(thrownBy(() => otelMetrics({ meter: meterWith(factory, () => made) })), 'meter', made);
    });
  });
});
