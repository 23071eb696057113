import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ClientPool, type Limiter, type MemberSnapshot, type TakeOptions } from '../../../src/index.js';
import { useUnhandledGuard } from '../../helpers/unhandled.js';
import { advance, codeOf, DID_NOT_ANSWER, ending, MAX, OVERDUE_MS, StillClock } from './rig.js';

// The wait for a pool `limit` token (a custom limiter's `take`, or the pool's own bucket on a still clock):
// given up at maxWait + 5 s with RateLimitedError 'a limiter that did not answer within maxWait', and the
// limiter's wait signal aborts so that it drops the waiter (docs/call-pipeline.md, "How a call flows").
useUnhandledGuard({ time: 'fake-timers', quietWarnings: true });
beforeEach(() => vi.setSystemTime(0));

interface Take {
  n: number;
  options: TakeOptions | undefined;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** A limiter whose takes answer only when the test says (or never). */
function manualLimiter(): Limiter & { takes: Take[]; closed: number } {
  const takes: Take[] = [];
  const limiter = {
    takes,
    closed: 0,
    take(n: number, options?: TakeOptions): Promise<void> {
      return new Promise<void>((resolve, reject) => takes.push({ n, options, resolve, reject }));
    },
    close(): void {
      limiter.closed++;
    },
  };
  return limiter;
}

function totals(pool: ClientPool<string>): { inFlight: number; successes: number; failures: number; refused: number; cancelled: number } {
  const t = { inFlight: 0, successes: 0, failures: 0, refused: 0, cancelled: 0 };
  for (const m of pool.members() as readonly MemberSnapshot[]) {
    t.inFlight += m.inFlight;
    t.successes += m.successes;
    t.failures += m.failures;
    t.refused += m.refused;
    t.cancelled += m.cancelled;
  }
  return t;
}

describe('custom pool limiter that never answers', () => {
  it('given up at maxWait + 5 s (not a ms before), RateLimitedError "did not answer"; the limiter signal aborts with that error', async () => {
    const limiter = manualLimiter();
    const pool = new ClientPool<string>({ limit: limiter, maxWait: 1_000 });
    pool.add('a', { name: 'a' });
    const fn = vi.fn(() => 'v');
    const call = ending(pool.run(fn));
    await advance(5_999);
    expect(call.ok).toBeUndefined();
    expect(limiter.takes[0]!.options!.signal!.aborted).toBe(false);
    await advance(1);
    expect({ ok: call.ok, code: codeOf(call.value), at: call.at, msg: (call.value as Error).message.includes(DID_NOT_ANSWER) }).toEqual({ ok: false, code: 'ERR_RATE_LIMITED', at: 6_000, msg: true });
    const signal = limiter.takes[0]!.options!.signal!;
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(call.value);
    // the pool passes what is left of maxWait on its clock (performance.now(), real here): just under 1 000
    expect(limiter.takes[0]!.options!.maxWait).toBeGreaterThan(900);
    expect(limiter.takes[0]!.options!.maxWait).toBeLessThanOrEqual(1_000);
    expect(fn).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
    await pool.close();
    expect(limiter.closed).toBe(1);
  });

  for (const late of ['resolve', 'reject'] as const) {
    it(`a late ${late} after the backstop changes nothing: fn not called, counters unchanged, no unhandled rejection`, async () => {
      const limiter = manualLimiter();
      const pool = new ClientPool<string>({ limit: limiter, maxWait: 100 });
      pool.add('a', { name: 'a' });
      const events: unknown[] = [];
      pool.onRateLimit((e) => events.push(e));
      const fn = vi.fn(() => 'v');
      const call = ending(pool.run(fn));
      await advance(5_100);
      expect(codeOf(call.value)).toBe('ERR_RATE_LIMITED');
      if (late === 'resolve') limiter.takes[0]!.resolve();
      else limiter.takes[0]!.reject(new Error('late'));
      await advance(10);
      expect(fn).not.toHaveBeenCalled();
      expect(totals(pool)).toEqual({ inFlight: 0, successes: 0, failures: 0, refused: 0, cancelled: 0 });
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ scope: 'pool', rejected: true });
      await pool.close();
      expect(vi.getTimerCount()).toBe(0);
    });
  }

  it('an answer at the backstop ms, its timer set first: served (it answered before the pool gave up)', async () => {
    const pool = new ClientPool<string>({
      maxWait: 1_000,
      limit: { take: () => new Promise<void>((resolve) => setTimeout(resolve, 1_000 + OVERDUE_MS)) },
    });
    pool.add('a', { name: 'a' });
    const call = ending(pool.run(() => 'v'));
    await advance(6_000);
    expect(call).toMatchObject({ ok: true, value: 'v', at: 6_000 });
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a take that throws synchronously: CallbackError with the original as cause', async () => {
    const boom = new Error('boom');
    const pool = new ClientPool<string>({ limit: { take: () => { throw boom; } } });
    pool.add('a', { name: 'a' });
    const call = ending(pool.run(() => 'v'));
    await advance(0);
    expect(codeOf(call.value)).toBe('ERR_CALLBACK');
    expect((call.value as Error).cause).toBe(boom);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a deadline cuts the wait: DeadlineExceededError at the deadline, the limiter told to drop (signal aborted)', async () => {
    const limiter = manualLimiter();
    const pool = new ClientPool<string>({ limit: limiter, maxWait: 10_000 });
    pool.add('a', { name: 'a' });
    const call = ending(pool.run(() => 'v', { deadline: 250 }));
    await advance(249);
    expect(call.ok).toBeUndefined();
    await advance(1);
    expect({ ok: call.ok, code: codeOf(call.value), at: call.at }).toEqual({ ok: false, code: 'ERR_DEADLINE_EXCEEDED', at: 250 });
    expect(limiter.takes[0]!.options!.maxWait).toBeGreaterThan(200);
    expect(limiter.takes[0]!.options!.maxWait).toBeLessThanOrEqual(250);
    expect(limiter.takes[0]!.options!.signal!.aborted).toBe(true);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  for (const [maxWait, backstop] of [
    [MAX - OVERDUE_MS, true],
    [MAX - OVERDUE_MS + 1, false],
  ] as const) {
    it(`maxWait ${maxWait}: ${backstop ? 'a' : 'no'} backstop timer`, async () => {
      const limiter = manualLimiter();
      const pool = new ClientPool<string>({ limit: limiter, maxWait });
      pool.add('a', { name: 'a' });
      const before = vi.getTimerCount();
      const call = ending(pool.run(() => 'v'));
      await advance(0);
      expect(vi.getTimerCount() - before).toBe(backstop ? 1 : 0);
      await pool.destroy(new Error('end'));
      await advance(0);
      expect(codeOf(call.value)).toBe('ERR_POOL_CLOSED');
      expect(limiter.takes[0]!.options!.signal!.aborted).toBe(true);
      expect(vi.getTimerCount()).toBe(0);
    });
  }

  for (const how of ['close', 'destroy', 'abort'] as const) {
    it(`${how} during the wait: the wait ends at once, limiter signal aborted, backstop cleared`, async () => {
      const limiter = manualLimiter();
      const pool = new ClientPool<string>({ limit: limiter, maxWait: 1_000 });
      pool.add('a', { name: 'a' });
      const ac = new AbortController();
      const call = ending(pool.run(() => 'v', { signal: ac.signal }));
      await advance(3_000);
      const closing = how === 'close' ? pool.close() : how === 'destroy' ? pool.destroy(new Error('x')) : undefined;
      if (how === 'abort') ac.abort(new Error('caller'));
      await advance(0);
      expect(codeOf(call.value)).toBe(how === 'abort' ? 'ERR_ABORTED' : 'ERR_POOL_CLOSED');
      expect(limiter.takes[0]!.options!.signal!.aborted).toBe(true);
      await (closing ?? pool.close());
      expect(vi.getTimerCount()).toBe(0);
    });
  }

  it('retries: the backstop refusal is not retried (ERR_RATE_LIMITED is the pool\'s own refusal)', async () => {
    const limiter = manualLimiter();
    const pool = new ClientPool<string>({ limit: limiter, maxWait: 100, retry: { attempts: 3, backoff: { initial: 1, max: 1 } } });
    pool.add('a', { name: 'a' });
    pool.add('b', { name: 'b' });
    const call = ending(pool.run(() => 'v'));
    await advance(5_100);
    expect(codeOf(call.value)).toBe('ERR_RATE_LIMITED');
    expect(limiter.takes).toHaveLength(1);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a hedge waiting for a token is dropped when the first attempt wins: its limiter signal aborts, nothing armed', async () => {
    let takes = 0;
    const pending: TakeOptions[] = [];
    const pool = new ClientPool<string>({
      maxWait: 1_000,
      hedge: { delay: 50 },
      limit: {
        take: (_n: number, o?: TakeOptions) => {
          takes++;
          if (takes === 1) return Promise.resolve();
          pending.push(o!);
          return new Promise<void>(() => undefined);
        },
      },
    });
    pool.add('a', { name: 'a' });
    pool.add('b', { name: 'b' });
    const call = ending(pool.run(() => new Promise<string>((r) => setTimeout(() => r('first'), 200))));
    await advance(200);
    expect(call).toMatchObject({ ok: true, value: 'first' });
    expect(pending).toHaveLength(1);
    expect(pending[0]!.signal!.aborted).toBe(true);
    expect(totals(pool).inFlight).toBe(0);
    await advance(10_000);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('coalesced callers share one waiting flight: all refused at the backstop; one caller aborting leaves the other waiting', async () => {
    const limiter = manualLimiter();
    const pool = new ClientPool<string>({ limit: limiter, maxWait: 1_000 });
    pool.add('a', { name: 'a' });
    const ac = new AbortController();
    const c1 = ending(pool.run(() => 'v', { coalesce: 'k', signal: ac.signal }));
    const c2 = ending(pool.run(() => 'v', { coalesce: 'k' }));
    await advance(100);
    expect(limiter.takes).toHaveLength(1);
    ac.abort();
    await advance(0);
    expect(codeOf(c1.value)).toBe('ERR_ABORTED');
    expect(c2.ok).toBeUndefined();
    await advance(5_900);
    expect({ code: codeOf(c2.value), at: c2.at }).toEqual({ code: 'ERR_RATE_LIMITED', at: 6_000 });
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('quorum whose attempts wait for a token that never comes: rejects by the backstop, nothing armed, inFlight 0', async () => {
    const limiter = manualLimiter();
    const pool = new ClientPool<string>({ limit: limiter, maxWait: 1_000 });
    for (const n of ['a', 'b', 'c']) pool.add(n, { name: n });
    const q = ending(pool.quorum(() => 'v', { of: 3, agree: 2 }));
    await advance(6_000);
    expect(q.ok).toBe(false);
    expect(['ERR_RATE_LIMITED', 'ERR_QUORUM']).toContain(codeOf(q.value));
    expect(totals(pool).inFlight).toBe(0);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("the pool's own bucket on a still clock", () => {
  it('the waiter given up at maxWait + 5 s is dropped by the bucket: once the clock moves, the next call takes the token at once', async () => {
    const clock = new StillClock();
    const pool = new ClientPool<string>({ clock, maxWait: 1_000, limit: { rate: 1, per: 1_000, burst: 1 } });
    pool.add('a', { name: 'a' });
    await pool.run(() => 'v1');
    const second = ending(pool.run(() => 'v2'));
    await advance(6_000);
    expect({ code: codeOf(second.value), at: second.at }).toEqual({ code: 'ERR_RATE_LIMITED', at: 6_000 });
    expect((second.value as Error).message).toContain(DID_NOT_ANSWER);
    clock.time += 1_000;
    const third = ending(pool.run(() => 'v3'));
    await advance(0);
    expect(third).toMatchObject({ ok: true, value: 'v3' });
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });

});

describe('a client shared limiter (waited on after the pick)', () => {
  it('never answers: given up at maxWait + 5 s, the client released (inFlight 0), a late answer calls nothing', async () => {
    const limiter = manualLimiter();
    const pool = new ClientPool<string>({ maxWait: 500 });
    pool.add('a', { name: 'a', limit: limiter });
    const fn = vi.fn(() => 'v');
    const call = ending(pool.run(fn));
    await advance(10);
    expect(totals(pool).inFlight).toBe(1);
    await advance(5_490);
    expect({ code: codeOf(call.value), at: call.at }).toEqual({ code: 'ERR_RATE_LIMITED', at: 5_500 });
    expect(totals(pool).inFlight).toBe(0);
    limiter.takes[0]!.resolve();
    await advance(10);
    expect(fn).not.toHaveBeenCalled();
    expect(totals(pool)).toMatchObject({ inFlight: 0, successes: 0, failures: 0 });
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});

