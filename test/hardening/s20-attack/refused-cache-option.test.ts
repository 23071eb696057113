import { describe, expect, it } from 'vitest';
import { ClientPool, InvalidOptionError } from '../../../src/index.js';
import { describe_, inFlight, runWith, settle, watchedPool, WATCHED, type Watched } from './helpers.js';

// The `cache` run option is checked in #run (cacheOption, src/pipeline/call-cache.ts), after the around
// hooks: CallPlanner.scope() checks plan, retry and hedge only, so a bad `cache` reaches the hooks.

function pool(around: (scope: unknown, next: () => Promise<unknown>) => Promise<unknown>): ClientPool<string> {
  const p = new ClientPool<string>();
  p.use({ name: 'around', around });
  p.add('a', { name: 'a' });
  return p;
}

describe('a bad cache option never reaches an around hook', () => {
  it('cache { ttl: -1 }: no around hook runs, and the caller gets the InvalidOptionError', async () => {
    const seen: unknown[] = [];
    const p = pool((scope, next) => {
      seen.push(scope);
      return next();
    });
    const got = await settle(p.run((c) => c, { coalesce: 'k', cache: { ttl: -1 } }));
    expect(got.value).toBeInstanceOf(InvalidOptionError);
    expect(seen).toEqual([]);
    await p.close();
  });

  it('cache { ttl: -1 } with a caching hook that answers without next(): still rejected with InvalidOptionError', async () => {
    const p = pool(() => Promise.resolve('from the hook cache'));
    const got = await settle(p.run((c) => c, { coalesce: 'k', cache: { ttl: -1 } }));
    expect(got.ok).toBe(false);
    expect(got.value).toBeInstanceOf(InvalidOptionError);
    await p.close();
  });

  it('cache { ttl: 10, staleIfError: 100 } with no onStale and a throwing hook: InvalidOptionError, not CallbackError', async () => {
    const p = pool(() => {
      throw new Error('hook broke');
    });
    const got = await settle(p.run((c) => c, { coalesce: 'k', cache: { ttl: 10, staleIfError: 100 } }));
    expect((got.value as { code?: string }).code).toBe('ERR_INVALID_OPTION');
    await p.close();
  });

  it('control: a valid cache option runs the hook once and the call', async () => {
    let hooks = 0;
    const p = pool((_scope, next) => {
      hooks++;
      return next();
    });
    expect(await p.run((c) => c, { coalesce: 'k', cache: { ttl: 1_000 } })).toBe('a');
    expect(hooks).toBe(1);
    await p.close();
  });
});

describe('a refused cache option leaves the pool as without hooks', () => {
  it('a bad cache with a valid quantile hedge does not turn on latency timing with a hook, as it does not without', async () => {
    const timed: boolean[] = [];
    for (const withHook of [false, true]) {
      const clock = { t: 0 };
      const p = new ClientPool<string>({ clock: { now: () => clock.t } });
      if (withHook) p.use({ name: 'around', around: (_s, next) => next() });
      p.add('a', { name: 'a' });
      const got = await settle(p.run((c) => c, { coalesce: 'k', cache: { ttl: -1 }, hedge: { delay: { quantile: 0.5 } } }));
      expect(got.value).toBeInstanceOf(InvalidOptionError);
      await p.run((c) => { clock.t += 5; return c; });
      timed.push((p.members()[0]!.latencyMs ?? 0) > 0);
      await p.close();
    }
    expect(timed[1]).toBe(timed[0]);
  });
});

// The same bad cache values over every watcher (the differential of differential.test.ts): the caller's
// error matches, but the around hook runs (around, all).
const BIG = 2 ** 31;
const BAD_CACHE: [string, Record<string, unknown>][] = [
  ['cache null with coalesce', { coalesce: 'k', cache: null }],
  ['cache "x" with coalesce', { coalesce: 'k', cache: 'x' }],
  ['cache.ttl -1', { coalesce: 'k', cache: { ttl: -1 } }],
  ['cache.ttl NaN', { coalesce: 'k', cache: { ttl: Number.NaN } }],
  ['cache.ttl 2^31', { coalesce: 'k', cache: { ttl: BIG } }],
  ['cache.ttl missing', { coalesce: 'k', cache: {} }],
  ['cache unknown key', { coalesce: 'k', cache: { ttl: 10, tll: 5 } }],
  ['cache.staleIfError without onStale', { coalesce: 'k', cache: { ttl: 10, staleIfError: 100 } }],
  ['cache.onStale 5', { coalesce: 'k', cache: { ttl: 10, staleIfError: 100, onStale: 5 } }],
];

describe.each(WATCHED)('bad cache values watched by %s', (watch) => {
  const open: Watched[] = [];
  it.each(BAD_CACHE)('%s: the caller gets what an unwatched pool gives, no around hook runs, every watcher hears it once', async (_name, options) => {
    const plain = watchedPool('nothing');
    const watched = watchedPool(watch);
    open.push(plain, watched);
    try {
      const expected = await runWith(plain, options);
      const got = await runWith(watched, options);
      expect(expected.ok).toBe(false);
      expect(describe_(got)).toEqual(describe_(expected));
      if (watch === 'around' || watch === 'all') expect(watched.scopes).toHaveLength(0);
      if (watch === 'onCallEnd' || watch === 'all') expect(watched.ends).toHaveLength(1);
      if (watch === 'trace' || watch === 'all') expect(watched.trace.filter((e) => e.kind === 'start')).toHaveLength(1);
      expect(inFlight(watched.pool)).toBe(0);
    } finally {
      await Promise.all(open.splice(0).map((w) => w.done()));
    }
  });
});
