import { Registry } from 'prom-client';
import { expect, it, vi } from 'vitest';
import { InvalidOptionError } from '../../src/index.js';
import { find, parseExposition, value, type Scrape } from './exposition.js';

/** A registry's scrape, parsed. */
export async function scraped(registry: Registry): Promise<Scrape> {
  return parseExposition(await registry.metrics());
}

/** A source of the shape the metrics read, with stats the test sets; counts how often they are read. */
export interface FakeSource<S> {
  readonly key: string;
  current: S;
  readonly reads: number;
  readonly stats: S;
}

/** A kind of source exported by key (a Redis bucket, a fleet), as the cases below exercise it. */
export interface ExportedKind<S> {
  /** `bucket` or `fleet`: what errors name, and the tests say. */
  readonly option: string;
  readonly metrics: (source: { readonly key: string; readonly stats: S }, options?: { readonly registry?: Registry; readonly prefix?: string }) => { readonly registry: unknown; readonly key: string; unregister(): void };
  readonly fake: (key: string, stats?: Partial<S>) => FakeSource<S>;
  /** Stats with every counter above 0. */
  readonly stats: S;
  /** Every family, under the default prefix. */
  readonly families: readonly string[];
  /** One counter: its field in the stats and its family after the prefix. */
  readonly counter: { readonly field: keyof S & string; readonly family: string };
  /** The mode family, under the default prefix. */
  readonly mode: string;
  /** Stats that are not what the kind's stats hold, beside those every kind refuses. */
  readonly malformed: readonly (readonly [string, unknown])[];
  /** Refused arguments `[what, source, options, option named]`, beside those every kind refuses. */
  readonly refused: readonly (readonly [string, unknown, unknown, string])[];
}

/** The families that have a series of source `key` in a scrape. */
function familiesOf(families: readonly string[], scrape: Scrape, key: string): string[] {
  return families.filter((name) => find(scrape, name, { key }).length > 0);
}

/**
 * What every source exported by key does, one `it` each, to call inside the kind's `describe`: read once
 * per scrape, whole or not at all, several by key, refused twice, a throwing getter left out and reported.
 */
export function exportedByKeyCases<S>(kind: ExportedKind<S>): void {
  const { option, metrics, fake, stats } = kind;
  const counter = kind.counter.field;
  const counterFamily = `middleware_${kind.counter.family}`;
  const source = (key: string, getStats: () => S): { readonly key: string; readonly stats: S } => ({
    key,
    get stats(): S {
      return getStats();
    },
  });

  it('reads the stats only when scraped, once per scrape whatever the number of families', async () => {
    const registry = new Registry();
    const exported = fake('k');
    metrics(exported, { registry });
    expect(exported.reads).toBe(0);
    await registry.metrics();
    expect(exported.reads).toBe(1);
    exported.current = { ...exported.current, [counter]: 9 };
    expect(value(await scraped(registry), counterFamily, { key: 'k' })).toBe(9);
    expect(exported.reads).toBe(2);
  });

  it(`puts several ${option}s in the same families, by key, and unregister() takes one ${option} off, then the families`, async () => {
    const registry = new Registry();
    const a = metrics(fake('a'), { registry });
    const b = metrics(fake('b', { [counter]: 1 } as Partial<S>), { registry });
    let scrape = await scraped(registry);
    expect(find(scrape, counterFamily).map((s) => [s.labels['key'], s.value])).toEqual([['a', stats[counter]], ['b', 1]]);
    a.unregister();
    scrape = await scraped(registry);
    expect(find(scrape, counterFamily).map((s) => s.labels['key'])).toEqual(['b']);
    b.unregister();
    b.unregister();
    expect(registry.getMetricsAsArray()).toEqual([]);
  });

  it(`refuses the same ${option} twice on one registry and prefix, leaving the first export as it was`, async () => {
    const registry = new Registry();
    const exported = fake('k');
    metrics(exported, { registry });
    expect(() => metrics(exported, { registry })).toThrow(InvalidOptionError);
    expect(() => metrics(exported, { registry })).toThrow(expect.objectContaining({ option }) as Error);
    expect(value(await scraped(registry), counterFamily, { key: 'k' })).toBe(stats[counter]);
    // Another prefix is another set of families: allowed.
    metrics(exported, { registry, prefix: 'rpc' });
    expect(value(await scraped(registry), `rpc_${kind.counter.family}`, { key: 'k' })).toBe(stats[counter]);
  });

  it(`leaves a ${option} whose stats getter throws out of the scrape, warns once, and keeps the other ${option}s`, async () => {
    const warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const registry = new Registry();
    metrics(source('broken', () => { throw new Error('boom'); }), { registry });
    metrics(fake('fine'), { registry });
    for (let i = 0; i < 2; i++) {
      const scrape = await scraped(registry);
      expect(new Set(scrape.samples.map((s) => s.labels['key']))).toEqual(new Set(['fine']));
    }
    expect(warnings).toHaveBeenCalledTimes(1);
    expect(String(warnings.mock.calls[0]![0])).toContain('boom');
    expect(warnings.mock.calls[0]![1]).toMatchObject({ code: 'CLIENTPOOL_CALLBACK_ERROR' });
  });

  it(`leaves the whole ${option} out of a scrape whose one stats read failed, even if a later read would work`, async () => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const registry = new Registry();
    let reads = 0;
    metrics(source('flaky', () => {
      reads++;
      // A Redis client mid-reconnect: the first read throws, later ones work.
      if (reads === 1) throw new Error('stats unavailable');
      return stats;
    }), { registry });
    expect(familiesOf(kind.families, await scraped(registry), 'flaky')).toEqual([]);
    expect(reads).toBe(1);
    // The next scrape reads again, and shows the source whole.
    expect(familiesOf(kind.families, await scraped(registry), 'flaky')).toEqual(kind.families);
    expect(reads).toBe(2);
  });

  it.each<readonly [string, unknown]>([
    ['not an object', 42],
    ['an unknown mode', { ...stats, mode: 'sideways' }],
    ['a count that is not a number', { ...stats, [counter]: '7' }],
    ['a negative count', { ...stats, failures: -1 }],
    ...kind.malformed,
  ])(`leaves a ${option} out of the scrape when its stats are %s`, async (_, malformed) => {
    vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const registry = new Registry();
    metrics({ key: 'odd', stats: malformed as S }, { registry });
    expect((await scraped(registry)).samples).toEqual([]);
  });

  it('makes its own registry when given none, never the global one', async () => {
    const exported = metrics(fake('k'));
    expect(value(await scraped(exported.registry as Registry), kind.mode, { key: 'k' })).toBe(0);
    expect(exported.key).toBe('k');
  });

  it.each<readonly [string, unknown, unknown, string]>([
    ['no object', undefined, {}, option],
    [`a ${option} without key`, { stats }, {}, option],
    [`a ${option} with an empty key`, { key: '', stats }, {}, option],
    [`a ${option} without stats`, { key: 'k' }, {}, option],
    [`a ${option} whose key getter throws`, { get key(): string { throw new Error('no'); }, stats }, {}, option],
    ['an unknown option', { key: 'k', stats }, { maxMethods: 3 }, 'options.maxMethods'],
    ['a bad prefix', { key: 'k', stats }, { prefix: '1x' }, 'prefix'],
    ['a constant label named key', { key: 'k', stats }, { labels: { key: 'x' } }, 'labels'],
    ['a registry that is not one', { key: 'k', stats }, { registry: {} }, 'registry'],
    ...kind.refused,
  ])('refuses %s with InvalidOptionError naming it', (_, refused, options, named) => {
    const make = (): unknown => metrics(refused as never, options as never);
    expect(make).toThrow(InvalidOptionError);
    expect(make).toThrow(expect.objectContaining({ option: named }) as Error);
  });
}
