// Priority and load shedding (issue 15 §3): high before normal in line, low shed before it waits, and a
// share of each cap and limit kept from low-priority calls.
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, TokenBucket } from '../../src/index.js';
import { prometheusMetrics } from '../../src/prometheus/index.js';
import { find, parseExposition } from '../prometheus/exposition.js';
import { dateClock } from '../helpers/fake-time.js';
import { deferred, ManualClock } from '../helpers/manual-clock.js';

interface Backend {
  readonly id: string;
}

/** Hold `n` calls of `priority` on the pool; resolves them on `release()`. */
function hold(pool: ClientPool<Backend>, n: number, priority: 'high' | 'normal' | 'low' = 'normal'): { calls: Promise<unknown>[]; release: () => void } {
  const gate = deferred();
  const calls = Array.from({ length: n }, () => pool.run(() => gate.promise, { priority }));
  return { calls, release: () => gate.resolve() };
}

describe('priority: low is shed before it waits', () => {
  it('a low call that finds every slot taken fails at once with ERR_SHED; a normal one waits', async () => {
    const pool = new ClientPool<Backend>({ maxWait: 10_000 });
    pool.add({ id: 'a' }, { maxInFlight: 2 });
    const held = hold(pool, 2);
    await expect(pool.run(() => 'low', { priority: 'low' })).rejects.toMatchObject({ code: 'ERR_SHED', short: 'client' });
    const normal = pool.run(() => 'normal');
    held.release();
    await expect(normal).resolves.toBe('normal');
    await Promise.all(held.calls);
    expect(pool.members()[0]!.inFlight).toBe(0);
  });

  it('a low call is shed, not put in line, while other calls wait for a client', async () => {
    const pool = new ClientPool<Backend>({ maxWait: 10_000 });
    pool.add({ id: 'a' }, { maxInFlight: 1 });
    const held = hold(pool, 1);
    const waiting = pool.run(() => 'waited');
    await expect(pool.run(() => 'low', { priority: 'low' })).rejects.toMatchObject({ code: 'ERR_SHED' });
    held.release();
    await expect(waiting).resolves.toBe('waited');
  });

  it('a low call is shed rather than wait for a pool-wide token', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Backend>({ clock, limit: { rate: 1, burst: 1 }, maxWait: 10_000, reserve: 0 });
    pool.add({ id: 'a' });
    await pool.run(() => 'first');
    await expect(pool.run(() => 'low', { priority: 'low' })).rejects.toMatchObject({ code: 'ERR_SHED', short: 'token' });
  });
});

describe('priority: the reserve is kept from low-priority calls', () => {
  it('low calls hold at most floor(cap x (1 - reserve)) slots; normal and high use the rest', async () => {
    const pool = new ClientPool<Backend>({ reserve: 0.2, maxWait: 0 });
    pool.add({ id: 'a' }, { maxInFlight: 10 });
    const low = hold(pool, 8, 'low');
    expect(pool.members()[0]!.inFlight).toBe(8);
    await expect(pool.run(() => 'ninth low', { priority: 'low' })).rejects.toMatchObject({ code: 'ERR_SHED' });
    const normal = hold(pool, 1, 'normal');
    const high = hold(pool, 1, 'high');
    expect(pool.members()[0]!.inFlight).toBe(10);
    for (const held of [low, normal, high]) held.release();
    await Promise.all([...low.calls, ...normal.calls, ...high.calls]);
  });

  it('low calls take tokens only while reserve x burst stay in each of the client\'s limits', async () => {
    const clock = new ManualClock();
    const pool = new ClientPool<Backend>({ clock, reserve: 0.3, maxWait: 0 });
    pool.add({ id: 'a' }, { name: 'a', limit: { tokens: { rate: 1_000, per: 60_000 } } });
    await pool.run(() => 'low', { priority: 'low', cost: { tokens: 600 } });
    await expect(pool.run(() => 'low', { priority: 'low', cost: { tokens: 200 } })).rejects.toMatchObject({ code: 'ERR_SHED' });
    // 400 left, 300 of them kept for normal and high calls.
    await expect(pool.run(() => 'low', { priority: 'low', cost: { tokens: 100 } })).resolves.toBe('low');
    await expect(pool.run(() => 'normal', { cost: { tokens: 300 } })).resolves.toBe('normal');
  });

  it('a low call goes to another client with room outside its reserve rather than being shed', async () => {
    const pool = new ClientPool<Backend>({ reserve: 0.5, maxWait: 0, strategy: 'round-robin' });
    pool.add({ id: 'busy' }, { name: 'busy', maxInFlight: 2 });
    pool.add({ id: 'free' }, { name: 'free', maxInFlight: 2 });
    const gate = deferred();
    const first = pool.run((backend) => gate.promise.then(() => backend.id), { priority: 'low' });
    const second = pool.run((backend) => gate.promise.then(() => backend.id), { priority: 'low' });
    await expect(pool.run(() => 'third', { priority: 'low' })).rejects.toMatchObject({ code: 'ERR_SHED' });
    gate.resolve();
    expect(new Set([await first, await second])).toEqual(new Set(['busy', 'free']));
  });

  it('a pool-wide limit keeps its reserve from low calls too', async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket({ rate: 10, burst: 10, clock });
    const pool = new ClientPool<Backend>({ clock, limit: bucket, reserve: 0.5, maxWait: 0 });
    pool.add({ id: 'a' });
    for (let i = 0; i < 5; i++) await pool.run(() => 'low', { priority: 'low' });
    await expect(pool.run(() => 'low', { priority: 'low' })).rejects.toMatchObject({ code: 'ERR_SHED', short: 'token' });
    for (let i = 0; i < 5; i++) await pool.run(() => 'normal');
    expect(bucket.available).toBe(0);
  });
});

describe('priority: high before normal in line', () => {
  it('waiters are served high first, then FIFO', async () => {
    const pool = new ClientPool<Backend>({ maxWait: 10_000 });
    pool.add({ id: 'a' }, { maxInFlight: 1 });
    const held = hold(pool, 1);
    const order: string[] = [];
    const calls = [
      pool.run(() => order.push('normal-1')),
      pool.run(() => order.push('high-1'), { priority: 'high' }),
      pool.run(() => order.push('normal-2')),
      pool.run(() => order.push('high-2'), { priority: 'high' }),
    ];
    held.release();
    await Promise.all([...held.calls, ...calls]);
    expect(order).toEqual(['high-1', 'high-2', 'normal-1', 'normal-2']);
  });

  it('a method\'s priority is its calls\', and a call\'s own overrides it', async () => {
    const pool = new ClientPool<Backend>({ maxWait: 0, methods: { backfill: { priority: 'low' } } });
    pool.add({ id: 'a' }, { maxInFlight: 1 });
    const held = hold(pool, 1);
    await expect(pool.run(() => 'x', { method: 'backfill' })).rejects.toMatchObject({ code: 'ERR_SHED' });
    await expect(pool.run(() => 'x', { method: 'backfill', priority: 'normal' })).rejects.toMatchObject({ code: 'ERR_CONCURRENCY_LIMITED' });
    held.release();
    await Promise.all(held.calls);
  });
});

describe('priority under 3x overload (virtual time)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  // With the reserve off, low calls reach every slot: what the reserve is for (docs/priority-shedding.md).
  it.each([
    [0.2, 8],
    [0, 10],
  ])('reserve %s: high succeeds >= 99 %, low is shed, and low holds at most %s of the 10 slots', async (reserve, mostLow) => {
    const pool = new ClientPool<Backend>({ clock: dateClock, maxWait: 1_000, reserve });
    pool.add({ id: 'db' }, { maxInFlight: 10 });
    // 10 slots at 20 ms serve 500 calls/s. Offered: 100/s high and 100/s normal, in bursts of 10 every
    // 100 ms (between them, low calls alone would fill every slot), and 1 300/s low: 3x.
    const counts = { high: { ok: 0, failed: 0 }, normal: { ok: 0, failed: 0 }, low: { ok: 0, shed: 0, failed: 0 } };
    let lowInFlight = 0;
    let maxLowInFlight = 0;
    const offer = (priority: 'high' | 'normal' | 'low'): void => {
      pool
        .run(async () => {
          if (priority === 'low') maxLowInFlight = Math.max(maxLowInFlight, ++lowInFlight);
          await new Promise((resolve) => setTimeout(resolve, 20));
          if (priority === 'low') lowInFlight--;
        }, { priority })
        .then(
          () => counts[priority].ok++,
          (error: unknown) => {
            if (priority === 'low' && (error as { code?: string }).code === 'ERR_SHED') counts.low.shed++;
            else counts[priority].failed++;
          },
        );
    };
    for (let t = 0; t < 20_000; t++) {
      if (t % 100 === 0) for (let i = 0; i < 10; i++) offer('high');
      if (t % 100 === 50) for (let i = 0; i < 10; i++) offer('normal');
      for (let i = 0; i < (t % 10 < 3 ? 2 : 1); i++) offer('low');
      await vi.advanceTimersByTimeAsync(1);
    }
    await vi.advanceTimersByTimeAsync(2_000);
    expect(counts.high.ok / (counts.high.ok + counts.high.failed)).toBeGreaterThanOrEqual(0.99);
    expect(counts.low.shed).toBeGreaterThan(counts.low.ok);
    expect(counts.low.failed).toBe(0);
    if (reserve > 0) expect(maxLowInFlight).toBeLessThanOrEqual(mostLow);
    else expect(maxLowInFlight).toBe(mostLow);
    expect(pool.members()[0]!.inFlight).toBe(0);
  }, 60_000);
});

describe('priority: bad input and metrics', () => {
  it.each([
    [{ priority: 'urgent' }, 'priority'],
    [{ priority: 2 }, 'priority'],
  ])('refuses run options %j by name', async (options, option) => {
    const pool = new ClientPool<Backend>();
    pool.add({ id: 'a' });
    await expect(pool.run(() => 'x', options as never)).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', option });
  });

  it.each([[1], [-0.1], [Number.NaN], ['0.2']])('refuses reserve %j by name', (reserve) => {
    expect(() => new ClientPool<Backend>({ reserve: reserve as number })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION', option: 'reserve' }));
  });

  it('refuses a method priority when the pool is made', () => {
    expect(() => new ClientPool<Backend>({ methods: { m: { priority: 'top' as never } } })).toThrow(expect.objectContaining({ option: 'methods.m.priority' }));
  });

  it('<prefix>_shed_total counts shed calls by method', async () => {
    const registry = new Registry();
    const pool = new ClientPool<Backend>({ maxWait: 0 }).use(prometheusMetrics({ registry }));
    pool.add({ id: 'a' }, { maxInFlight: 1 });
    const held = hold(pool, 1);
    for (let i = 0; i < 3; i++) await pool.run(() => 'x', { method: 'backfill', priority: 'low' }).catch(() => undefined);
    held.release();
    await Promise.all(held.calls);
    const s = parseExposition(await registry.metrics());
    expect(find(s, 'middleware_shed_total').map((sample) => [sample.labels['method'], sample.value])).toEqual([['backfill', 3]]);
  });
});
