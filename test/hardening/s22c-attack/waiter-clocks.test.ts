import { describe, expect, it, vi } from 'vitest';
import { ClientPool, RateLimitedError, TokenBucket } from '../../../src/index.js';
import { state, turns } from '../../helpers/promise-state.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';

// Probes (passing): the WaiterQueue after 17f5dab on clocks that move WITH the timers - Date.now() under fake
// timers, and a manual clock advanced exactly with them - and on a clock that runs AHEAD (a stalled loop:
// the clock jumps, the timers fire late). Served at the right time, never early, FIFO kept, priorities and
// costs unchanged, a handful of timers (no 1 ms re-arms while a token is 1 s away), nothing left armed.

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });

type ClockKind = 'date' | 'manual';

function clockOf(kind: ClockKind): { clock: { now: () => number }; step: (ms: number) => Promise<void>; jump: (ms: number) => void } {
  let t = 0;
  return kind === 'date'
    ? { clock: { now: () => Date.now() }, step: (ms) => vi.advanceTimersByTimeAsync(ms).then(() => undefined), jump: (ms) => vi.setSystemTime(Date.now() + ms) }
    : {
        clock: { now: () => t },
        step: async (ms) => {
          // Exactly with the timers, 1 ms at a time.
          for (let i = 0; i < ms; i++) {
            t += 1;
            await vi.advanceTimersByTimeAsync(1);
          }
        },
        jump: (ms) => (t += ms),
      };
}

async function spying<R>(body: () => Promise<R>): Promise<{ result: R; calls: number }> {
  const spy = vi.spyOn(globalThis, 'setTimeout');
  try {
    const result = await body();
    return { result, calls: spy.mock.calls.length };
  } finally {
    spy.mockRestore();
  }
}

describe.each(['date', 'manual'] as const)('clock %s moving with the timers', (kind) => {
  it('TokenBucket: 5 waiters of costs 1,3,1,2,1 at rate 2/s served in order, each at its token time, few timers', async () => {
    const c = clockOf(kind);
    const t0 = c.clock.now();
    const bucket = new TokenBucket({ rate: 2, per: 1_000, burst: 3, maxWait: 10_000, clock: c.clock });
    await bucket.take(3);
    const order: [number, number][] = [];
    const costs = [1, 3, 1, 2, 1];
    const { calls } = await spying(async () => {
      const all = costs.map((n, i) => bucket.take(n).then(() => order.push([i, c.clock.now() - t0])));
      await c.step(4_000);
      await Promise.all(all);
    });
    // Cumulative tokens 1,4,5,7,8 at 500 ms each.
    expect(order).toEqual([
      [0, 500],
      [1, 2_000],
      [2, 2_500],
      [3, 3_500],
      [4, 4_000],
    ]);
    expect(calls).toBeLessThanOrEqual(10);
    expect(vi.getTimerCount()).toBe(0);
    bucket.close();
  });

  it('TokenBucket: a waiter due at its very deadline is served; one a token later is refused at once', async () => {
    const c = clockOf(kind);
    const bucket = new TokenBucket({ rate: 1, per: 1_000, burst: 1, maxWait: 2_000, clock: c.clock });
    await bucket.take();
    const a = state(bucket.take());
    const b = state(bucket.take());
    const late = state(bucket.take());
    await turns(2);
    expect(late()).toMatchObject({ ok: false });
    expect((late() as { value: unknown }).value).toBeInstanceOf(RateLimitedError);
    await c.step(1_999);
    expect(a()).toEqual({ ok: true, value: undefined });
    expect(b()).toBe('pending');
    await c.step(1);
    expect(b()).toEqual({ ok: true, value: undefined });
    bucket.close();
  });

  it('pool limit with priorities: FIFO in the bucket (documented), each at its token time', async () => {
    const c = clockOf(kind);
    const t0 = c.clock.now();
    const pool = new ClientPool<string>({ limit: { rate: 1, per: 1_000, burst: 1 }, maxWait: 10_000, clock: c.clock });
    pool.add('a', { name: 'a' });
    await pool.run(() => 'v0');
    const order: [string, number][] = [];
    const names = ['n1', 'h1', 'n2', 'h2'];
    const { calls } = await spying(async () => {
      const all = names.map((n) => pool.run(() => order.push([n, c.clock.now() - t0]), { priority: n.startsWith('h') ? 'high' : 'normal' }));
      await c.step(4_000);
      await Promise.all(all);
    });
    expect(order.map(([, at]) => at)).toEqual([1_000, 2_000, 3_000, 4_000]);
    // docs/priority-shedding.md: a pool-wide bucket's own queue stays FIFO whatever the priority.
    expect(order.map(([n]) => n)).toEqual(['n1', 'h1', 'n2', 'h2']);
    expect(calls).toBeLessThanOrEqual(12);
    await pool.destroy();
  });

  it("client's own limits (two keys, 1/s each): four waiters served two per second, FIFO, few timers", async () => {
    const c = clockOf(kind);
    const t0 = c.clock.now();
    const pool = new ClientPool<string>({ maxWait: 10_000, clock: c.clock });
    pool.add('a', { name: 'a', limit: { rate: 1, per: 1_000, burst: 1 } });
    pool.add('b', { name: 'b', limit: { rate: 1, per: 1_000, burst: 1 } });
    await Promise.all([pool.run(() => 'x'), pool.run(() => 'y')]);
    const order: [number, number][] = [];
    const { calls } = await spying(async () => {
      const all = [0, 1, 2, 3].map((i) => pool.run(() => order.push([i, c.clock.now() - t0])));
      await c.step(2_000);
      await Promise.all(all);
    });
    expect(order).toEqual([
      [0, 1_000],
      [1, 1_000],
      [2, 2_000],
      [3, 2_000],
    ]);
    expect(calls).toBeLessThanOrEqual(12);
    await pool.destroy();
  });

});

describe('a clock that runs ahead of the timers (a stalled loop)', () => {
  it('TokenBucket on Date.now: the clock jumps 5 s with no timer run; burst 3 refilled: the three waiters are served at the next firing, in order, none refused', async () => {
    const c = clockOf('date');
    const b2 = new TokenBucket({ rate: 1, per: 1_000, burst: 3, maxWait: 3_000, clock: c.clock });
    await b2.take(3);
    const order: number[] = [];
    const all = [0, 1, 2].map((i) => state(b2.take().then(() => order.push(i))));
    c.jump(5_000); // the loop stalled: the clock moved, no timer fired
    await vi.advanceTimersByTimeAsync(1_000);
    await turns(2);
    // Past every deadline on the clock, but their tokens came in time: served, in order (the owner first).
    expect(all.map((s) => s())).toEqual([1, 2, 3].map((v) => ({ ok: true, value: v })));
    expect(order).toEqual([0, 1, 2]);
    expect(vi.getTimerCount()).toBe(0);
    b2.close();
  });
});
