// Attack: many calls of mixed costs and priorities waiting on two keys: all settle, no spin, no token lost.
import { describe, expect, it, vi } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { useCountingFakeTime } from '../../helpers/fake-time-watch.js';

interface Key {
  readonly id: string;
}

const MINUTE = 60_000;
const { clock: countingClock, reads } = useCountingFakeTime();

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe('mixed cost waits', () => {
  it.each([1, 2, 3])('seed %d: every call settles, served costs fit the refill, the clock is read a bounded number of times', async (seed) => {
    const random = rng(seed);
    const pool = new ClientPool<Key>({ clock: countingClock, maxWait: 120_000, reserve: 0.2 });
    pool.add({ id: 'a' }, { name: 'a', maxInFlight: 3, limit: { tokens: { rate: 1_000, per: MINUTE } } });
    pool.add({ id: 'b' }, { name: 'b', maxInFlight: 3, limit: { tokens: { rate: 1_000, per: MINUTE } } });
    let servedTokens = 0;
    const outcomes: string[] = [];
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      const cost = 1 + Math.floor(random() * 900);
      const priority = (['high', 'normal', 'low'] as const)[Math.floor(random() * 3)]!;
      const duration = Math.floor(random() * 200);
      calls.push(
        pool
          .run(() => new Promise((resolve) => setTimeout(resolve, duration)).then(() => (servedTokens += cost)), { cost: { tokens: cost }, priority })
          .then(() => outcomes.push('ok'), (e: unknown) => outcomes.push((e as { code?: string }).code ?? 'unknown')),
      );
      await vi.advanceTimersByTimeAsync(Math.floor(random() * 500));
    }
    await vi.advanceTimersByTimeAsync(10 * MINUTE);
    await Promise.all(calls);
    expect(outcomes.length).toBe(60);
    expect(new Set(outcomes).size).toBeGreaterThan(0);
    for (const o of outcomes) expect(['ok', 'ERR_SHED', 'ERR_RATE_LIMITED', 'ERR_CONCURRENCY_LIMITED']).toContain(o);
    // Two keys of 1 000 a minute, from full, over the test's time.
    const elapsed = Date.now();
    expect(servedTokens).toBeLessThanOrEqual(2_000 + (2 * 1_000 * elapsed) / MINUTE + 1);
    expect(pool.members().map((m) => m.inFlight)).toEqual([0, 0]);
    for (const m of pool.members()) expect(m.quota!['tokens']!).toBeGreaterThanOrEqual(0);
    expect(reads()).toBeLessThan(50_000);
  }, 30_000);
});
