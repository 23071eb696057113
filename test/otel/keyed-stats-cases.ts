import type { Meter } from '@opentelemetry/api';
import type { MeterProvider } from '@opentelemetry/sdk-metrics';
import { expect, it, vi } from 'vitest';
import { InvalidOptionError } from '../../src/index.js';
import type { FakeSource } from '../prometheus/keyed-stats-cases.js';
import { collect, points, valueAt, type TestMetricReader } from './metric-reader.js';

/** A kind of source observed by key (a Redis bucket, a fleet), as the cases below exercise it. */
export interface ObservedKind<S> {
  /** `bucket` or `fleet`: what errors name, and the tests say. */
  readonly option: string;
  readonly metrics: (source: { readonly key: string; readonly stats: S }, options: { readonly meter?: Meter; readonly meterProvider?: MeterProvider; readonly attributes?: Readonly<Record<string, string>> }) => { readonly key: string; unregister(): void };
  readonly fake: (key: string, stats?: Partial<S>) => FakeSource<S>;
  /** Stats with every counter above 0. */
  readonly stats: S;
  /** Every instrument. */
  readonly instruments: readonly string[];
  /** The attribute holding the key. */
  readonly keyAttribute: string;
  /** One counter: its field in the stats and its instrument. */
  readonly counter: { readonly field: keyof S & string; readonly instrument: string };
  /** Stats that are not what the kind's stats hold. */
  readonly malformed: S;
  /** The meter method of one instrument, made to throw. */
  readonly factory: 'createObservableGauge' | 'createObservableCounter';
  /** Refused arguments `[what, source, options, option named]`, beside those every kind refuses. */
  readonly refused: readonly (readonly [string, unknown, unknown, string])[];
}

/**
 * What every source observed by key does, one `it` each, to call inside the kind's `describe` whose hooks
 * make `context()` a fresh provider and reader: read once per collection, whole or not at all, several on
 * one meter, a throwing getter left out and reported, a bad meter or option refused.
 */
export function observedByKeyCases<S>(kind: ObservedKind<S>, context: () => { readonly provider: MeterProvider; readonly reader: TestMetricReader }): void {
  const { option, metrics, fake, stats, keyAttribute } = kind;
  const counter = kind.counter.field;

  it(`reads the stats at collection only, once per collection, failure included: a ${option} whole or not at all`, async () => {
    const { provider, reader } = context();
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const observed = fake('k');
    metrics(observed, { meterProvider: provider });
    expect(observed.reads).toBe(0);
    await collect(reader);
    expect(observed.reads).toBe(1);
    let reads = 0;
    metrics({
      key: 'flaky',
      get stats(): S {
        reads++;
        // A Redis client mid-reconnect: the first read throws, later ones work.
        if (reads === 1) throw new Error('stats unavailable');
        return stats;
      },
    }, { meterProvider: provider });
    const instrumentsOfFlaky = async (): Promise<string[]> => {
      const collected = await collect(reader);
      return kind.instruments.filter((name) => points(collected, name).some((p) => p.attributes[keyAttribute] === 'flaky'));
    };
    expect(await instrumentsOfFlaky()).toEqual([]);
    expect(reads).toBe(1);
    expect(await instrumentsOfFlaky()).toEqual(kind.instruments);
    expect(reads).toBe(2);
  });

  it(`observes several ${option}s on one meter apart by key, with the constant attributes; unregister() stops reading one`, async () => {
    const { provider, reader } = context();
    const meter = provider.getMeter('app');
    const first = fake('a');
    const a = metrics(first, { meter, attributes: { 'clientpool.pool': 'p' } });
    metrics(fake('b', { [counter]: 1 } as Partial<S>), { meter, attributes: { 'clientpool.pool': 'p' } });
    let collected = await collect(reader);
    expect(valueAt(collected, kind.counter.instrument, { [keyAttribute]: 'a', 'clientpool.pool': 'p' })).toBe(stats[counter]);
    expect(valueAt(collected, kind.counter.instrument, { [keyAttribute]: 'b', 'clientpool.pool': 'p' })).toBe(1);
    a.unregister();
    a.unregister();
    first.current = { ...first.current, [counter]: 100 };
    const reads = first.reads;
    collected = await collect(reader);
    expect(first.reads).toBe(reads);
    expect(valueAt(collected, kind.counter.instrument, { [keyAttribute]: 'a', 'clientpool.pool': 'p' })).not.toBe(100);
  });

  it(`leaves out a ${option} whose stats getter throws or are malformed, warns once each, and keeps observing the others`, async () => {
    const { provider, reader } = context();
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const broken = { key: 'broken', get stats(): S { throw new Error('boom'); } };
    metrics(broken, { meterProvider: provider });
    metrics({ key: 'odd', stats: kind.malformed }, { meterProvider: provider });
    metrics(fake('fine'), { meterProvider: provider });
    for (let i = 0; i < 2; i++) {
      const collected = await collect(reader);
      expect(points(collected, kind.instruments[0]!).map((p) => p.attributes[keyAttribute])).toEqual(['fine']);
    }
    expect(warnings).toHaveBeenCalledTimes(2);
    expect(String(warnings.mock.calls[0]![0])).toContain('boom');
  });

  it('reports a meter whose removeBatchObservableCallback throws, instead of throwing from unregister()', () => {
    const { provider } = context();
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const real = provider.getMeter('app');
    const meter = Object.assign(Object.create(real) as Meter, {
      removeBatchObservableCallback: () => {
        throw new Error('refused');
      },
    });
    const observed = metrics(fake('k'), { meter });
    expect(() => observed.unregister()).not.toThrow();
    expect(warnings).toHaveBeenCalledTimes(1);
  });

  it.each<readonly [string, unknown, unknown, string]>([
    [`no ${option}`, undefined, {}, option],
    [`a ${option} without stats`, { key: 'k' }, {}, option],
    ['an unknown option', { key: 'k', stats }, { prefix: 'x' }, 'options.prefix'],
    ['both meter and meterProvider', { key: 'k', stats }, 'both', 'meter'],
    ['a meter that is not one', { key: 'k', stats }, { meter: {} }, 'meter'],
    ['a meterProvider that is not one', { key: 'k', stats }, { meterProvider: {} }, 'meterProvider'],
    ['a reserved attribute', { key: 'k', stats }, { attributes: { [keyAttribute]: 'x' } }, 'attributes'],
    ['an attribute that is an object', { key: 'k', stats }, { attributes: { a: {} } }, 'attributes.a'],
    ...kind.refused,
  ])('refuses %s with InvalidOptionError naming it', (_, refused, options, named) => {
    const { provider } = context();
    const resolved = options === 'both' ? { meter: provider.getMeter('x'), meterProvider: provider } : options;
    const make = (): unknown => metrics(refused as never, resolved as never);
    expect(make).toThrow(InvalidOptionError);
    expect(make).toThrow(expect.objectContaining({ option: named }) as Error);
  });

  it('refuses a meter whose instrument factory throws, with what it threw as the cause', () => {
    const { provider } = context();
    const real = provider.getMeter('app');
    const cause = new Error('no instruments');
    const meter = Object.assign(Object.create(real) as Meter, {
      [kind.factory]: () => {
        throw cause;
      },
    });
    expect(() => metrics(fake('k'), { meter })).toThrow(expect.objectContaining({ option: 'meter', cause }) as Error);
  });
}
