// Pool options: every bad value gives InvalidOptionError naming the option and the value, thrown by the
// constructor, with no timer left behind. (test/validation.test.ts checks the messages of a few more.)
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, type PoolOptions } from '../../src/index.js';
import { expectInvalid, thrownBy, type Fake } from '../helpers/bad-input.js';

// [label, options, option named, bad value]
const badPoolOptions: [string, unknown, string, unknown][] = [
  ['options null', null, 'options', null],
  ['options array', [], 'options', []],
  ['timeout NaN', { timeout: Number.NaN }, 'timeout', Number.NaN],
  ['timeout Infinity', { timeout: Infinity }, 'timeout', Infinity],
  ['timeout negative', { timeout: -1 }, 'timeout', -1],
  ['maxWait negative', { maxWait: -1 }, 'maxWait', -1],
  ['maxWait NaN', { maxWait: Number.NaN }, 'maxWait', Number.NaN],
  ['maxWait Infinity', { maxWait: Infinity }, 'maxWait', Infinity],
  ['maxWait string', { maxWait: '100' }, 'maxWait', '100'],
  ['measureLatency not a boolean', { measureLatency: 1 }, 'measureLatency', 1],
  ['limit a number', { limit: 5 }, 'limit', 5],
  ['limit null', { limit: null }, 'limit', null],
  ['limit without rate', { limit: {} }, 'limit.rate', undefined],
  ['limit rate 0', { limit: { rate: 0 } }, 'limit.rate', 0],
  ['limit rate NaN', { limit: { rate: Number.NaN } }, 'limit.rate', Number.NaN],
  ['limit rate Infinity', { limit: { rate: Infinity } }, 'limit.rate', Infinity],
  ['limit burst 0.5', { limit: { rate: 1, burst: 0.5 } }, 'limit.burst', 0.5],
  ['limit burst Infinity', { limit: { rate: 1, burst: Infinity } }, 'limit.burst', Infinity],
  ['limit maxWait negative', { limit: { rate: 1, maxWait: -1 } }, 'limit.maxWait', -1],
  ['breaker null', { breaker: null }, 'breaker', null],
  ['breaker true', { breaker: true }, 'breaker', true],
  ['breaker.maxFailures string', { breaker: { maxFailures: '3' } }, 'breaker.maxFailures', '3'],
  ['breaker.maxFailures Infinity', { breaker: { maxFailures: Infinity } }, 'breaker.maxFailures', Infinity],
  ['breaker.halfOpenProbes Infinity', { breaker: { halfOpenProbes: Infinity } }, 'breaker.halfOpenProbes', Infinity],
  ['breaker.halfOpenProbes 1.5', { breaker: { halfOpenProbes: 1.5 } }, 'breaker.halfOpenProbes', 1.5],
  ['breaker.cooldownMultiplier Infinity', { breaker: { cooldownMultiplier: Infinity } }, 'breaker.cooldownMultiplier', Infinity],
  ['breaker.maxCooldown negative', { breaker: { maxCooldown: -1 } }, 'breaker.maxCooldown', -1],
  ['breaker.maxCooldown NaN', { breaker: { maxCooldown: Number.NaN } }, 'breaker.maxCooldown', Number.NaN],
  ['retry true', { retry: true }, 'retry', true],
  ['retry a number', { retry: 3 }, 'retry', 3],
  ['retry.attempts 1.5', { retry: { attempts: 1.5 } }, 'retry.attempts', 1.5],
  ['retry.attempts string', { retry: { attempts: '3' } }, 'retry.attempts', '3'],
  ['retry.attempts Infinity', { retry: { attempts: Infinity } }, 'retry.attempts', Infinity],
  ['retry.backoff a number', { retry: { backoff: 5 } }, 'retry.backoff', 5],
  ['retry.backoff.initial negative', { retry: { backoff: { initial: -1 } } }, 'retry.backoff.initial', -1],
  ['retry.backoff.initial NaN', { retry: { backoff: { initial: Number.NaN } } }, 'retry.backoff.initial', Number.NaN],
  ['retry.backoff.max below initial', { retry: { backoff: { initial: 100, max: 10 } } }, 'retry.backoff.max', 10],
  ['retry.backoff.max Infinity', { retry: { backoff: { max: Infinity } } }, 'retry.backoff.max', Infinity],
  ['retry.backoff.multiplier negative', { retry: { backoff: { multiplier: -1 } } }, 'retry.backoff.multiplier', -1],
  ['retry.backoff.multiplier NaN', { retry: { backoff: { multiplier: Number.NaN } } }, 'retry.backoff.multiplier', Number.NaN],
  ['retry.backoff.jitter a number', { retry: { backoff: { jitter: 5 } } }, 'retry.backoff.jitter', 5],
  ['retry.retryOn not a function', { retry: { retryOn: 5 } }, 'retry.retryOn', 5],
  ['retry.retryAfter not a function', { retry: { retryAfter: 'soon' } }, 'retry.retryAfter', 'soon'],
  ['retryBudget a number', { retryBudget: 5 }, 'retryBudget', 5],
  ['retryBudget true', { retryBudget: true }, 'retryBudget', true],
  ['retryBudget.ratio NaN', { retryBudget: { ratio: Number.NaN } }, 'retryBudget.ratio', Number.NaN],
  ['retryBudget.ratio Infinity', { retryBudget: { ratio: Infinity } }, 'retryBudget.ratio', Infinity],
  ['retryBudget.reserve negative', { retryBudget: { reserve: -1 } }, 'retryBudget.reserve', -1],
  ['retryBudget.reserve Infinity', { retryBudget: { reserve: Infinity } }, 'retryBudget.reserve', Infinity],
  ['hedge a number', { hedge: 5 }, 'hedge', 5],
  ['hedge true', { hedge: true }, 'hedge', true],
  ['hedge without delay', { hedge: {} }, 'hedge.delay', undefined],
  ['hedge.delay NaN', { hedge: { delay: Number.NaN } }, 'hedge.delay', Number.NaN],
  ['hedge.delay Infinity', { hedge: { delay: Infinity } }, 'hedge.delay', Infinity],
  ['hedge.delay string', { hedge: { delay: '5' } }, 'hedge.delay', '5'],
  ['hedge.delay.quantile negative', { hedge: { delay: { quantile: -0.1 } } }, 'hedge.delay.quantile', -0.1],
  ['hedge.delay.quantile NaN', { hedge: { delay: { quantile: Number.NaN } } }, 'hedge.delay.quantile', Number.NaN],
  ['hedge.delay.quantile missing', { hedge: { delay: {} } }, 'hedge.delay.quantile', undefined],
  ['hedge.delay.min negative', { hedge: { delay: { quantile: 0.9, min: -1 } } }, 'hedge.delay.min', -1],
  ['hedge.delay.max below min', { hedge: { delay: { quantile: 0.9, min: 10, max: 5 } } }, 'hedge.delay.max', 5],
  ['hedge.delay.max Infinity', { hedge: { delay: { quantile: 0.9, max: Infinity } } }, 'hedge.delay.max', Infinity],
  ['hedge.maxHedges 1.5', { hedge: { delay: 1, maxHedges: 1.5 } }, 'hedge.maxHedges', 1.5],
  ['hedge.maxHedges Infinity', { hedge: { delay: 1, maxHedges: Infinity } }, 'hedge.maxHedges', Infinity],
  ['healthCheck a number', { healthCheck: 5 }, 'healthCheck', 5],
  ['healthCheck without check', { healthCheck: {} }, 'healthCheck.check', undefined],
  ['healthCheck.interval NaN', { healthCheck: { check: () => true, interval: Number.NaN } }, 'healthCheck.interval', Number.NaN],
  ['healthCheck.interval Infinity', { healthCheck: { check: () => true, interval: Infinity } }, 'healthCheck.interval', Infinity],
  ['healthCheck.timeout 0', { healthCheck: { check: () => true, timeout: 0 } }, 'healthCheck.timeout', 0],
  ['healthCheck.timeout negative', { healthCheck: { check: () => true, timeout: -1 } }, 'healthCheck.timeout', -1],
  ['healthCheck.unhealthyThreshold 0', { healthCheck: { check: () => true, unhealthyThreshold: 0 } }, 'healthCheck.unhealthyThreshold', 0],
  ['healthCheck.healthyThreshold 1.5', { healthCheck: { check: () => true, healthyThreshold: 1.5 } }, 'healthCheck.healthyThreshold', 1.5],
  ['slowStart a number', { slowStart: 5 }, 'slowStart', 5],
  ['slowStart without window', { slowStart: {} }, 'slowStart.window', undefined],
  ['slowStart.window 0', { slowStart: { window: 0 } }, 'slowStart.window', 0],
  ['slowStart.window NaN', { slowStart: { window: Number.NaN } }, 'slowStart.window', Number.NaN],
  ['slowStart.window Infinity', { slowStart: { window: Infinity } }, 'slowStart.window', Infinity],
  ['slowStart.minShare above 1', { slowStart: { window: 1_000, minShare: 1.5 } }, 'slowStart.minShare', 1.5],
  ['slowStart.minShare negative', { slowStart: { window: 1_000, minShare: -0.1 } }, 'slowStart.minShare', -0.1],
  ['slowStart.minShare NaN', { slowStart: { window: 1_000, minShare: Number.NaN } }, 'slowStart.minShare', Number.NaN],
  ['maxEjectedPercent negative', { maxEjectedPercent: -1 }, 'maxEjectedPercent', -1],
  ['maxEjectedPercent above 100', { maxEjectedPercent: 101 }, 'maxEjectedPercent', 101],
  ['maxEjectedPercent NaN', { maxEjectedPercent: Number.NaN }, 'maxEjectedPercent', Number.NaN],
  ['maxEjectedPercent Infinity', { maxEjectedPercent: Infinity }, 'maxEjectedPercent', Infinity],
  ['maxEjectedPercent string', { maxEjectedPercent: '50' }, 'maxEjectedPercent', '50'],
  ['methods a number', { methods: 5 }, 'methods', 5],
  ['methods an array', { methods: [] }, 'methods', []],
  ['methods.m a number', { methods: { m: 5 } }, 'methods.m', 5],
  ['methods.m.timeout 0', { methods: { m: { timeout: 0 } } }, 'methods.m.timeout', 0],
  ['methods.m.timeout NaN', { methods: { m: { timeout: Number.NaN } } }, 'methods.m.timeout', Number.NaN],
  ['methods.m.strategy unknown', { methods: { m: { strategy: 'fastest' } } }, 'methods.m.strategy', 'fastest'],
  ['methods.m.retry true', { methods: { m: { retry: true } } }, 'methods.m.retry', true],
  ['methods.m.hedge.delay negative', { methods: { m: { hedge: { delay: -1 } } } }, 'methods.m.hedge.delay', -1],
  ['middleware entry a number', { middleware: [5] }, 'middleware', 5],
  ['middleware entry null', { middleware: [null] }, 'middleware', null],
  ['middleware entry with execute not a function', { middleware: [{ name: 'x', execute: 1 }] }, 'middleware', { name: 'x', execute: 1 }],
];

describe('new ClientPool(options) with bad input', () => {
  // Fake timers count every timer, unref'ed ones too (a health-check interval is unref'ed).
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each(badPoolOptions.map(([label, options, option, value]) => [label, option, options, value] as const))('%s: InvalidOptionError naming %s, and no timer left behind', (_label, option, options, value) => {
    vi.useFakeTimers();
    expectInvalid(
      thrownBy(() => new ClientPool<Fake>(options as PoolOptions<Fake>)),
      option,
      value,
    );
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a construction that fails on a bad middleware after a valid healthCheck leaves no health-check interval running', () => {
    vi.useFakeTimers();
    try {
      let checks = 0;
      const options = { healthCheck: { check: () => checks++, interval: 10 }, middleware: [5] } as unknown as PoolOptions<Fake>;
      expectInvalid(
        thrownBy(() => new ClientPool<Fake>(options)),
        'middleware',
        5,
      );
      // Before the fix: the constructor started the (unref'ed) interval before it validated
      // `middleware`, and nothing can stop it now: one timer is left, for ever.
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('a clock without now() is refused at construction: InvalidOptionError naming clock', () => {
    // Actual: accepted (so is TokenBucket's); the first call that reads it rejects "this[#clock].now is not a function".
    // Before the fix: InvalidOptionError naming clock at construction.
    expectInvalid(
      thrownBy(() => new ClientPool<Fake>({ clock: {} as never })),
      'clock',
      {},
    );
  });
});
