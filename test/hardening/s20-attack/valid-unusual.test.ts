import { afterEach, describe, expect, it } from 'vitest';
import type { Balancer, PoolOptions } from '../../../src/index.js';
import { describe_, inFlight, runWith, watchedPool, WATCHED, type Watch, type Watched } from './helpers.js';

// Valid but unusual values: the call runs as with nothing watching, the around hook runs exactly once, and
// onCallEnd and the trace hear it once. CallPlanner.scope()'s check must not refuse what the call accepts.

const MAX = 2 ** 31 - 1;
const firstReady: Balancer<string> = { pick: (ready) => ready[0]! };
const VALID: [string, Record<string, unknown>][] = [
  ['timeout 2^31-1', { timeout: MAX }],
  ['timeout 1', { timeout: 1 }],
  ['timeout 0.5', { timeout: 0.5 }],
  ['deadline 2^31-1', { deadline: MAX }],
  ['deadline 2^31-1 and timeout 2^31-1', { deadline: MAX, timeout: MAX }],
  ['maxWait 0', { maxWait: 0 }],
  ['maxWait 2^31-1', { maxWait: MAX }],
  ['retry false', { retry: false }],
  ['hedge false', { hedge: false }],
  ['retry false and hedge false', { retry: false, hedge: false }],
  ['retry { attempts: 1 }', { retry: { attempts: 1 } }],
  ['retry {} (defaults)', { retry: {} }],
  ['retry with backoff 0', { retry: { attempts: 2, backoff: { initial: 0, max: 0 } } }],
  ['hedge { delay: 0 }', { hedge: { delay: 0 } }],
  ['hedge { delay: 2^31-1 }', { hedge: { delay: MAX } }],
  ['hedge quantile delay', { hedge: { delay: { quantile: 0.95, min: 5, max: 500 } } }],
  ['strategy "random"', { strategy: 'random' }],
  ['strategy "least-in-flight"', { strategy: 'least-in-flight' }],
  ['strategy a Balancer object', { strategy: firstReady }],
  ['cost {} ', { cost: {} }],
  ['cost { requests: 1 }', { cost: { requests: 1 } }],
  ['cost { requests: 0 }', { cost: { requests: 0 } }],
  ['cost { tokens: 5 } with no tokens limit', { cost: { tokens: 5 } }],
  ['priority "low"', { priority: 'low' }],
  ['priority "high"', { priority: 'high' }],
  ['priority "normal"', { priority: 'normal' }],
  ['key ""', { key: '' }],
  ['key "user-1"', { key: 'user-1' }],
  ['traceId "abc"', { traceId: 'abc' }],
  ['coalesce with cache ttl 0', { coalesce: 'k', cache: { ttl: 0 } }],
  ['coalesce with cache ttl 2^31-1', { coalesce: 'k', cache: { ttl: MAX } }],
  ['a signal not aborted', { signal: new AbortController().signal }],
  ['every key undefined', { signal: undefined, method: undefined, key: undefined, traceId: undefined, coalesce: undefined, minHeight: undefined, cache: undefined, deadline: undefined, maxWait: undefined, timeout: undefined, strategy: undefined, cost: undefined, priority: undefined, retry: undefined, hedge: undefined }],
  ['everything at once', { method: 'get', key: 'k', traceId: 't', deadline: 5_000, maxWait: 10, timeout: 1_000, strategy: 'random', cost: { requests: 1 }, priority: 'high', retry: { attempts: 2 }, hedge: { delay: 100 }, signal: new AbortController().signal }],
];

const open: Watched[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((w) => w.done()));
});
function pool(watch: Watch, options?: PoolOptions<string>): Watched {
  const w = watchedPool(watch, options, ['a']);
  open.push(w);
  return w;
}

describe.each(WATCHED)('watched by %s', (watch) => {
  it.each(VALID)('%s: runs as unwatched, the hook once, every watcher once', async (_name, options) => {
    const plain = pool('nothing');
    const watched = pool(watch);
    const expected = await runWith(plain, options);
    const got = await runWith(watched, options);
    expect(expected.ok).toBe(true);
    expect(describe_(got)).toEqual(describe_(expected));
    if (watch === 'around' || watch === 'all') expect(watched.scopes).toHaveLength(1);
    if (watch === 'onCallEnd' || watch === 'all') expect(watched.ends).toHaveLength(1);
    if (watch === 'trace' || watch === 'all') expect(watched.trace.filter((e) => e.kind === 'start')).toHaveLength(1);
    expect(inFlight(watched.pool)).toBe(0);
  });
});

describe('per-method defaults (the pool\'s methods option)', () => {
  const methods: PoolOptions<string>['methods'] = {
    get: { timeout: 50, retry: false },
    hedged: { hedge: { delay: 5 } },
    retried: { retry: { attempts: 3 } },
    timed: { deadline: 1_000, timeout: 100, priority: 'high', cost: { requests: 1 }, strategy: 'random' },
  };
  const CASES: [string, Record<string, unknown>, boolean][] = [
    ['get (timeout, retry false)', { method: 'get' }, false],
    ['get with a retry of its own', { method: 'get', retry: { attempts: 2 } }, true],
    ['hedged', { method: 'hedged' }, true],
    ['hedged with hedge false', { method: 'hedged', hedge: false }, false],
    ['retried', { method: 'retried' }, true],
    ['retried with retry false', { method: 'retried', retry: false }, false],
    ['timed (its own deadline)', { method: 'timed' }, false],
    ['timed with a timeout of its own', { method: 'timed', timeout: 10 }, false],
    ['an unlisted method', { method: 'other' }, false],
  ];
  it.each(CASES)('%s: the hook runs once, isResilient as its policies say', async (_name, options, resilient) => {
    const w = pool('all', { methods });
    const got = await runWith(w, options);
    expect(got).toEqual({ ok: true, value: 'a' });
    expect(w.scopes).toHaveLength(1);
    expect(w.scopes[0]!.isResilient).toBe(resilient);
    expect(w.scopes[0]!.method).toBe(options['method']);
    expect(w.ends).toHaveLength(1);
  });

  it('a method with its own deadline and a bad timeout on the call: refused as unwatched, no hook', async () => {
    const plain = pool('nothing', { methods });
    const w = pool('all', { methods });
    const expected = await runWith(plain, { method: 'timed', timeout: -1 });
    const got = await runWith(w, { method: 'timed', timeout: -1 });
    expect(describe_(got)).toEqual(describe_(expected));
    expect(expected.ok).toBe(false);
    expect(w.scopes).toHaveLength(0);
    expect(w.ends).toHaveLength(1);
  });
});
