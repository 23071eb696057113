import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, type MemberSnapshot } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { advance, codeOf, ending, hanging, OVERDUE_MS, StillClock } from './rig.js';

useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });
beforeEach(() => vi.setSystemTime(0));

function inFlight(pool: ClientPool<string>): number {
  return pool.members().reduce((sum: number, m: MemberSnapshot) => sum + m.inFlight, 0);
}


describe('backstop beside deadlines, hedges, heights, clocks that step', () => {
  it('a hedge whose attempt is given up by the backstop while the first attempt runs: the call still answers with the first', async () => {
    const clock = new StillClock();
    const pool = new ClientPool<string>({ clock, maxWait: 1_000, hedge: { delay: 50 } });
    pool.add('a', { name: 'a', maxInFlight: 1 });
    pool.add('b', { name: 'b', maxInFlight: 1 });
    const hb = hanging();
    // a busy for the whole test (round robin's first pick)
    const onB = pool.run(hb.fn, { hedge: false });
    const call = ending(pool.run((c) => new Promise<string>((r) => setTimeout(() => r(`first:${c}`), 20_000)), { hedge: { delay: 50 } }));
    await advance(10_000);
    expect(call.ok).toBeUndefined();
    await advance(10_000);
    expect(call).toMatchObject({ ok: true, value: 'first:b' });
    hb.release();
    await onB;
    expect(inFlight(pool)).toBe(0);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a clock that steps back 10 s during a client-token wait: still given up at maxWait + 5 s of timers', async () => {
    const clock = new StillClock();
    const pool = new ClientPool<string>({ clock, maxWait: 1_000 });
    pool.add('a', { name: 'a', limit: { rate: 1, per: 1_000, burst: 1 } });
    await pool.run(() => 'v1');
    const second = ending(pool.run(() => 'v2'));
    await advance(500);
    clock.time -= 10_000;
    await advance(5_499);
    expect(second.ok).toBeUndefined();
    await advance(1);
    expect({ code: codeOf(second.value), at: second.at }).toEqual({ code: 'ERR_RATE_LIMITED', at: 6_000 });
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a clock that moves with the timers: the client-token wait is served at the token, the backstop never fires', async () => {
    const pool = new ClientPool<string>({ clock: { now: () => Date.now() }, maxWait: 1_000 });
    pool.add('a', { name: 'a', limit: { rate: 1, per: 1_000, burst: 1 } });
    await pool.run(() => 'v1');
    const second = ending(pool.run(() => 'v2'));
    await advance(1_000);
    expect(second).toMatchObject({ ok: true, value: 'v2', at: 1_000 });
    expect(vi.getTimerCount()).toBe(0);
    await pool.close();
  });

  it('a minHeight wait on a still clock: HeightNotReachedError by maxWait + 5 s at the latest (observed: at maxWait), nothing armed', async () => {
    const clock = new StillClock();
    const pool = new ClientPool<string>({ clock, maxWait: 1_000 });
    pool.add('a', { name: 'a' });
    await pool.run((_c, call) => {
      call.reportHeight(10);
      return 'x';
    });
    const call = ending(pool.run(() => 'v', { minHeight: 11 }));
    await advance(6_000);
    expect(codeOf(call.value)).toBe('ERR_HEIGHT_NOT_REACHED');
    expect(call.at).toBeLessThanOrEqual(6_000);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('close() in a timer at the backstop ms, set before the wait: the waiter gets PoolClosedError; close resolves', async () => {
    const clock = new StillClock();
    const pool = new ClientPool<string>({ clock, maxWait: 1_000 });
    pool.add('a', { name: 'a', maxInFlight: 1 });
    const h = hanging();
    const first = ending(pool.run(h.fn));
    let closing: Promise<void> | undefined;
    setTimeout(() => {
      closing = pool.close();
    }, 1_000 + OVERDUE_MS);
    const second = ending(pool.run(() => 'v'));
    await advance(6_000);
    expect(codeOf(second.value)).toBe('ERR_POOL_CLOSED');
    h.release();
    await advance(0);
    await closing;
    expect(first.ok).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a retry whose second attempt waits for a slot on a still clock: the call ends by the backstop, typed, nothing in flight', async () => {
    const clock = new StillClock();
    const pool = new ClientPool<string>({ clock, maxWait: 1_000, retry: { attempts: 2, backoff: { initial: 1, max: 1, jitter: 'none' } } });
    pool.add('a', { name: 'a', maxInFlight: 1 });
    pool.add('b', { name: 'b', maxInFlight: 1 });
    const h = hanging();
    const onB = pool.run(h.fn, { retry: false });
    const call = ending(
      pool.run(() => {
        throw new Error('a fails');
      }),
    );
    await advance(7_000);
    expect(call.ok).toBe(false);
    expect(['ERR_CLIENT_CALL', 'ERR_CONCURRENCY_LIMITED']).toContain(codeOf(call.value));
    h.release();
    await onB;
    expect(inFlight(pool)).toBe(0);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a hedge waiting for a pool token is given up by the backstop while the first attempt runs: the call answers with the first', async () => {
    let takes = 0;
    const pool = new ClientPool<string>({
      maxWait: 1_000,
      limit: { take: () => (++takes === 1 ? Promise.resolve() : new Promise<void>(() => undefined)) },
    });
    pool.add('a', { name: 'a' });
    pool.add('b', { name: 'b' });
    const call = ending(pool.run((c) => new Promise<string>((r) => setTimeout(() => r(`first:${c}`), 20_000)), { hedge: { delay: 50 } }));
    await advance(10_000);
    expect(call.ok).toBeUndefined();
    await advance(10_000);
    expect(call).toMatchObject({ ok: true, value: 'first:a' });
    expect(inFlight(pool)).toBe(0);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an onRateLimit listener that throws when the pool-token backstop fires: the caller still gets RateLimitedError', async () => {
    const pool = new ClientPool<string>({ maxWait: 100, limit: { take: () => new Promise<void>(() => undefined) } });
    pool.add('a', { name: 'a' });
    let heard = 0;
    pool.onRateLimit(() => {
      heard++;
      throw new Error('listener');
    });
    const call = ending(pool.run(() => 'v'));
    await advance(5_100);
    expect({ code: codeOf(call.value), heard }).toEqual({ code: 'ERR_RATE_LIMITED', heard: 1 });
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});
