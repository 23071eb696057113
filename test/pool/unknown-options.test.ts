import { describe, expect, it } from 'vitest';
import { ClientPool, failureRate, InvalidOptionError, rateLimit, TokenBucket, traceId, type AddOptions } from '../../src/index.js';
import { prometheusMetrics } from '../../src/prometheus/index.js';
import { tracing } from '../../src/otel/index.js';
import { RedisTokenBucket } from '../../src/redis/index.js';

/** What `make` throws or rejects with, or undefined. */
async function refusal(make: () => unknown): Promise<unknown> {
  try {
    await make();
    return undefined;
  } catch (error) {
    return error;
  }
}

const poolWith = (options: object): ClientPool<object> => new ClientPool(options);

describe('a misspelt or misplaced option is refused, naming it and the known ones, on every options object', () => {
  const pool = new ClientPool<object>();
  pool.add({});
  const fn = (): number => 1;

  it.each([
    ['run options', () => pool.run(fn, { timout: 5 } as object), 'run options.timout', 'timeout'],
    ['run options (retries for retry)', () => pool.run(fn, { retries: 3 } as object), 'run options.retries', 'retry'],
    ['pool options', () => poolWith({ timout: 5 }), 'options.timout', 'timeout'],
    ['a methods entry', () => poolWith({ methods: { get: { timout: 5 } } }), 'methods.get.timout', 'timeout'],
    ['a methods entry (maxWait is the pool\'s)', () => poolWith({ methods: { get: { maxWait: 5 } } }), 'methods.get.maxWait', 'hedge'],
    ['add options', () => pool.add({}, { wieght: 2 } as object), 'add options.wieght', 'weight'],
    ['close options', () => new ClientPool().close({ sigal: AbortSignal.timeout(5) } as object), 'close options.sigal', 'signal'],
    ['breaker options', () => poolWith({ breaker: { maxFailure: 3 } }), 'breaker.maxFailure', 'maxFailures'],
    ['the pool limit', () => poolWith({ limit: { rate: 5, brust: 2 } }), 'limit.brust', 'burst'],
    ['a client limit', () => pool.add({}, { limit: { rate: 5, maxWait: 10 } } as AddOptions<object>), 'limit.maxWait', 'burst'],
    ['healthCheck', () => poolWith({ healthCheck: { check: () => true, intervall: 5 } }), 'healthCheck.intervall', 'interval'],
    ['retryBudget', () => poolWith({ retryBudget: { ratio: 0.1, reserv: 1 } }), 'retryBudget.reserv', 'reserve'],
    ['slowStart', () => poolWith({ slowStart: { window: 1_000, minshare: 0.5 } }), 'slowStart.minshare', 'minShare'],
    ['retry (pool)', () => poolWith({ retry: { initial: 5 } }), 'retry.initial', 'backoff'],
    ['hedge (call)', () => pool.run(fn, { hedge: { delay: 5, maxHedge: 2 } } as object), 'hedge.maxHedge', 'maxHedges'],
    ['failureRate()', () => failureRate({ treshold: 0.5 } as object), 'breaker.treshold', 'threshold'],
    ['failureRate() window', () => failureRate({ window: { kind: 'count', size: 10, ms: 5 } } as object), 'breaker.window.ms', 'size'],
    ['a TokenBucket', () => new TokenBucket({ rate: 5, brust: 2 } as never), 'limit.brust', 'burst'],
    ['rateLimit() with a limiter', () => rateLimit({ limiter: new TokenBucket({ rate: 5 }), maxwait: 5 } as never), 'rateLimit.maxwait', 'maxWait'],
    ['traceId()', () => traceId({ generator: () => 'x' } as object), 'traceId options.generator', 'generate'],
    ['prometheusMetrics()', () => prometheusMetrics({ maxMethod: 5 } as object), 'options.maxMethod', 'maxMethods'],
    ['tracing()', () => tracing({ spanname: () => 'x' } as object), 'options.spanname', 'spanName'],
    ['a RedisTokenBucket', () => new RedisTokenBucket({ redis: {} as never, key: 'k', rate: 5, leasettl: 5 } as never), 'options.leasettl', 'leaseTtl'],
    ['pool.proxy()', () => pool.proxy({ lable: 'snake' } as object), 'proxy options.lable', 'label'],
  ])('%s', async (_what, make, option, known) => {
    const error = await refusal(make);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe(option);
    expect((error as Error).message).toContain(known);
  });

  it('every known key is accepted, and an inherited key counts as the option it would be read as', async () => {
    const options = { method: 'get', strategy: 'round-robin', signal: new AbortController().signal, timeout: 1_000, retry: false, hedge: false, key: 'k', maxWait: 10, traceId: 't' } as const;
    await expect(pool.run(fn, options)).resolves.toBe(1);
    await expect(pool.run(fn, Object.create({ timout: 5 }) as object)).rejects.toBeInstanceOf(InvalidOptionError);
  });

  it('a refused run() leaves the pool as it was: nothing in flight, the next call served', async () => {
    await pool.run(fn, { timout: 5 } as object).catch(() => undefined);
    expect(pool.members().every((m) => m.inFlight === 0)).toBe(true);
    await expect(pool.run(fn, { timeout: 5 })).resolves.toBe(1);
  });
});
