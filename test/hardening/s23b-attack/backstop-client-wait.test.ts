import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, type MemberSnapshot } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { advance, codeOf, ending, hanging, MAX, OVERDUE_MS, StillClock } from './rig.js';

// The wait for a client (maxInFlight, a client's own limit) on a clock that does not move: given up by the
// pool's timer at maxWait + 5 s (docs/call-pipeline.md "the pool also gives up every wait by a timer of its
// own, `maxWait` + 5 s after it began (none past the call's deadline)"), nothing left armed.
useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });
beforeEach(() => vi.setSystemTime(0));

function inFlight(pool: ClientPool<string>): number {
  return pool.members().reduce((sum: number, m: MemberSnapshot) => sum + m.inFlight, 0);
}

function capped(maxWait = 1_000, extra: Record<string, unknown> = {}): { pool: ClientPool<string>; clock: StillClock } {
  const clock = new StillClock();
  const pool = new ClientPool<string>({ clock, maxWait, ...extra });
  pool.add('a', { name: 'a', maxInFlight: 1 });
  return { pool, clock };
}

describe('wait for a slot (maxInFlight) on a still clock', () => {
  it('refused with ConcurrencyLimitedError at maxWait + 5 s exactly, not a ms before; nothing armed after', async () => {
    const { pool } = capped(1_000);
    const h = hanging();
    const first = pool.run(h.fn);
    const second = ending(pool.run(() => 'never'));
    await advance(1_000 + OVERDUE_MS - 1);
    expect(second.ok).toBeUndefined();
    await advance(1);
    expect({ ok: second.ok, code: codeOf(second.value), at: second.at }).toEqual({ ok: false, code: 'ERR_CONCURRENCY_LIMITED', at: 6_000 });
    h.release();
    await expect(first).resolves.toBe('held');
    expect(inFlight(pool)).toBe(0);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the slot freed before the backstop: served, its backstop timer cleared', async () => {
    const { pool } = capped(1_000);
    const h = hanging();
    const first = pool.run(h.fn);
    const second = ending(pool.run(() => 'second'));
    await advance(3_000);
    h.release();
    await advance(0);
    await first;
    expect(second).toMatchObject({ ok: true, value: 'second' });
    expect(vi.getTimerCount()).toBe(0);
    expect(inFlight(pool)).toBe(0);
    await pool.close();
  });

  for (const when of [0, 2_999, 5_999, 6_000] as const) {
    it(`caller abort at ${when} ms: AbortedError (or the backstop's refusal once past it), no timer left`, async () => {
      const { pool } = capped(1_000);
      const h = hanging();
      const first = pool.run(h.fn);
      const ac = new AbortController();
      const second = ending(pool.run(() => 'never', { signal: ac.signal }));
      await advance(when);
      ac.abort(new Error('bye'));
      await advance(0);
      expect(second.ok).toBe(false);
      expect(codeOf(second.value)).toBe(when >= 6_000 ? 'ERR_CONCURRENCY_LIMITED' : 'ERR_ABORTED');
      h.release();
      await first;
      await pool.close();
      expect(vi.getTimerCount()).toBe(0);
      expect(inFlight(pool)).toBe(0);
    });
  }

  for (const how of ['close', 'destroy', 'close-signal'] as const) {
    for (const when of [10, 5_999, 6_000]) {
      it(`${how} at ${when} ms while one waits: the waiter ends (PoolClosedError before the backstop), close resolves, nothing armed`, async () => {
        const { pool } = capped(1_000);
        const h = hanging();
        const first = ending(pool.run(h.fn));
        const second = ending(pool.run(() => 'never'));
        await advance(when);
        const reason = new Error('shutdown');
        let closed: Promise<void>;
        if (how === 'close') closed = pool.close();
        else if (how === 'destroy') closed = pool.destroy(reason);
        else {
          const ac = new AbortController();
          closed = pool.close({ signal: ac.signal });
          ac.abort(reason);
        }
        await advance(0);
        expect(second.ok).toBe(false);
        expect(codeOf(second.value)).toBe(when >= 6_000 ? 'ERR_CONCURRENCY_LIMITED' : 'ERR_POOL_CLOSED');
        if (how === 'destroy' && when < 6_000) expect((second.value as Error).cause).toBe(reason);
        h.release();
        await advance(0);
        await closed;
        expect(first.ok === true || codeOf(first.value) === 'ERR_POOL_CLOSED').toBe(true);
        expect(vi.getTimerCount()).toBe(0);
      });
    }
  }

  it('a deadline cuts the wait: DeadlineExceededError at the deadline (no grace), cause the refusal', async () => {
    const { pool } = capped(10_000);
    const h = hanging();
    const first = pool.run(h.fn);
    const second = ending(pool.run(() => 'never', { deadline: 300 }));
    await advance(299);
    expect(second.ok).toBeUndefined();
    await advance(1);
    expect({ ok: second.ok, code: codeOf(second.value), at: second.at }).toEqual({ ok: false, code: 'ERR_DEADLINE_EXCEEDED', at: 300 });
    h.release();
    await first;
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('maxWait 0: refused at once, no timer', async () => {
    const { pool } = capped(0);
    const h = hanging();
    const first = pool.run(h.fn);
    const timers = vi.getTimerCount();
    const second = ending(pool.run(() => 'never'));
    await advance(0);
    expect({ ok: second.ok, code: codeOf(second.value), at: second.at }).toEqual({ ok: false, code: 'ERR_CONCURRENCY_LIMITED', at: 0 });
    expect(vi.getTimerCount()).toBe(timers);
    h.release();
    await first;
    await pool.close();
  });

  it('maxWait 2^31-1 - 5 000: one backstop timer per waiter; 2^31-1 - 4 999: none (past the longest timer)', async () => {
    for (const [maxWait, extra] of [
      [MAX - OVERDUE_MS, 1],
      [MAX - OVERDUE_MS + 1, 0],
    ] as const) {
      const { pool } = capped(maxWait);
      const h = hanging();
      const first = pool.run(h.fn);
      await advance(0);
      const before = vi.getTimerCount();
      const second = ending(pool.run(() => 'never'));
      await advance(0);
      // the queue's own timer (its deadline) + the backstop, or the queue's alone
      expect({ maxWait, timers: vi.getTimerCount() - before }).toEqual({ maxWait, timers: 1 + extra });
      await pool.destroy();
      h.release();
      await first.catch(() => undefined);
      expect(second.ok).toBe(false);
      expect(vi.getTimerCount()).toBe(0);
    }
  });

  it('priority: a low call is shed at once, a high one waits and is given up by the backstop, ahead of normal ones', async () => {
    const { pool } = capped(1_000);
    const h = hanging();
    const first = pool.run(h.fn);
    const normal = ending(pool.run(() => 'n'));
    const high = ending(pool.run(() => 'h', { priority: 'high' }));
    const low = ending(pool.run(() => 'l', { priority: 'low' }));
    await advance(0);
    expect(codeOf(low.value)).toBe('ERR_SHED');
    await advance(6_000);
    expect([codeOf(normal.value), codeOf(high.value)]).toEqual(['ERR_CONCURRENCY_LIMITED', 'ERR_CONCURRENCY_LIMITED']);
    h.release();
    await first;
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a high call queued ahead and then served on release; the normal one still given up at its own backstop', async () => {
    const { pool } = capped(1_000);
    const h = hanging();
    const first = pool.run(h.fn);
    const normal = ending(pool.run(() => 'n'));
    await advance(2_000);
    const high = ending(pool.run(() => 'h', { priority: 'high' }));
    await advance(1_000);
    h.release();
    await advance(0);
    await advance(1);
    await first;
    expect(high).toMatchObject({ ok: true, value: 'h' });
    // the high call was served first; then the slot is free again, and the normal one is served too
    expect(normal).toMatchObject({ ok: true, value: 'n' });
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('the head given up by its backstop: those behind keep their place and their own backstops, and are served in order once a slot frees', async () => {
    const { pool } = capped(1_000);
    const h = hanging();
    const first = pool.run(h.fn);
    const order: string[] = [];
    const w1 = ending(pool.run(() => order.push('w1')));
    await advance(3_000);
    const w2 = ending(pool.run(() => order.push('w2')));
    await advance(2_000);
    const w3 = ending(pool.run(() => order.push('w3'), { priority: 'high' }));
    await advance(1_000);
    expect(codeOf(w1.value)).toBe('ERR_CONCURRENCY_LIMITED');
    expect([w2.ok, w3.ok]).toEqual([undefined, undefined]);
    await advance(1_000);
    h.release();
    await advance(1);
    await first;
    expect(order).toEqual(['w3', 'w2']);
    expect([w2.ok, w3.ok]).toEqual([true, true]);
    expect(vi.getTimerCount()).toBe(0);
    expect(inFlight(pool)).toBe(0);
    await pool.close();
  });

  it("a run's own maxWait (200): its backstop at 5 200", async () => {
    const { pool } = capped(1_000);
    const h = hanging();
    const first = pool.run(h.fn);
    const second = ending(pool.run(() => 'never', { maxWait: 200 }));
    await advance(5_199);
    expect(second.ok).toBeUndefined();
    await advance(1);
    expect({ code: codeOf(second.value), at: second.at }).toEqual({ code: 'ERR_CONCURRENCY_LIMITED', at: 5_200 });
    h.release();
    await first;
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('client own limit on a still clock: RateLimitedError at maxWait + 5 s; onRateLimit heard once, rejected', async () => {
    const clock = new StillClock();
    const pool = new ClientPool<string>({ clock, maxWait: 1_000 });
    pool.add('a', { name: 'a', limit: { rate: 1, per: 500, burst: 1 } });
    const seen: unknown[] = [];
    pool.onRateLimit((e) => seen.push(e));
    await pool.run(() => 'v1');
    const second = ending(pool.run(() => 'v2'));
    await advance(5_999);
    expect(second.ok).toBeUndefined();
    await advance(1);
    expect({ ok: second.ok, code: codeOf(second.value), at: second.at }).toEqual({ ok: false, code: 'ERR_RATE_LIMITED', at: 6_000 });
    expect(seen).toEqual([{ scope: 'client', client: undefined, method: 'unknown', waitedMs: 0, rejected: true }]);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  for (const act of ['throw', 'close', 'destroy', 'run'] as const) {
    it(`an onRateLimit listener that does '${act}' when the backstop fires: every waiter ends, close resolves, no timer`, async () => {
      const { pool } = capped(1_000);
      const h = hanging();
      const first = ending(pool.run(h.fn));
      const nested: Ending[] = [];
      let closing: Promise<void> | undefined;
      // maxInFlight refusals are not rate-limit events: use a client limit instead for this listener
      const clock = new StillClock();
      const pool2 = new ClientPool<string>({ clock, maxWait: 1_000 });
      pool2.add('a', { name: 'a', limit: { rate: 1, per: 500, burst: 1 } });
      pool2.onRateLimit(() => {
        if (act === 'throw') throw new Error('listener');
        if (act === 'close') closing ??= pool2.close();
        if (act === 'destroy') closing ??= pool2.destroy(new Error('in listener'));
        if (act === 'run' && nested.length < 3) nested.push(ending(pool2.run(() => 'nested')));
      });
      await pool2.run(() => 'v1');
      const w1 = ending(pool2.run(() => 'w1'));
      const w2 = ending(pool2.run(() => 'w2'));
      await advance(7_000);
      expect([w1.ok, w2.ok]).toEqual([false, false]);
      if (act === 'run') {
        await advance(20_000);
        for (const n of nested) expect(n.ok).toBe(false);
      }
      await (closing ?? pool2.close());
      h.release();
      await advance(0);
      expect(first.ok).toBe(true);
      await pool.close();
      expect(vi.getTimerCount()).toBe(0);
    });
  }
});

type Ending = ReturnType<typeof ending>;
