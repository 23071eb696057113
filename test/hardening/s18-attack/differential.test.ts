import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, type PoolOptions, type RunOptions } from '../../../src/index.js';

// Label-only options ({ method, traceId, retry }) take PoolCore.runLabelled; adding `maxWait` equal to
// the pool default forces the general journey with the same plan. Same outcome, same counters.

type Script = (pool: ClientPool<string>, opts: (extra?: RunOptions<string>) => RunOptions<string>) => Promise<unknown[]>;

const settle = async (p: Promise<unknown>): Promise<unknown> => {
  try {
    return { ok: await p };
  } catch (error) {
    const e = error as { name?: string; code?: string; cause?: { message?: string } };
    return { err: e.name, code: e.code, cause: e.cause?.message };
  }
};

async function observe(poolOptions: PoolOptions<string>, base: RunOptions<string>, script: Script, general: boolean): Promise<unknown> {
  vi.useFakeTimers();
  let seed = 7;
  const random = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const pool = new ClientPool<string>({ random, ...poolOptions });
  for (const n of ['a', 'b', 'c']) pool.add(n, { name: n });
  const opts = (extra: RunOptions<string> = {}): RunOptions<string> => ({ ...base, ...extra, ...(general ? { maxWait: poolOptions.maxWait ?? 1_000 } : {}) });
  const results = script(pool, opts);
  let done = false;
  void results.then(() => { done = true; });
  for (let i = 0; i < 2_000 && !done; i++) await vi.advanceTimersByTimeAsync(10);
  const out = await results;
  const members = pool.members().map((m) => ({ name: m.name, state: m.state, inFlight: m.inFlight, successes: m.successes, failures: m.failures, cancelled: m.cancelled, refused: m.refused }));
  const budget = pool.retryBudget;
  await pool.close();
  vi.useRealTimers();
  return { out, members, budget };
}

const failFirst: Script = async (pool, opts) => {
  const out: unknown[] = [];
  for (let i = 0; i < 6; i++) {
    out.push(await settle(pool.run((client, call) => {
      if (call.attempt < 2) throw new Error(`boom ${client}`);
      return `${client}:${call.attempt}:${call.method}`;
    }, opts())));
  }
  return out;
};

const alwaysFail: Script = async (pool, opts) => {
  const out: unknown[] = [];
  for (let i = 0; i < 15; i++) out.push(await settle(pool.run(() => { throw new Error('down'); }, opts())));
  return out;
};

const mixed: Script = async (pool, opts) => {
  const calls = [
    pool.run((c) => c, opts()),
    pool.run(() => Promise.reject(new Error('x')), opts()),
    pool.run((c, call) => (call.attempt === 1 ? Promise.reject(new Error('y')) : c), opts({ retry: { attempts: 3, backoff: { initial: 1, jitter: 'none' } } })),
    pool.run((c) => c, opts({ retry: false })),
    pool.run(() => { throw new Error('z'); }, opts({ retry: false })),
  ];
  return Promise.all(calls.map(settle));
};

const crowd: Script = async (pool, opts) => {
  const calls = Array.from({ length: 12 }, (_, i) => pool.run(async (c, call) => {
    await new Promise((r) => setTimeout(r, 5));
    if (i % 3 === 0 && call.attempt === 1) throw new Error(`f${i}`);
    return `${c}:${call.attempt}`;
  }, opts()));
  return Promise.all(calls.map(settle));
};

const closeMid: Script = async (pool, opts) => {
  const calls = Array.from({ length: 6 }, (_, i) => pool.run(async (c, call) => {
    await new Promise((r) => setTimeout(r, 5 * (i + 1)));
    if (i % 2 === 0 && call.attempt === 1) throw new Error(`f${i}`);
    return `${c}:${call.attempt}`;
  }, opts())).map(settle);
  await new Promise((r) => setTimeout(r, 12));
  const closed = pool.close().then(() => 'closed', (e: unknown) => String(e));
  const late = settle(pool.run((c) => c, opts()));
  return [...(await Promise.all([...calls, late])), await closed];
};

const destroyMid: Script = async (pool, opts) => {
  const calls = Array.from({ length: 6 }, (_, i) => pool.run(async (c, call) => {
    await new Promise((resolve, reject) => { const t = setTimeout(resolve, 5 * (i + 1)); call.signal.addEventListener('abort', () => { clearTimeout(t); reject(call.signal.reason); }); });
    if (i % 2 === 0 && call.attempt === 1) throw new Error(`f${i}`);
    return `${c}:${call.attempt}`;
  }, opts())).map(settle);
  await new Promise((r) => setTimeout(r, 12));
  const destroyed = pool.destroy(new Error('bye')).then(() => 'destroyed', (e: unknown) => String(e));
  return [...(await Promise.all(calls)), await destroyed];
};

const retry = { attempts: 3, backoff: { initial: 1, jitter: 'none' as const } };
const cases: [string, PoolOptions<string>, RunOptions<string>][] = [
  ['pool retry, method label', { retry }, { method: 'get' }],
  ['call retry', {}, { method: 'get', retry }],
  ['call retry with traceId', {}, { method: 'get', traceId: 't-1', retry }],
  ['method retry', { methods: { get: { retry } } }, { method: 'get' }],
  ['method retry off, pool retry on', { retry, methods: { get: { retry: false } } }, { method: 'get' }],
  ['method cost/priority/strategy', { retry, methods: { get: { cost: { tokens: 2 }, priority: 'high', strategy: 'random' } } }, { method: 'get' }],
  ['method low priority', { retry, reserve: 0.5, methods: { get: { priority: 'low' } } }, { method: 'get' }],
  ['tight budget', { retry, retryBudget: { ratio: 0.1, reserve: 2 } }, { method: 'get' }],
  ['budget ratio 0', { retry, retryBudget: { ratio: 0, reserve: 1 } }, { method: 'get' }],
  ['no budget', { retry, retryBudget: false }, { method: 'get' }],
  ['breaker trips', { retry, breaker: { maxFailures: 2, cooldown: 100_000 } }, { method: 'get' }],
  ['isFailure filters', { retry, isFailure: () => false }, { method: 'get' }],
  ['retry with retryOn', {}, { method: 'get', retry: { ...retry, retryOn: (e: Error) => e.message !== 'down' } }],
  ['traceId only', { retry }, { traceId: 'abc' }],
  ['pool maxWait 5', { retry, maxWait: 5 }, { method: 'get' }],
  ['pool rate limit', { retry, limit: { rate: 2, per: 100, burst: 2 }, maxWait: 60 }, { method: 'get' }],
  ['measureLatency + p2c-ewma', { retry, measureLatency: true, strategy: 'p2c-ewma' }, { method: 'get' }],
  ['least-in-flight', { retry, strategy: 'least-in-flight' }, { method: 'get', traceId: 'z' }],
  ['middleware', { retry, middleware: [{ name: 'mw', execute: (call, next) => next(call), onOutcome: () => {} }] }, { method: 'get' }],
  ['pool hedge, method opts out', { retry, hedge: { delay: 3 }, methods: { get: { hedge: false } } }, { method: 'get' }],
  ['quantile hedge on another method', { retry, methods: { other: { hedge: { delay: { quantile: 0.9 } } } } }, { method: 'get' }],
  ['method retry, call retry false', { methods: { get: { retry } } }, { method: 'get', retry: false }],
  ['method with a different method label configured', { retry, methods: { other: { timeout: 5 } } }, { method: 'get' }],
];

describe('label-only options behave as the same options on the general path', () => {
  afterEach(() => { vi.useRealTimers(); });
  for (const [name, poolOptions, base] of cases) {
    for (const [sname, script] of [['failFirst', failFirst], ['alwaysFail', alwaysFail], ['mixed', mixed], ['crowd', crowd], ['closeMid', closeMid], ['destroyMid', destroyMid]] as const) {
      it(`${name} / ${sname}: same outcome and counters`, { timeout: 5000 }, async () => {
        const labelled = await observe(poolOptions, base, script, false);
        const general = await observe(poolOptions, base, script, true);
        expect(labelled).toEqual(general);
      });
    }
  }
});
