import { describe, expect, it } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { codeOf, hanging, StillClock } from './rig.js';

// Many calls waiting for a slot on a still clock, each with its backstop timer (docs/call-pipeline.md:
// "40 000 calls queued behind a limit add no listener each to one signal"; the backstop costs a timer per
// waiter): real timers, the wait cut by a 30 ms deadline so the backstop (at the cut maxWait) ends them.
useUnhandledGuard({ time: 'real' });

async function round(n: number): Promise<{ enqueueMs: number; endMs: number; codes: Set<string | undefined> }> {
  const clock = new StillClock();
  const pool = new ClientPool<string>({ clock, maxWait: 10_000 });
  pool.add('a', { name: 'a', maxInFlight: 1 });
  const h = hanging();
  const first = pool.run(h.fn);
  const t0 = performance.now();
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) calls.push(pool.run(() => 'x', { deadline: 30 }).then(() => undefined, (e: unknown) => e));
  const t1 = performance.now();
  const results = await Promise.all(calls);
  const t2 = performance.now();
  h.release();
  await first;
  await pool.close();
  return { enqueueMs: t1 - t0, endMs: t2 - t1, codes: new Set(results.map(codeOf)) };
}

describe('waiters with a backstop each stay linear', () => {
  it('10 000 then 40 000 waiters: all refused (DeadlineExceededError), 4x the waiters costs well under 16x', async () => {
    await round(2_000);
    const small = await round(10_000);
    const big = await round(40_000);
    expect(small.codes).toEqual(new Set(['ERR_DEADLINE_EXCEEDED']));
    expect(big.codes).toEqual(new Set(['ERR_DEADLINE_EXCEEDED']));
    const total = (r: typeof small): number => r.enqueueMs + Math.max(0, r.endMs - 30);
    console.log(`10k: enqueue ${small.enqueueMs.toFixed(0)} ms, end ${small.endMs.toFixed(0)} ms; 40k: enqueue ${big.enqueueMs.toFixed(0)} ms, end ${big.endMs.toFixed(0)} ms`);
    expect(total(big) / Math.max(total(small), 5)).toBeLessThan(10);
  }, 60_000);

  it('40 000 waiters ended by destroy(): all PoolClosedError with the reason as cause, at once', async () => {
    const clock = new StillClock();
    const pool = new ClientPool<string>({ clock, maxWait: 10_000 });
    pool.add('a', { name: 'a', maxInFlight: 1 });
    const h = hanging();
    const first = pool.run(h.fn).catch((e: unknown) => e);
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 40_000; i++) calls.push(pool.run(() => 'x').then(() => undefined, (e: unknown) => e));
    const reason = new Error('stop');
    const t0 = performance.now();
    await pool.destroy(reason);
    const results = await Promise.all(calls);
    const ms = performance.now() - t0;
    expect(new Set(results.map(codeOf))).toEqual(new Set(['ERR_POOL_CLOSED']));
    expect(results.every((e) => (e as Error).cause === reason)).toBe(true);
    expect(ms).toBeLessThan(5_000);
    h.release();
    await first;
  }, 60_000);
});
