/**
 * Issue 8, bad input: every public option and argument with wrong values (NaN, Infinity, negative, 0
 * where invalid, wrong type, unknown names, duplicates, unknown clients, calls after close(), non-method
 * proxy reads, bad TokenBucket / retry / hedge / healthCheck / slowStart / maxEjectedPercent / methods /
 * failureRate options). Each gives the documented typed error, naming the option and the bad value, in
 * the documented way (a synchronous API throws, an asynchronous one rejects), and the pool keeps working.
 *
 * test/validation.test.ts and the feature tests already cover some values (weight, name, close, a few
 * breaker and run options, failureRate's own table...); this table covers the rest.
 *
 * The last block holds regression tests for bugs this table found (now fixed), each with a comment on
 * what happened before the fix.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ClientPool,
  failureRate,
  hasErrorCode,
  InvalidOptionError,
  PoolClosedError,
  rateLimit,
  TokenBucket,
  traceId,
  UnknownClientError,
  type AddOptions,
  type Balancer,
  type Middleware,
  type PoolOptions,
  type RunOptions,
  type TokenBucketOptions,
  CallbackError,
} from '../../src/index.js';

interface Fake {
  readonly id: string;
  ping(): string;
  readonly label: string;
}

const fake = (id: string): Fake => ({ id, label: `client ${id}`, ping: () => `pong ${id}` });

/** The error thrown by `f`, or undefined. */
function thrownBy(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** An InvalidOptionError naming `option` and carrying `value`, with the documented code and message. */
function expectInvalid(error: unknown, option: string, value?: unknown): void {
  expect(error).toBeInstanceOf(InvalidOptionError);
  const e = error as InvalidOptionError;
  expect(e.code).toBe('ERR_INVALID_OPTION');
  expect(hasErrorCode(e, 'ERR_INVALID_OPTION')).toBe(true);
  expect(e.option).toBe(option);
  expect(e.message.startsWith(`${option} must be `)).toBe(true);
  if (arguments.length > 2) expect(e.value).toEqual(value);
}

/** A pool with one client `ok`, and a check that it still works and counted nothing for the bad input. */
function workingPool(options: PoolOptions<Fake> = {}): { pool: ClientPool<Fake>; stillWorks: () => Promise<void> } {
  const pool = new ClientPool<Fake>(options);
  pool.add(fake('ok'), { name: 'ok' });
  const stillWorks = async (): Promise<void> => {
    expect(pool.members().map((m) => [m.name, m.inFlight, m.successes, m.failures, m.cancelled, m.state.kind])).toEqual([['ok', 0, 0, 0, 0, 'closed']]);
    await expect(pool.run((client) => client.id)).resolves.toBe('ok');
    expect(pool.members()[0]).toMatchObject({ successes: 1, failures: 0, inFlight: 0 });
  };
  return { pool, stillWorks };
}

const pools: ClientPool<Fake>[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

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

describe('bad input (issue 8)', () => {
  describe('new ClientPool(options)', () => {
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

    it.each([
      ['failureRate(5)', () => failureRate(5 as never), 'breaker', 5],
      ['failureRate(null)', () => failureRate(null as never), 'breaker', null],
      ['threshold 0', () => failureRate({ threshold: 0 }), 'breaker.threshold', 0],
      ['threshold negative', () => failureRate({ threshold: -0.5 }), 'breaker.threshold', -0.5],
      ['window an array', () => failureRate({ window: [] as never }), 'breaker.window', []],
      ['window.buckets 1.5', () => failureRate({ window: { kind: 'time', ms: 1_000, buckets: 1.5 } }), 'breaker.window.buckets', 1.5],
      ['window.size Infinity', () => failureRate({ window: { kind: 'count', size: Infinity } }), 'breaker.window.size', Infinity],
      ['minimumThroughput Infinity', () => failureRate({ minimumThroughput: Infinity }), 'breaker.minimumThroughput', Infinity],
      ['slowCallDuration Infinity', () => failureRate({ slowCallDuration: Infinity }), 'breaker.slowCallDuration', Infinity],
      ['slowCallThreshold 0', () => failureRate({ slowCallDuration: 10, slowCallThreshold: 0 }), 'breaker.slowCallThreshold', 0],
      ['halfOpenProbes 1.5', () => failureRate({ halfOpenProbes: 1.5 }), 'breaker.halfOpenProbes', 1.5],
      ['maxCooldown negative', () => failureRate({ maxCooldown: -1 }), 'breaker.maxCooldown', -1],
      ['cooldownMultiplier Infinity', () => failureRate({ cooldownMultiplier: Infinity }), 'breaker.cooldownMultiplier', Infinity],
    ] as const)('failureRate(): %s throws InvalidOptionError at once, before any pool uses it', (_label, make, option, value) => {
      expectInvalid(thrownBy(make), option, value);
    });
  });

  describe('pool.add(client, options)', () => {
    const bad: [string, (pool: ClientPool<Fake>) => unknown, string, unknown][] = [
      ['options a number', (pool) => pool.add(fake('x'), 5 as unknown as AddOptions<Fake>), 'add options', 5],
      ['options null', (pool) => pool.add(fake('x'), null as unknown as AddOptions<Fake>), 'add options', null],
      ['limit a number', (pool) => pool.add(fake('x'), { limit: 5 as never }), 'limit.rate', undefined],
      ['limit rate 0', (pool) => pool.add(fake('x'), { limit: { rate: 0 } }), 'limit.rate', 0],
      ['limit burst 0', (pool) => pool.add(fake('x'), { limit: { rate: 1, burst: 0 } }), 'limit.burst', 0],
      ['duplicate name', (pool) => pool.add(fake('x'), { name: 'ok' }), 'name', 'ok'],
    ];
    it.each(bad.map(([label, act, option, value]) => [label, option, act, value] as const))('%s: InvalidOptionError naming %s, and the pool keeps working', async (_label, option, act, value) => {
      const { pool, stillWorks } = workingPool();
      pools.push(pool);
      expectInvalid(thrownBy(() => act(pool)), option, value);
      expect(pool.size).toBe(1);
      await stillWorks();
    });

    it('the same client twice: InvalidOptionError naming client, and the pool keeps working', async () => {
      const { pool, stillWorks } = workingPool();
      pools.push(pool);
      const client = fake('dup');
      pool.add(client, { name: 'dup' });
      expectInvalid(thrownBy(() => pool.add(client, { name: 'dup2' })), 'client');
      await pool.remove('dup');
      await stillWorks();
    });
  });

  describe('pool.remove(client)', () => {
    it.each([
      ['an unknown name', 'nope'],
      ['an unknown reference', fake('ok')],
      ['a number', 42],
      ['undefined', undefined],
    ] as const)('%s: rejects UnknownClientError (no throw), and the pool keeps working', async (_label, client) => {
      const { pool, stillWorks } = workingPool();
      pools.push(pool);
      let removal: Promise<void> | undefined;
      expect(() => (removal = pool.remove(client as unknown as string))).not.toThrow();
      const error = await removal!.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnknownClientError);
      expect(hasErrorCode(error, 'ERR_UNKNOWN_CLIENT')).toBe(true);
      await stillWorks();
    });

    it('removing the same client twice: the second rejects UnknownClientError', async () => {
      const { pool, stillWorks } = workingPool();
      pools.push(pool);
      pool.add(fake('x'), { name: 'x' });
      await pool.remove('x');
      await expect(pool.remove('x')).rejects.toBeInstanceOf(UnknownClientError);
      await stillWorks();
    });
  });

  describe('pool.run(fn, options)', () => {
    const foreign = { slot: 0, name: 'ok', client: fake('ok'), weight: 1, inFlight: 0, latencyMs: 0 };
    const bad: [string, RunOptions<Fake>, string, unknown][] = [
      ['timeout 0', { timeout: 0 }, 'timeout', 0],
      ['timeout Infinity', { timeout: Infinity }, 'timeout', Infinity],
      ['timeout string', { timeout: '5' as never }, 'timeout', '5'],
      ['signal an object', { signal: { aborted: false } as never }, 'signal', { aborted: false }],
      ['strategy a number', { strategy: 42 as never }, 'strategy', 42],
      ['strategy null', { strategy: null as never }, 'strategy', null],
      ['strategy an object without pick', { strategy: {} as never }, 'strategy', {}],
      ['retry true', { retry: true as never }, 'retry', true],
      ['retry.attempts 0', { retry: { attempts: 0 } }, 'retry.attempts', 0],
      ['retry.backoff.jitter unknown', { retry: { backoff: { jitter: 'some' as never } } }, 'retry.backoff.jitter', 'some'],
      ['hedge.delay negative', { hedge: { delay: -1 } }, 'hedge.delay', -1],
      ['hedge.maxHedges 0', { hedge: { delay: 1, maxHedges: 0 } }, 'hedge.maxHedges', 0],
    ];
    it.each(bad.map(([label, options, option, value]) => [label, option, options, value] as const))('%s: rejects (no throw) InvalidOptionError naming %s, counts nothing, and the pool keeps working', async (_label, option, options, value) => {
      const { pool, stillWorks } = workingPool();
      pools.push(pool);
      let call: Promise<unknown> | undefined;
      expect(() => (call = pool.run((client) => client.id, options))).not.toThrow();
      expectInvalid(await call!.catch((e: unknown) => e), option, value);
      await stillWorks();
    });

    it('a Balancer whose pick returns a foreign member: rejects (no throw) CallbackError naming the balancer, counts nothing, and the pool keeps working', async () => {
      const { pool, stillWorks } = workingPool();
      pools.push(pool);
      let call: Promise<unknown> | undefined;
      expect(() => (call = pool.run((client) => client.id, { strategy: { pick: () => foreign } as unknown as Balancer<Fake> }))).not.toThrow();
      const error = await call!.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CallbackError);
      expect((error as CallbackError).callback).toMatch(/balancer/);
      await stillWorks();
    });

    it('maxWait negative, on a call that has to wait for a token: rejects InvalidOptionError naming maxWait', async () => {
      const { pool } = workingPool({ limit: { rate: 1, burst: 1 } });
      pools.push(pool);
      await pool.run(() => 'takes the only token');
      expectInvalid(await pool.run(() => 'waits', { maxWait: -1 }).catch((e: unknown) => e), 'maxWait', -1);
      expect(pool.members()[0]).toMatchObject({ inFlight: 0, failures: 0 });
    });

    it('pauseClient with a bad duration: the call rejects InvalidOptionError naming pauseClient, and its client is not paused', async () => {
      const { pool } = workingPool();
      pools.push(pool);
      for (const ms of [-1, Number.NaN, Infinity]) {
        expectInvalid(await pool.run((_client, call) => call.pauseClient(ms)).catch((e: unknown) => e), 'pauseClient', ms);
      }
      await expect(pool.run((client) => client.id)).resolves.toBe('ok');
      expect(pool.members()[0]).toMatchObject({ inFlight: 0, state: { kind: 'closed' } });
    });
  });

  describe('pool.proxy()', () => {
    it.each([
      ['options a number', 'proxy options', 5, 5],
      ['methods a number', 'proxy options.methods', { methods: 5 }, 5],
      ['label unknown', 'label', { label: 'kebab' }, 'kebab'],
      ['label a number', 'label', { label: 5 }, 5],
    ] as const)('%s: InvalidOptionError naming %s', async (_label, option, options, value) => {
      const { pool, stillWorks } = workingPool();
      pools.push(pool);
      expectInvalid(
        thrownBy(() => pool.proxy(options as never)),
        option,
        value,
      );
      await stillWorks();
    });

    it('reading a property that is not a method throws InvalidOptionError; assigning one too; the pool keeps working', async () => {
      const { pool } = workingPool();
      pools.push(pool);
      const proxy = pool.proxy();
      expectInvalid(thrownBy(() => (proxy as unknown as Record<string, unknown>)['label']), 'proxy.label', 'client ok');
      expectInvalid(
        thrownBy(() => {
          (proxy as unknown as Record<string, unknown>)['ping'] = 1;
        }),
        'proxy.ping',
      );
      await expect(proxy.ping()).resolves.toBe('pong ok');
      expect(pool.members()[0]).toMatchObject({ successes: 1, failures: 0 });
    });

    it('a bad per-method option rejects the call with InvalidOptionError, and the pool keeps working', async () => {
      const { pool, stillWorks } = workingPool();
      pools.push(pool);
      const proxy = pool.proxy({ methods: { ping: { timeout: 0 } } });
      expectInvalid(await proxy.ping().catch((e: unknown) => e), 'timeout', 0);
      await stillWorks();
    });
  });

  describe('after close()', () => {
    it('run and proxied calls reject PoolClosedError, add throws it, remove rejects UnknownClientError, close and checkHealth resolve', async () => {
      const { pool } = workingPool();
      const proxy = pool.proxy();
      await pool.close();
      let call: Promise<unknown> | undefined;
      expect(() => (call = pool.run((client) => client.id))).not.toThrow();
      const closedError = await call!.catch((e: unknown) => e);
      expect(closedError).toBeInstanceOf(PoolClosedError);
      expect(hasErrorCode(closedError, 'ERR_POOL_CLOSED')).toBe(true);
      await expect(proxy.ping()).rejects.toBeInstanceOf(PoolClosedError);
      expect(thrownBy(() => pool.add(fake('late')))).toBeInstanceOf(PoolClosedError);
      await expect(pool.remove('ok')).rejects.toBeInstanceOf(UnknownClientError);
      await expect(pool.close()).resolves.toBeUndefined();
      await expect(pool.checkHealth()).resolves.toBeUndefined();
      expect(pool.members()).toEqual([]);
      expect(pool.isClosed).toBe(true);
    });
  });

  describe('TokenBucket', () => {
    const badOptions: [string, unknown, string, unknown][] = [
      ['options undefined', undefined, 'limit', undefined],
      ['options null', null, 'limit', null],
      ['options a number', 5, 'limit', 5],
      ['rate 0', { rate: 0 }, 'limit.rate', 0],
      ['rate Infinity', { rate: Infinity }, 'limit.rate', Infinity],
      ['rate string', { rate: '10' }, 'limit.rate', '10'],
      ['burst 0', { rate: 1, burst: 0 }, 'limit.burst', 0],
      ['burst NaN', { rate: 1, burst: Number.NaN }, 'limit.burst', Number.NaN],
      ['burst Infinity', { rate: 1, burst: Infinity }, 'limit.burst', Infinity],
      ['maxWait NaN', { rate: 1, maxWait: Number.NaN }, 'limit.maxWait', Number.NaN],
      ['maxWait Infinity', { rate: 1, maxWait: Infinity }, 'limit.maxWait', Infinity],
    ];
    it.each(badOptions.map(([label, options, option, value]) => [label, option, options, value] as const))('new TokenBucket: %s gives InvalidOptionError naming %s', (_label, option, options, value) => {
      expectInvalid(
        thrownBy(() => new TokenBucket(options as TokenBucketOptions)),
        option,
        value,
      );
    });

    it.each([
      ['NaN', Number.NaN],
      ['0', 0],
      ['negative', -1],
      ['more than burst', 3],
    ] as const)('take(%s) rejects InvalidOptionError naming tokens, and takes nothing', async (_label, n) => {
      let now = 0;
      const bucket = new TokenBucket({ rate: 10, burst: 2, clock: { now: () => now } });
      expectInvalid(await bucket.take(n).catch((e: unknown) => e), 'tokens', n);
      expect(bucket.available).toBe(2);
      await expect(bucket.take(2)).resolves.toBeUndefined();
      now += 100;
      expect(bucket.available).toBe(1);
    });

    it.each([
      ['negative', -1],
      ['NaN', Number.NaN],
      ['Infinity', Infinity],
    ] as const)('pause(%s) throws InvalidOptionError naming pause, and leaves the bucket as it was', (_label, ms) => {
      const bucket = new TokenBucket({ rate: 10, burst: 2, clock: { now: () => 0 } });
      expectInvalid(
        thrownBy(() => bucket.pause(ms)),
        'pause',
        ms,
      );
      expect(bucket.available).toBe(2);
    });

    it('after close(), take rejects PoolClosedError', async () => {
      const bucket = new TokenBucket({ rate: 10, burst: 2, clock: { now: () => 0 } });
      bucket.close();
      await expect(bucket.take(1)).rejects.toBeInstanceOf(PoolClosedError);
    });
  });

  describe('middleware factories', () => {
    it.each([
      ['rate 0', 'rateLimit.rate', { rate: 0 }, 0],
      ['burst 0', 'rateLimit.burst', { rate: 1, burst: 0 }, 0],
      ['maxWait negative', 'rateLimit.maxWait', { rate: 1, maxWait: -1 }, -1],
    ] as const)('rateLimit: %s gives InvalidOptionError naming %s', (_label, option, options, value) => {
      expectInvalid(
        thrownBy(() => rateLimit(options)),
        option,
        value,
      );
    });

    it('use() of things that are not middleware: InvalidOptionError naming middleware, and the pool keeps working', async () => {
      const { pool, stillWorks } = workingPool();
      pools.push(pool);
      for (const bad of [5, 'logging', undefined, { name: 'x', execute: 'no' }]) {
        expectInvalid(thrownBy(() => pool.use(bad as unknown as Middleware)), 'middleware', bad);
      }
      await stillWorks();
    });
  });

  // -------------------------------------------------------------------------------------------------
  // Regression tests: bugs this suite found, now fixed.

  it('a construction that fails on a bad middleware after a valid healthCheck leaves the health-check interval running', () => {
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

  it('run() with a non-function is counted as a failure of the client, instead of InvalidOptionError', async () => {
    const { pool } = workingPool({ breaker: { maxFailures: 2 } });
    pools.push(pool);
    const errors = [];
    for (let i = 0; i < 2; i++) errors.push(await pool.run(42 as never).catch((e: unknown) => e));
    // Before the fix: Actual: ClientCallError ("this[#fn] is not a function"), counted against
    // `ok`, whose circuit opens. Expected: InvalidOptionError naming fn, and nothing counted.
    expect(pool.members()[0]).toMatchObject({ failures: 0, state: { kind: 'closed' } });
    expectInvalid(errors[0], 'fn', 42);
  });

  it('a Balancer whose pick() returns undefined makes run() reject CallbackError naming the balancer', async () => {
    const { pool } = workingPool();
    pools.push(pool);
    const error = await pool.run((client) => client.id, { strategy: { pick: () => undefined } as unknown as Balancer<Fake> }).catch((e: unknown) => e);
    expect(pool.members()[0]).toMatchObject({ inFlight: 0 });
    expect(error).toBeInstanceOf(CallbackError);
    expect((error as CallbackError).callback).toMatch(/balancer/);
  });

  it('the clock option is not validated: a bad clock is accepted, and calls then reject a raw TypeError', () => {
    // Actual: accepted (so is TokenBucket's); the first call that reads it rejects "this[#clock].now is not a function".
    // Before the fix: InvalidOptionError naming clock at construction.
    expectInvalid(
      thrownBy(() => new ClientPool<Fake>({ clock: {} as never })),
      'clock',
      {},
    );
  });

  it('TokenBucket.tryTake with NaN or a negative count changes what the bucket grants', () => {
    const clock = { now: () => 0 };
    const poisoned = new TokenBucket({ rate: 1, burst: 2, clock });
    thrownBy(() => poisoned.tryTake(Number.NaN));
    let granted = 0;
    for (let i = 0; i < 10; i++) if (poisoned.tryTake(1)) granted++;
    const refilled = new TokenBucket({ rate: 1, burst: 2, clock });
    refilled.tryTake(2);
    thrownBy(() => refilled.tryTake(-5));
    let regranted = 0;
    for (let i = 0; i < 10; i++) if (refilled.tryTake(1)) regranted++;
    // Before the fix: Actual: after tryTake(NaN) every tryTake succeeds (10) and `available` is
    // NaN; after tryTake(-5) the spent bucket grants 2 more at the same instant. (take() refuses both.)
    expect({ granted, regranted, available: poisoned.available }).toEqual({ granted: 2, regranted: 0, available: 0 });
  });

  it('TokenBucket.take with a bad signal, maxWait or options throws synchronously instead of rejecting', async () => {
    const bucket = new TokenBucket({ rate: 10, burst: 2, clock: { now: () => 0 } });
    const takes: [string, () => Promise<void>, string][] = [
      ['signal', () => bucket.take(1, { signal: {} as never }), 'signal'],
      ['maxWait', () => bucket.take(1, { maxWait: -1 }), 'maxWait'],
      ['options null (a raw TypeError)', () => bucket.take(1, null as never), 'take options'],
    ];
    for (const [, take, option] of takes) {
      let result: Promise<void> | undefined;
      // Before the fix: each of these throws (the last a TypeError) instead of returning a rejection.
      expect(() => (result = take())).not.toThrow();
      expectInvalid(await result!.catch((e: unknown) => e), option);
    }
  });

  it('run() with a negative maxWait is accepted unless the call has to wait', async () => {
    const { pool } = workingPool();
    pools.push(pool);
    // Before the fix: actual resolves 'ok' (maxWait is only read when a call waits for a token);
    // timeout, retry and hedge are checked on every call.
    expectInvalid(await pool.run((client) => client.id, { maxWait: -1 }).catch((e: unknown) => e), 'maxWait', -1);
  });

  it('rateLimit(null) throws a raw TypeError, and rateLimit({ limiter: 5 }) is accepted', () => {
    // Before the fix: actual TypeError "Cannot use 'in' operator to search for 'limiter' in null".
    expectInvalid(
      thrownBy(() => rateLimit(null as never)),
      'rateLimit',
      null,
    );
    expectInvalid(
      thrownBy(() => rateLimit({ limiter: 5 as never })),
      'rateLimit.limiter',
      5,
    );
  });

  it('traceId({ generate: 5 }) is accepted, and every call then fails as a failure of its client', async () => {
    const { pool } = workingPool({ breaker: { maxFailures: 1 } });
    pools.push(pool);
    const error = thrownBy(() => pool.use(traceId({ generate: 5 as never })));
    // Actual: no error; the next call rejects ClientCallError "generate is not a function" and opens `ok`'s circuit.
    // Before the fix: InvalidOptionError naming generate when the middleware is made.
    expectInvalid(error, 'traceId.generate', 5);
  });

  it('use() after close() is accepted: the middleware is attached to the closed pool and never closed', async () => {
    const { pool } = workingPool();
    let attached = 0;
    let closed = 0;
    await pool.close();
    const error = thrownBy(() =>
      pool.use({
        name: 'late',
        execute: (call, next) => next(call),
        attach: () => {
          attached++;
        },
        close: () => {
          closed++;
        },
      }),
    );
    expect(closed).toBe(0);
    // Before the fix: PoolClosedError, as add() and run() give after close(). Actual: accepted
    // and attached (a Prometheus adapter would subscribe to the closed pool's events) and never closed.
    expect(error).toBeInstanceOf(PoolClosedError);
    expect(attached).toBe(0);
  });
});
