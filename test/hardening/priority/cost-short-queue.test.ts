// Attack: a client short of one call's cost, with several calls of different costs waiting.
import { describe, expect, it, vi } from 'vitest';
import { ClientPool } from '../../../src/index.js';
import { useCountingFakeTime } from '../../helpers/fake-time-watch.js';

interface Key {
  readonly id: string;
}

const MINUTE = 60_000;
const { clock: countingClock, reads } = useCountingFakeTime();

function oneKey(maxWait = 120_000): ClientPool<Key> {
  const pool = new ClientPool<Key>({ clock: countingClock, maxWait });
  pool.add({ id: 'k' }, { name: 'k', limit: { tokens: { rate: 1_000, per: MINUTE } } });
  return pool;
}

describe('calls waiting on one client for their cost', () => {
  it('the large call first in line is served when its tokens are back, the small behind it right after', async () => {
    const pool = oneKey();
    await pool.run(() => 'a', { cost: { tokens: 900 } });
    const served: [string, number][] = [];
    const big = pool.run(() => served.push(['big', Date.now()]), { cost: { tokens: 500 } });
    const small = pool.run(() => served.push(['small', Date.now()]), { cost: { tokens: 50 } });
    await vi.advanceTimersByTimeAsync(60_000);
    await Promise.all([big, small]);
    // 400 short at 1 000 a minute: 24 s. The small one keeps its place behind the big one.
    expect(served.map(([name]) => name)).toEqual(['big', 'small']);
    expect(served[0]![1]).toBeGreaterThanOrEqual(24_000);
    expect(served[0]![1]).toBeLessThanOrEqual(24_100);
    // small: 50 more tokens after big took them all: 3 s.
    expect(served[1]![1]).toBeLessThanOrEqual(27_100);
    // No busy loop: a few clock reads per wake, not one per millisecond spun.
    expect(reads()).toBeLessThan(2_000);
  });

  it('a high call of small cost arriving behind a large normal one is served before it', async () => {
    const pool = oneKey();
    await pool.run(() => 'a', { cost: { tokens: 900 } });
    const served: string[] = [];
    const big = pool.run(() => served.push('big'), { cost: { tokens: 500 } });
    const high = pool.run(() => served.push('high'), { cost: { tokens: 50 }, priority: 'high' });
    await vi.advanceTimersByTimeAsync(60_000);
    await Promise.all([big, high]);
    expect(served).toEqual(['high', 'big']);
    expect(reads()).toBeLessThan(2_000);
  });

  it('a high call that fits now, arriving behind a cost-short normal call, is served at once, not at the normal call\'s wake', async () => {
    const pool = oneKey();
    await pool.run(() => 'a', { cost: { tokens: 900 } });
    const served: [string, number][] = [];
    const big = pool.run(() => served.push(['big', Date.now()]), { cost: { tokens: 500 } });
    await vi.advanceTimersByTimeAsync(10);
    const high = pool.run(() => served.push(['high', Date.now()]), { cost: { tokens: 50 }, priority: 'high' });
    await vi.advanceTimersByTimeAsync(100);
    // 100 tokens there (plus refill): the high call fits now and is first in line.
    expect(served).toEqual([['high', 10]]);
    await vi.advanceTimersByTimeAsync(60_000);
    await Promise.all([big, high]);
  });

  it('a high call with maxWait 0 that fits now is served, not refused, behind a cost-short normal call', async () => {
    const pool = oneKey();
    await pool.run(() => 'a', { cost: { tokens: 900 } });
    const big = pool.run(() => 'big', { cost: { tokens: 500 } });
    await vi.advanceTimersByTimeAsync(10);
    const high = pool.run(() => 'high', { cost: { tokens: 50 }, priority: 'high', maxWait: 0 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10);
    expect(await high).toBe('high');
    await vi.advanceTimersByTimeAsync(60_000);
    await big;
  });

  it('a cost-short call whose tokens come back after its maxWait fails at once with ERR_RATE_LIMITED and the right retryAfterMs', async () => {
    const pool = oneKey(1_000);
    await pool.run(() => 'a', { cost: { tokens: 900 } });
    const error = await pool.run(() => 'big', { cost: { tokens: 500 } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ERR_RATE_LIMITED' });
    expect((error as { retryAfterMs: number }).retryAfterMs).toBeGreaterThanOrEqual(23_900);
    expect((error as { retryAfterMs: number }).retryAfterMs).toBeLessThanOrEqual(24_100);
    await expect(pool.run(() => 'small', { cost: { tokens: 50 } })).resolves.toBe('small');
  });

  it('a request-only call (no cost) is not held by a cost-short call when none waits; tokens are not double-counted', async () => {
    const pool = oneKey();
    await pool.run(() => 'a', { cost: { tokens: 1_000 } });
    const big = pool.run(() => 'big', { cost: { tokens: 600 } });
    await vi.advanceTimersByTimeAsync(36_000);
    await expect(big).resolves.toBe('big');
    // 36 s: 600 refilled, 600 taken.
    expect(Math.round(pool.members()[0]!.quota!['tokens']!)).toBe(0);
    expect(reads()).toBeLessThan(2_000);
  });

  it('a low call short of its cost is shed at once with short "client", and it does not change a waiting call\'s wake', async () => {
    const pool = oneKey();
    await pool.run(() => 'a', { cost: { tokens: 900 } });
    await expect(pool.run(() => 'low', { cost: { tokens: 500 }, priority: 'low' })).rejects.toMatchObject({ code: 'ERR_SHED' });
    const served: number[] = [];
    const normal = pool.run(() => served.push(Date.now()), { cost: { tokens: 500 } });
    await vi.advanceTimersByTimeAsync(60_000);
    await normal;
    expect(served[0]).toBeGreaterThanOrEqual(24_000);
    expect(served[0]).toBeLessThanOrEqual(24_100);
  });

  it('two clients: the one short of a large cost is passed over, the other takes it; the short one still takes small calls', async () => {
    const pool = new ClientPool<Key>({ clock: countingClock, maxWait: 0 });
    pool.add({ id: 'a' }, { name: 'a', limit: { tokens: { rate: 1_000, per: MINUTE } } });
    pool.add({ id: 'b' }, { name: 'b', limit: { tokens: { rate: 1_000, per: MINUTE } } });
    const seen: string[] = [];
    await pool.run((k) => seen.push(k.id), { cost: { tokens: 900 }, strategy: 'round-robin' });
    const shortName = seen[0]!;
    await pool.run((k) => seen.push(k.id), { cost: { tokens: 500 } });
    expect(seen[1]).not.toBe(shortName);
    // The short one still has 100: small calls can go there.
    await expect(pool.run(() => 'small', { cost: { tokens: 100 } })).resolves.toBe('small');
    await expect(pool.run(() => 'small', { cost: { tokens: 100 } })).resolves.toBe('small');
    const quotas = pool.members().map((m) => Math.round(m.quota!['tokens']!));
    expect(quotas.reduce((a, b) => a + b, 0)).toBe(2_000 - 900 - 500 - 200);
  });
});
