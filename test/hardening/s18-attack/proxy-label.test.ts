import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClientPool } from '../../../src/index.js';

// pool.proxy() calls run with { method: label, ...per-method, ...run }: label-only when only `retry` is set.
// Same outcome and counters as with a harmless `maxWait` that forces the general journey.

interface Client { name: string; get(n: number): Promise<string> }

async function observe(extraRun: object): Promise<unknown> {
  vi.useFakeTimers();
  const pool = new ClientPool<Client>({ methods: { get: { retry: { attempts: 3, backoff: { initial: 1, jitter: 'none' } } } } });
  const calls: string[] = [];
  for (const name of ['a', 'b']) {
    let n = 0;
    pool.add({ name, get: (x: number) => { n++; calls.push(`${name}${n}`); return n % 2 === 1 ? Promise.reject(new Error(`${name} down`)) : Promise.resolve(`${name}:${x}`); } }, { name });
  }
  const proxy = pool.proxy({ run: { traceId: 't', ...extraRun }, methods: { get: { retry: { attempts: 2, backoff: { initial: 1, jitter: 'none' } } } } });
  const out: unknown[] = [];
  const all = (async () => {
    for (let i = 0; i < 5; i++) out.push(await proxy.get(i).catch((e: { code?: string }) => e.code));
  })();
  for (let i = 0; i < 100; i++) await vi.advanceTimersByTimeAsync(5);
  await all;
  const state = { out, calls, members: pool.members().map((m) => [m.successes, m.failures, m.inFlight]), budget: pool.retryBudget };
  await pool.close();
  vi.useRealTimers();
  return state;
}

describe('proxy calls with only a label and retries', () => {
  afterEach(() => { vi.useRealTimers(); });
  it('behave as with a harmless maxWait', { timeout: 5000 }, async () => {
    expect(await observe({})).toEqual(await observe({ maxWait: 1_000 }));
  });
});
