/**
 * `#run` resolves retry and hedge only when the call gives them (98ed2b9): the right policy applies
 * (call > method > pool) on every path (no watcher, which takes the labelled lane for method + retry;
 * around; onCallEnd; trace; coalesce), counted by attempts and hedges.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ALL_WATCHERS, run, watchName, watchedPool } from './helpers.js';

const POOL = { retryBudget: false as const, methods: { get: { retry: { attempts: 3, backoff: { initial: 0 } } }, hed: { hedge: { delay: 10 } }, both: { retry: { attempts: 2, backoff: { initial: 0 } }, hedge: { delay: 10 } } } };

const RETRIES: [string, Record<string, unknown>, number][] = [
  ['method get (retry 3)', { method: 'get' }, 3],
  ['method get, retry: undefined', { method: 'get', retry: undefined }, 3],
  ['method get, hedge: undefined', { method: 'get', hedge: undefined }, 3],
  ['method get, retry: false', { method: 'get', retry: false }, 1],
  ['method get, hedge: false (retries stay)', { method: 'get', hedge: false }, 3],
  ['method get, its own retry { attempts: 2 }', { method: 'get', retry: { attempts: 2, backoff: { initial: 0 } } }, 2],
  ['method get, retry { attempts: 1 }', { method: 'get', retry: { attempts: 1 } }, 1],
  ['method get, traceId and retry undefined (label only)', { method: 'get', traceId: 't-1', retry: undefined }, 3],
  ['method get with a timeout of its own', { method: 'get', timeout: 1_000 }, 3],
  ['method get, coalesce', { method: 'get', coalesce: 'k' }, 3],
  ['method get, coalesce, retry: false', { method: 'get', coalesce: 'k', retry: false }, 1],
  ['method other (no retry)', { method: 'other' }, 1],
  ['method other, retry { attempts: 2 }', { method: 'other', retry: { attempts: 2, backoff: { initial: 0 } } }, 2],
  ['no method', {}, 1],
  ['method both (retry 2, hedge 10), hedge: false', { method: 'both', hedge: false }, 2],
];

describe('retries: the policy the call, its method or the pool gives', () => {
  it.each(RETRIES)('%s: fn runs the right number of times under every watcher', async (_name, options, attempts) => {
    for (const w of ALL_WATCHERS) {
      const watched = watchedPool(w, POOL, ['a', 'b', 'c']);
      let n = 0;
      const got = await run(watched.pool, () => { n++; throw new Error('boom'); }, options);
      expect({ w: watchName(w), ok: got.ok, n }).toEqual({ w: watchName(w), ok: false, n: attempts });
      if (w.around) expect(watched.scopes[0]!.isResilient).toBe(attempts > 1 || options['method'] === 'both' || (options['retry'] !== undefined && options['retry'] !== false));
      await watched.done();
    }
  });
});

describe('retries: the pool\'s policy under a method that says nothing of it, or turns it off', () => {
  const WITH_POOL = { retryBudget: false as const, retry: { attempts: 2, backoff: { initial: 0 } }, methods: { get: { timeout: 1_000 }, off: { retry: false as const }, more: { retry: { attempts: 4, backoff: { initial: 0 } } } } };
  it.each([
    ['method get (timeout only): the pool\'s 2', { method: 'get' }, 2],
    ['method off (retry false): 1', { method: 'off' }, 1],
    ['method off, the call\'s retry { attempts: 3 }: 3', { method: 'off', retry: { attempts: 3, backoff: { initial: 0 } } }, 3],
    ['method more (4), retry: undefined: 4', { method: 'more', retry: undefined }, 4],
    ['method more (4), retry: false: 1', { method: 'more', retry: false }, 1],
    ['no method: the pool\'s 2', {}, 2],
    ['no options at all: the pool\'s 2', undefined, 2],
  ] as const)('%s', async (_name, options, attempts) => {
    for (const w of ALL_WATCHERS) {
      const watched = watchedPool(w, WITH_POOL, ['a', 'b', 'c', 'd']);
      let n = 0;
      const got = await run(watched.pool, () => { n++; throw new Error('boom'); }, options);
      expect({ w: watchName(w), ok: got.ok, n }).toEqual({ w: watchName(w), ok: false, n: attempts });
      await watched.done();
    }
  });
});

describe('hedges: the policy the call, its method or the pool gives', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  const HEDGES: [string, Record<string, unknown>, number][] = [
    ['method hed (hedge after 10)', { method: 'hed' }, 2],
    ['method hed, hedge: undefined', { method: 'hed', hedge: undefined }, 2],
    ['method hed, hedge: false', { method: 'hed', hedge: false }, 1],
    ['method hed, retry: false (hedge stays)', { method: 'hed', retry: false }, 2],
    ['method hed, hedge { delay: 5, maxHedges: 2 }', { method: 'hed', hedge: { delay: 5, maxHedges: 2 } }, 3],
    ['method hed, coalesce', { method: 'hed', coalesce: 'k' }, 2],
    ['method other', { method: 'other' }, 1],
    ['method other, hedge { delay: 5 }', { method: 'other', hedge: { delay: 5 } }, 2],
    ['method both, retry: false (hedge stays)', { method: 'both', retry: false }, 2],
  ];

  it.each(HEDGES)('%s: the right number of attempts start under every watcher', async (_name, options, attempts) => {
    for (const w of ALL_WATCHERS) {
      const watched = watchedPool(w, POOL, ['a', 'b', 'c']);
      let n = 0;
      const p = run(watched.pool, (c: string) => { n++; return new Promise((resolve) => setTimeout(() => resolve(c), 100)); }, options);
      await vi.advanceTimersByTimeAsync(200);
      const got = await p;
      expect({ w: watchName(w), ok: got.ok, n }).toEqual({ w: watchName(w), ok: true, n: attempts });
      await watched.done();
    }
  });
});

describe('null in a retry or hedge field is refused at every level', () => {
  it.each([
    ['pool retry { attempts: null }', { retry: { attempts: null } }],
    ['pool hedge { delay: 5, maxHedges: null }', { hedge: { delay: 5, maxHedges: null } }],
    ['method retry { backoff: null }', { methods: { get: { retry: { backoff: null } } } }],
    ['method retry { backoff: { multiplier: null } }', { methods: { get: { retry: { backoff: { multiplier: null } } } } }],
    ['method hedge { delay: { quantile: 0.9, max: null } }', { methods: { get: { hedge: { delay: { quantile: 0.9, max: null } } } } }],
    ['method retry null', { methods: { get: { retry: null } } }],
  ])('%s: new ClientPool throws InvalidOptionError', (_name, options) => {
    expect(() => watchedPool(ALL_WATCHERS[0]!, options as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
  });

  it.each([
    ['retry { backoff: { jitter: null } }', { retry: { backoff: { jitter: null } } }],
    ['retry { backoff: { max: null } }', { retry: { backoff: { max: null } } }],
    ['retry { retryOn: null }', { retry: { retryOn: null } }],
    ['hedge { delay: null }', { hedge: { delay: null } }],
    ['hedge null', { hedge: null }],
    ['cache { ttl: 5, staleIfError: null }', { coalesce: 'k', cache: { ttl: 5, staleIfError: null } }],
    ['cache { ttl: 5, onStale: null }', { coalesce: 'k', cache: { ttl: 5, onStale: null } }],
  ])('run with %s: InvalidOptionError under every watcher, no hook', async (_name, options) => {
    for (const w of ALL_WATCHERS) {
      const watched = watchedPool(w);
      let n = 0;
      const got = await run(watched.pool, (c: string) => (n++, c), { method: 'get', ...options });
      expect({ w: watchName(w), got: (got.value as { code?: string }).code, n, scopes: watched.scopes.length }).toEqual({ w: watchName(w), got: 'ERR_INVALID_OPTION', n: 0, scopes: 0 });
      await watched.done();
    }
  });
});
