import { createNoopMeter } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
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
    ['clock', { clock: () => 0 }, 'clock', undefined],
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
});
