import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, type Call, type PoolOptions, type RunOptions } from '../../../src/index.js';
import { HEDGE_MIN_SAMPLES } from '../../../src/resilience/hedge-policy.js';
import { never, type Client } from './harness.js';

// Latencies are recorded for hedging only once a quantile hedge delay is in use (pool option, `methods`,
// or the first call that asks for one). A call's first attempt hangs; its hedge answers at once: when
// the caller hears back says when the hedge started.

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const quantileHedge = { delay: { quantile: 0.5, min: 0, max: 1_000 } };
const after = (ms: number, value: string) => (): Promise<string> => new Promise((resolve) => setTimeout(() => resolve(value), ms));
const firstHangs = (_client: Client, call: Call<Client>): Promise<unknown> => (call.attempt === 1 ? never() : Promise.resolve('hedge'));

function makePool(options: PoolOptions<Client> = {}): ClientPool<Client> {
  const pool = new ClientPool<Client>({ retryBudget: false, ...options });
  pool.add({ name: 'a' }, { name: 'a' });
  pool.add({ name: 'b' }, { name: 'b' });
  return pool;
}

/** Fake ms until a call whose first attempt hangs is answered by its hedge. */
async function hedgeStartsAfter(pool: ClientPool<Client>, options: RunOptions<Client>): Promise<number> {
  let answeredAt: number | undefined;
  const started = Date.now();
  const call = pool.run(firstHangs, { method: 'm', timeout: 5_000, ...options }).then(() => (answeredAt = Date.now() - started));
  for (let i = 0; i < 300 && answeredAt === undefined; i++) await vi.advanceTimersByTimeAsync(5);
  await call;
  return answeredAt!;
}

async function samples(pool: ClientPool<Client>, options: RunOptions<Client>, n = HEDGE_MIN_SAMPLES + 20): Promise<void> {
  for (let i = 0; i < n; i++) {
    const call = pool.run(after(20, 'sample'), { method: 'm', ...options });
    await vi.advanceTimersByTimeAsync(20);
    await call;
  }
}

describe('hedging at a quantile of recorded latencies', () => {
  it('a per-call quantile hedge, on a pool with no hedge, hedges at the quantile once it has enough samples', async () => {
    const pool = makePool();
    await samples(pool, { hedge: quantileHedge });
    const at = await hedgeStartsAfter(pool, { hedge: quantileHedge });
    expect(at).toBeGreaterThanOrEqual(15);
    expect(at).toBeLessThan(100);
    await pool.close();
  });

  it('a pool-wide quantile hedge records from the first call', async () => {
    const pool = makePool({ hedge: quantileHedge });
    await samples(pool, {});
    const at = await hedgeStartsAfter(pool, {});
    expect(at).toBeLessThan(100);
    await pool.close();
  });

  it('a quantile hedge in `methods` records from the first call of that method', async () => {
    const pool = makePool({ methods: { m: { hedge: quantileHedge } } });
    await samples(pool, {});
    const at = await hedgeStartsAfter(pool, {});
    expect(at).toBeLessThan(100);
    await pool.close();
  });

  it('calls made before the first quantile hedge was asked for are not recorded: that hedge waits its max', async () => {
    const pool = makePool({ measureLatency: true });
    await samples(pool, {});
    const at = await hedgeStartsAfter(pool, { hedge: quantileHedge });
    expect(at).toBeGreaterThanOrEqual(1_000);
    await pool.close();
  });

  it('a fixed hedge delay never turns recording on: a later quantile hedge still waits its max', async () => {
    const pool = makePool({ measureLatency: true, hedge: { delay: 10 } });
    await samples(pool, {});
    const at = await hedgeStartsAfter(pool, { hedge: quantileHedge });
    expect(at).toBeGreaterThanOrEqual(1_000);
    await pool.close();
  });
});
